using SliceLearning.Data.Synthetic;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Models.Baselines;

/// <summary>One seed of the sample's experiment (a) with its default settings: the paper's 2-slice task, SRAM vs VANILLA.</summary>
[Collection("Sequential")]
public sealed class SyntheticExperimentTests
{
    private static SliceDataset Dataset(SyntheticSliceData data, SliceLearning.Slicing.SliceMatrix slices) =>
        new(torch.tensor(data.FeatureArray(), new long[] { data.Count, 2 }), torch.tensor(data.LabelArray()), slices);

    private static SliceReport TrainAndEvaluate(ITrainableModel model, SliceDataset train, SliceDataset test, int seed)
    {
        SliceTrainer.For(model).WithData(train).WithEpochs(25).WithBatchSize(64).WithOptimizer(OptimizerOptions.Adam(0.01)).WithSeed(seed).Fit();
        var (probabilities, classes) = model.Predict(test.Features);
        probabilities.Dispose();
        using var labels = test.Labels.to_type(ScalarType.Int32);
        return SliceReport.Create(test.Slices, labels.data<int>().ToArray(), classes, 2, new SliceReportOptions { BootstrapResamples = 0 });
    }

    [Fact]
    public void Sram_BeatsVanilla_OnTheSlices_OfThePapersTwoSliceTask()
    {
        ComputeDevice.SetCpuThreads(1);
        const int seed = 1;
        var generator = new SyntheticSliceGenerator();
        var splits = generator.GenerateSplits(5000, 2000, 5000, seed);
        using var train = Dataset(splits.Train, splits.Train.SfSlices);   // trained on noisy SFs
        using var test = Dataset(splits.Test, splits.Test.TrueSlices);    // scored on the true slices
        static nn.Module<Tensor, Tensor> Backbone() => nn.Sequential(nn.Linear(2, 13), nn.ReLU(), nn.Linear(13, 13), nn.ReLU());

        torch.manual_seed(seed);
        using var vanilla = VanillaModel.Create(Backbone(), 13, 2);
        var v = TrainAndEvaluate(vanilla, train, test, seed);
        torch.manual_seed(seed);
        using var sram = SliceAwareModel.Create(Backbone(), 13, 2, generator.SliceNames);
        var s = TrainAndEvaluate(sram, train, test, seed);

        double vanillaSlices = (v["s1"].Metrics.F1 + v["s2"].Metrics.F1) / 2;
        double sramSlices = (s["s1"].Metrics.F1 + s["s2"].Metrics.F1) / 2;
        string summary = $"VANILLA slices {v["s1"].Metrics.F1:F3}/{v["s2"].Metrics.F1:F3} overall {v.Overall.Metrics.F1:F3}; SRAM slices {s["s1"].Metrics.F1:F3}/{s["s2"].Metrics.F1:F3} overall {s.Overall.Metrics.F1:F3}";
        Assert.Equal(150, s["s1"].Support);
        Assert.True(sramSlices >= vanillaSlices + 0.05, summary);
        Assert.True(s.Overall.Metrics.F1 >= v.Overall.Metrics.F1 - 0.005, summary);
    }
}
