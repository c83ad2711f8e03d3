using FashionMnistAcquisition;
using SliceLearning.Backbones.Simple;
using SliceLearning.Models;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Samples;

/// <summary>
/// The Slice Tuner sample end to end on a tiny subset of Fashion-MNIST (installed by
/// scripts/data/fashion-mnist.sh, which the CI setup runs): curves through SliceTrainer, every
/// method, the tables.
/// </summary>
[Collection("Sequential")]
public sealed class SliceTunerSampleTests
{
    public SliceTunerSampleTests() => ComputeDevice.SetCpuThreads(1);

    [Fact]
    public async Task Sample_TinyRun_TrainsEveryMethodAndPrintsTheTables()
    {
        var output = new StringWriter();
        int code = await Experiment.RunAsync(["--tiny", "--setting", "bad-uniform", "--workers", "2", "--seeds", "2"], output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        foreach (var method in new[] { "Original", "Uniform", "Water filling", "One-shot", "Moderate" }) Assert.Contains(method, text);
        Assert.Contains("Median R²", text);
        Assert.Contains("Moderate - Uniform", text);   // the paired differences over the two seeds
        Assert.Contains("Unusable fits:", text);
        Assert.Matches(@"Total: \d+ trainings", text);
    }

    [Fact]
    public async Task Sample_UnknownSetting_FailsWithTheOptionsList()
    {
        var output = new StringWriter();
        Assert.Equal(1, await Experiment.RunAsync(["--setting", "nope"], output));
        Assert.Contains("Unknown --setting nope", output.ToString());
    }

    [Fact]
    public void SmallCnn_TakesFlatOrImageInput_AndTrainsInAVanillaModel()
    {
        torch.manual_seed(2);
        using var cnn = new SmallCnnBackbone();
        Assert.Equal(64L, cnn.OutputWidth);
        using (no_grad())
        {
            using var flat = cnn.call(rand(3, 784));
            Assert.Equal(new long[] { 3, 64 }, flat.shape);
            using var image = cnn.call(rand(2, 1, 28, 28));
            Assert.Equal(new long[] { 2, 64 }, image.shape);
        }
        Assert.Throws<ArgumentException>(() => cnn.call(rand(2, 100)));
        using var model = VanillaModel.Create(new SmallCnnBackbone(), 10);
        model.Loss(rand(4, 784), tensor(new long[] { 0, 1, 2, 3 }), ones(4, 1)).backward();
        Assert.All(model.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }
}
