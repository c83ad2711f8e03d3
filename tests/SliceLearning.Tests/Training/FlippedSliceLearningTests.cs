using SliceLearning.Data.Synthetic;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

/// <summary>
/// The robustness suite's hard family in small: two discs straddling the boundary with flipped labels
/// (both classes inside each), SFs with precision and recall 0.85 whose false positives come from a
/// ring just outside the disc. With the default options, SRAM must lift both slices over VANILLA and
/// route each slice's members to that slice's expert.
/// </summary>
[Collection("Sequential")]
public sealed class FlippedSliceLearningTests(ITestOutputHelper output)
{
    [Fact]
    public void Sram_Defaults_LiftFlippedStraddlingSlices_AndRouteMembersToTheirExperts()
    {
        ComputeDevice.SetCpuThreads(1);
        var options = new SyntheticSliceOptions { NoiseNeighborhood = 1.5, SfRecall = 0.85, SfPrecision = 0.85 };
        options.Slices = new List<SyntheticSliceRegion> { options.StraddlingDisc("s1", -0.636, 0.04, 0.3), options.StraddlingDisc("s2", 0.636, 0.04, 0.7) };
        var generator = new SyntheticSliceGenerator(options);
        var trainData = generator.Generate(4000, seed: 1);
        var testData = generator.Generate(4000, seed: 2);
        using var train = ToDataset(trainData, trainData.SfSlices);
        using var test = ToDataset(testData, testData.TrueSlices);

        static nn.Module<Tensor, Tensor> Backbone() => nn.Sequential(nn.Linear(2, 13), nn.ReLU(), nn.Linear(13, 13), nn.ReLU());
        manual_seed(5);
        using var vanilla = VanillaModel.Create(Backbone(), 13, 2);
        manual_seed(5);
        using var sram = SliceAwareModel.Create(Backbone(), 13, 2, generator.SliceNames);
        foreach (ITrainableModel model in new ITrainableModel[] { vanilla, sram })
            SliceTrainer.For(model).WithData(train).WithEpochs(30).WithBatchSize(64).WithOptimizer(OptimizerOptions.Adam(0.01)).WithSeed(5).Fit();

        var (_, vanillaClasses) = vanilla.Predict(test.Features);
        var (_, sramClasses) = sram.Predict(test.Features);
        var explanation = sram.Explain(test.Features, topSlices: 1);
        double F1(int[] predicted, IEnumerable<int> rows)
        {
            int tp = 0, fp = 0, fn = 0;
            foreach (int i in rows)
            {
                if (predicted[i] == 1 && testData.Labels[i] == 1) tp++;
                else if (predicted[i] == 1) fp++;
                else if (testData.Labels[i] == 1) fn++;
            }
            return 2.0 * tp / Math.Max(1, 2 * tp + fp + fn);
        }
        var all = Enumerable.Range(0, testData.Count).ToArray();
        double vanillaOverall = F1(vanillaClasses, all), sramOverall = F1(sramClasses, all);
        output.WriteLine($"overall F1: VANILLA {vanillaOverall:F3}, SRAM {sramOverall:F3}");
        foreach (int c in new[] { 1, 2 })
        {
            var members = all.Where(i => testData.TrueSlices[i, c]).ToArray();
            var others = all.Where(i => !testData.TrueSlices[i, c]).ToArray();
            double v = F1(vanillaClasses, members), s = F1(sramClasses, members);
            double own = members.Average(i => (double)explanation.Examples[i].AttentionWeights[c]);
            double elsewhere = others.Average(i => (double)explanation.Examples[i].AttentionWeights[c]);
            double top = members.Average(i => explanation.Examples[i].TopSlices[0].Slice == generator.SliceNames[c] ? 1.0 : 0.0);
            output.WriteLine($"{generator.SliceNames[c]}: F1 VANILLA {v:F3}, SRAM {s:F3}; attention on own expert: members {own:F2}, others {elsewhere:F3}; Explain top slice for {top:P0} of members");
            Assert.True(s > v + 0.1, $"{generator.SliceNames[c]}: SRAM F1 {s:F3} should beat VANILLA {v:F3} by more than 0.1");
            Assert.True(own >= 0.5, $"{generator.SliceNames[c]}: members put {own:F2} of their attention on their own expert");
            Assert.True(elsewhere < 0.1, $"{generator.SliceNames[c]}: non-members put {elsewhere:F3} on it");
            Assert.True(top >= 0.6, $"{generator.SliceNames[c]}: Explain's top slice for {top:P0} of members");
        }
        Assert.True(sramOverall >= vanillaOverall - 0.005, $"overall F1: SRAM {sramOverall:F3} vs VANILLA {vanillaOverall:F3}");
    }

    private static SliceDataset ToDataset(SyntheticSliceData data, SliceLearning.Slicing.SliceMatrix slices) =>
        new(tensor(data.FeatureArray(), new long[] { data.Count, 2 }), tensor(data.LabelArray()), slices);
}
