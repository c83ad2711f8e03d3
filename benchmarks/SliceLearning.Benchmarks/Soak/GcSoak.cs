using System.Diagnostics;
using SliceLearning.Models;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks.Soak;

/// <summary>What a soak run did.</summary>
/// <param name="Fits">Completed fits (each: train, predict, evaluate, dispose).</param>
/// <param name="Steps">Optimizer steps over all fits.</param>
/// <param name="ForcedCollections">Full garbage collections the collector thread forced meanwhile.</param>
/// <param name="Elapsed">Wall time.</param>
internal sealed record SoakResult(int Fits, long Steps, long ForcedCollections, TimeSpan Elapsed);

/// <summary>
/// Trains small SRAM models over and over through the public API (SliceTrainer with Adam, AdamW and SGD
/// in turn, then Predict and Evaluate) while another thread forces full garbage collections
/// back to back. A temporary TorchSharp Scalar anywhere on that path is eventually finalized while
/// libtorch reads it, which fails a step ("toFloat", "Unknown scalar type") or crashes the process.
/// </summary>
internal static class GcSoak
{
    private const int TrainRows = 256, ValidationRows = 128, BatchSize = 32, Epochs = 2;

    private static readonly SliceSet<float[]> Slices = SliceSet.For<float[]>()
        .Add("disc_a", p => InDisc(p, -0.45, 0.45))
        .Add("disc_b", p => InDisc(p, 0.5, -0.5))
        .Build();

    /// <summary>Runs fits until <paramref name="keepGoing"/>(fits done, elapsed) is false.</summary>
    public static SoakResult Run(Func<int, TimeSpan, bool> keepGoing, IProgress<SoakResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keepGoing);
        torch.set_num_threads(1);
        using var train = Dataset(TrainRows, seed: 1);
        using var validation = Dataset(ValidationRows, seed: 2);
        long collections = 0;
        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);
            }
        }) { IsBackground = true, Name = "soak-gc" };
        var clock = Stopwatch.StartNew();
        int fits = 0;
        long steps = 0, stepsPerFit = Epochs * ((TrainRows + BatchSize - 1) / BatchSize);
        OptimizerOptions[] optimizers = { OptimizerOptions.Adam(0.01), OptimizerOptions.AdamW(0.01), OptimizerOptions.Sgd(0.05, momentum: 0.9, weightDecay: 1e-4) };
        collector.Start();
        try
        {
            while (keepGoing(fits, clock.Elapsed))
            {
                cancellationToken.ThrowIfCancellationRequested();
                torch.manual_seed(fits);
                using (var model = SliceAwareModel.Create(
                    nn.Sequential(nn.Linear(2, 13), nn.ReLU(), nn.Linear(13, 13), nn.ReLU()), 13, 2, Slices, o => o.ExpertSize = 8))
                {
                    SliceTrainer.For(model)
                        .WithData(train, validation)
                        .WithEpochs(Epochs).WithBatchSize(BatchSize).WithSeed(fits)
                        .WithOptimizer(optimizers[fits % optimizers.Length])
                        .Fit(cancellationToken);
                    _ = model.Predict(validation.Features);
                    _ = model.Evaluate(validation);
                }
                fits++;
                steps += stepsPerFit;
                progress?.Report(new SoakResult(fits, steps, Interlocked.Read(ref collections), clock.Elapsed));
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
        return new SoakResult(fits, steps, Interlocked.Read(ref collections), clock.Elapsed);
    }

    private static bool InDisc(float[] p, double x, double y) => (p[0] - x) * (p[0] - x) + (p[1] - y) * (p[1] - y) < 0.04;

    private static SliceDataset Dataset(int rows, int seed)
    {
        var random = new Random(seed);
        var points = Enumerable.Range(0, rows).Select(_ => new[] { (float)(random.NextDouble() * 2 - 1), (float)(random.NextDouble() * 2 - 1) }).ToArray();
        return SliceDataset.From(points, p => p, p => (p[0] + p[1] > 0) ^ (InDisc(p, -0.45, 0.45) || InDisc(p, 0.5, -0.5)) ? 1 : 0, Slices);
    }
}
