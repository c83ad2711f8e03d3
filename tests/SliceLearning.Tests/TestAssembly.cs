using System.Reflection;
using TorchSharp;
using Xunit.Sdk;

// Every test starts with libtorch on one intra-op thread: results are bit-reproducible on CPU only
// with one thread, and a test must not inherit whatever thread count the previous one left.
[assembly: SliceLearning.Tests.OneTorchThread]

// Property tests draw from one fixed seed, so a run is repeatable and a failure replays as it
// happened: FsCheck's failure message names this seed and the shrunk arguments. To explore other
// inputs locally, change the seed (two unsigned integers; the second one odd).
[assembly: FsCheck.Xunit.Properties(Replay = SliceLearning.Tests.OneTorchThreadAttribute.FsCheckReplay)]

namespace SliceLearning.Tests;

/// <summary>Sets libtorch to one intra-op thread before each test (applied to the whole assembly).</summary>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
internal sealed class OneTorchThreadAttribute : BeforeAfterTestAttribute
{
    /// <summary>The FsCheck seed of every property test in this assembly.</summary>
    public const string FsCheckReplay = "(20261207,1)";

    public override void Before(MethodInfo methodUnderTest) => torch.set_num_threads(1);
}
