using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace SliceLearning.Benchmarks;

/// <summary>
/// The short job of the training-step and epoch benchmarks (1 launch, 3 warm-up and 8 measured
/// iterations), so one run measures every case in a few minutes.
/// </summary>
public sealed class ShortJobConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public ShortJobConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8).WithId("short"));
        WithOptions(ConfigOptions.DisableOptimizationsValidator);
    }
}
