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
        Assert.Contains("Moderate - One-shot", text);   // an iterative strategy against One-shot (Table 2's ordering)
        Assert.DoesNotContain("One-shot - One-shot", text);
        Assert.Contains("Unusable fits:", text);
        Assert.Matches(@"Total: \d+ trainings", text);
    }

    [Fact]
    public async Task Sample_EqualFinalSizes_AreTrainedOnce()
    {
        // Basic setting: Water filling buys the same amounts as Uniform, so its data are the same and
        // its final models are not trained again (2 final trainings each for Original and Uniform).
        var output = new StringWriter();
        int code = await Experiment.RunAsync(["--tiny", "--setting", "basic", "--methods", "Original,Uniform,Water filling", "--final-runs", "2"], output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("Total: 4 trainings", text);
        Assert.Contains("mean of 2 training(s) per method and seed", text);
    }

    [Fact]
    public async Task OracleStudy_TrainsEveryShare_AndSplitsTheBudgetBetweenHardAndEasyClasses()
    {
        var output = new StringWriter();
        int code = await Experiment.RunAsync(["--tiny", "--setting", "basic", "--study", "oracle", "--seeds", "2", "--hard-shares", "0,0.5,1", "--workers", "2"], output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        // --tiny: budget 60 over 5 hard and 5 easy classes.
        Assert.Matches(@"│ 0\.00\s+│ 0 / 12\s", text);
        Assert.Matches(@"│ 0\.50\s+│ 6 / 6\s", text);
        Assert.Matches(@"│ 1\.00\s+│ 12 / 0\s", text);
        Assert.Contains("Total: 6 trainings", text);   // 2 seeds x 3 shares x 1 training
    }

    [Fact]
    public async Task FitErrorStudy_FitsEverySubsetOfPointsAndRepeats()
    {
        var output = new StringWriter();
        int code = await Experiment.RunAsync(["--tiny", "--setting", "basic", "--study", "fit-error", "--points", "5", "--repeats", "2", "--final-runs", "2"], output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Contains("target = sizes + uniform share of 60 (11, 11,", text);
        // K in {3, 5} x R in {1, 2} x both fits; R = 1 has 2 combinations of the repeats, R = 2 one: 10 slices each.
        Assert.Matches(@"│ 3\s+│ 1 │ independent\s+│ 3\s+│ 20 ", text);
        Assert.Matches(@"│ 3\s+│ 1 │ shared\s+│ 3\s+│ 20 ", text);
        Assert.Matches(@"│ 5\s+│ 2 │ independent\s+│ 10\s+│ 10 ", text);
        Assert.Matches(@"│ 5\s+│ 2 │ shared\s+│ 10\s+│ 10 ", text);
        Assert.Contains("slices that started with 5 examples", text);   // basic: one start size
        Assert.Contains("Total: 12 trainings", text);   // 5 points x 2 repeats + 2 at the target
    }

    [Fact]
    public async Task Sample_CurveFit_DefaultsToSharedExponent_AndIndependentIsSelectable()
    {
        var output = new StringWriter();
        int code = await Experiment.RunAsync(["--tiny", "--setting", "bad-uniform", "--methods", "Uniform,Moderate", "--no-plots"], output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Matches(@"curve\s+fit\s+SharedExponent", text);
        Assert.Contains("Median a", text);

        output = new StringWriter();
        // bad-uniform: two start sizes (3 and 10 in --tiny); the 3-example slices have fewer distinct subset sizes than K.
        code = await Experiment.RunAsync(["--tiny", "--setting", "bad-uniform", "--study", "fit-error", "--points", "5", "--repeats", "2", "--final-runs", "1", "--curve-fit", "independent"], output);
        text = output.ToString();
        Assert.True(code == 0, text);
        Assert.Matches(@"curve\s+fit\s+Independent", text);
        Assert.Matches(@"│ 5\s+│ 2 │ shared\s+│ 10\s+│ 10 ", text);
        Assert.Contains("slices that started with 3 / 10 examples", text);
    }

    [Theory]
    [InlineData("--study", "nope", "Unknown --study nope")]
    [InlineData("--hard-shares", "0,1.5", "--hard-shares must be values in [0, 1]")]
    [InlineData("--final-runs", "0", "--final-runs must be at least 1")]
    [InlineData("--curve-fit", "pooled", "Unknown --curve-fit pooled; use independent")]
    public async Task Sample_BadStudyOptions_FailWithAClearMessage(string option, string value, string message)
    {
        var output = new StringWriter();
        Assert.Equal(1, await Experiment.RunAsync([option, value], output));
        Assert.Contains(message, output.ToString());
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
