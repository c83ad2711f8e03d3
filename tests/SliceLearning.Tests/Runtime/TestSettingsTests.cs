using TorchSharp;

namespace SliceLearning.Tests.Runtime;

/// <summary>TestAssembly.cs sets one torch thread before every test; whichever of these runs second would see 2 without it.</summary>
[Collection("Sequential")]
public sealed class TestSettingsTests
{
    [Fact]
    public void EachTestStartsOnOneTorchThread_A()
    {
        Assert.Equal(1, torch.get_num_threads());
        torch.set_num_threads(2);
    }

    [Fact]
    public void EachTestStartsOnOneTorchThread_B()
    {
        Assert.Equal(1, torch.get_num_threads());
        torch.set_num_threads(2);
    }
}
