using System.Reflection;
using TorchSharp;
using Xunit.Sdk;

// Every test starts with libtorch on one intra-op thread: results are bit-reproducible on CPU only
// with one thread, and a test must not inherit whatever thread count the previous one left.
[assembly: SliceLearning.Backbones.Tests.OneTorchThread]

namespace SliceLearning.Backbones.Tests;

/// <summary>Sets libtorch to one intra-op thread before each test (applied to the whole assembly).</summary>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
internal sealed class OneTorchThreadAttribute : BeforeAfterTestAttribute
{
    public override void Before(MethodInfo methodUnderTest) => torch.set_num_threads(1);
}
