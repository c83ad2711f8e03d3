using SliceLearning.Data.Synthetic;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Models.Baselines;

[Collection("Sequential")]
public sealed class SliceHeadModelsTests
{
    private static readonly double L1 = Math.Log(1 + Math.Exp(-1)); // CE of logits (1, 0) for class 0
    private static readonly double L2 = Math.Log(1 + Math.E);       // CE of logits (0, 1) for class 0

    // Identity backbone (d = 2), base head = identity, slice head = swap; x0 = (1, 0) label 0 in slice s,
    // x1 = (0, 1) label 1 not in s.
    private static void SetHeads(ITrainableModel model)
    {
        using var noGrad = torch.no_grad();
        var p = model.Module.named_parameters().ToDictionary(t => t.name, t => t.parameter);
        p["head_weight"].copy_(torch.tensor(new float[] { 1, 0, 0, 1, 0, 1, 1, 0 }, new long[] { 2, 2, 2 }));
        p["head_bias"].zero_();
    }

    private static (Tensor X, Tensor Y, Tensor M) TwoExamples() => (
        torch.tensor(new float[] { 1, 0, 0, 1 }, new long[] { 2, 2 }),
        torch.tensor(new long[] { 0, 1 }),
        torch.tensor(new float[] { 1, 1, 1, 0 }, new long[] { 2, 2 }));

    // Two slices over the identity backbone: heads base = identity, s = swap, t = identity; x0 = (1, 0) label 0 in s
    // and t, x1 = (0, 1) label 1 in t only. Per term: base L1 for both rows; s (x0 only) L2; t (both rows) L1.
    private static float TwoSliceLoss(ITrainableModel model)
    {
        using (var noGrad = torch.no_grad())
        {
            var p = model.Module.named_parameters().ToDictionary(t => t.name, t => t.parameter);
            p["head_weight"].copy_(torch.tensor(new float[] { 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1 }, new long[] { 3, 2, 2 }));
            p["head_bias"].zero_();
        }
        using var x = torch.tensor(new float[] { 1, 0, 0, 1 }, new long[] { 2, 2 });
        using var y = torch.tensor(new long[] { 0, 1 });
        using var m = torch.tensor(new float[] { 1, 1, 1, 1, 0, 1 }, new long[] { 2, 3 });
        using var loss = model.Loss(x, y, m);
        return loss.item<float>();
    }

    [Fact]
    public void Hps_Loss_IsBaseMeanPlusSliceMeanOverMembers()
    {
        using var model = HardParameterSharingModel.Create(nn.Identity(), 2, 2, new[] { "s" });
        using var weighted = HardParameterSharingModel.Create(nn.Identity(), 2, 2, new[] { "base", "s" }, o => o.SliceLossWeight = 0.5);
        SetHeads(model);
        SetHeads(weighted);
        var (x, y, m) = TwoExamples();
        using var _ = x; using var __ = y; using var ___ = m;
        using var loss = model.Loss(x, y, m);
        using var loss2 = weighted.Loss(x, y, m);
        Assert.Equal(L1 + L2, loss.item<float>(), 5);
        Assert.Equal(L1 + 0.5 * L2, loss2.item<float>(), 5);
        Assert.Equal(new[] { "base", "s" }, model.SliceNames);
        // Prediction comes from the base head: identity logits.
        using var logits = model.Logits(x);
        Assert.Equal(new float[] { 1, 0, 0, 1 }, logits.data<float>().ToArray());
        using var heads = model.HeadLogits(x);
        Assert.Equal(new long[] { 2, 2, 2 }, heads.shape);
    }

    [Fact]
    public void Hps_MeanOverSlices_DividesTheSliceTermsByK()
    {
        // The two-slice fixture (TwoSliceLoss): the sum is L1 + L2 + L1, the mean divides the slice terms by k = 2.
        string[] names = { "s", "t" };
        using var sum = HardParameterSharingModel.Create(nn.Identity(), 2, 2, names, o => o.SliceLossNormalization = SliceLossNormalization.SumOverSlices);
        using var mean = HardParameterSharingModel.Create(nn.Identity(), 2, 2, names);  // the default
        using var halfMean = HardParameterSharingModel.Create(nn.Identity(), 2, 2, names, o =>
        {
            o.SliceLossNormalization = SliceLossNormalization.MeanOverSlices;
            o.SliceLossWeight = 0.5;
        });
        Assert.Equal(L1 + L2 + L1, TwoSliceLoss(sum), 1e-5);
        Assert.Equal(L1 + (L2 + L1) / 2, TwoSliceLoss(mean), 1e-5);
        Assert.Equal(L1 + 0.5 * (L2 + L1) / 2, TwoSliceLoss(halfMean), 1e-5);
    }

    [Fact]
    public void Manual_SliceTerms_AreAveragedOverK_WithAlphaOnTop()
    {
        // The two-slice fixture (TwoSliceLoss) with α = 20 on "s": x0 (in s) weighs 20 in the base loss, x1 weighs 1,
        // so the base term is (20 L1 + L1) / 2; the slice terms are 20 L2 (s) and L1 (t).
        string[] names = { "s", "t" };
        using var plain = ManualReweightingModel.Create(nn.Identity(), 2, 2, names);
        using var mean = ManualReweightingModel.Create(nn.Identity(), 2, 2, names, o => { o.Alpha = 20; o.ReweightedSlices = new[] { "s" }; });
        using var sum = ManualReweightingModel.Create(nn.Identity(), 2, 2, names, o =>
        {
            o.Alpha = 20;
            o.ReweightedSlices = new[] { "s" };
            o.SliceLossNormalization = SliceLossNormalization.SumOverSlices;
        });
        Assert.Equal(L1 + (L2 + L1) / 2, TwoSliceLoss(plain), 1e-5);          // no reweighted slice: HPS's default loss
        Assert.Equal(10.5 * L1 + (20 * L2 + L1) / 2, TwoSliceLoss(mean), 1e-4);
        Assert.Equal(10.5 * L1 + 20 * L2 + L1, TwoSliceLoss(sum), 1e-4);
        var e = Assert.Throws<ArgumentException>(() =>
            ManualReweightingModel.Create(nn.Identity(), 2, 2, names, o => o.SliceLossNormalization = (SliceLossNormalization)7));
        Assert.Contains("SliceLossNormalization must be SumOverSlices or MeanOverSlices; got 7", e.Message);
    }

    [Fact]
    public void Hps_InvalidSliceLossNormalization_IsNamed()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            HardParameterSharingModel.Create(nn.Identity(), 2, 2, new[] { "s" }, o => o.SliceLossNormalization = (SliceLossNormalization)7));
        Assert.Contains("SliceLossNormalization", e.Message);
        Assert.Contains("7", e.Message);
    }

    [Fact]
    public void Hps_SliceHead_GetsGradientOnlyFromItsMembers()
    {
        torch.manual_seed(3);
        using var model = HardParameterSharingModel.Create(BaselineTestSupport.Mlp(4), 4, 2, new[] { "a", "b" });
        using var x = torch.randn(4, 2);
        using var y = torch.tensor(new long[] { 0, 1, 1, 0 });
        // "a" has members (rows 0 and 2), "b" has none in this batch.
        using var m = torch.tensor(new float[] { 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0 }, new long[] { 4, 3 });
        model.Module.zero_grad();
        using var loss = model.Loss(x, y, m);
        loss.backward();
        var grad = model.Module.named_parameters().Single(p => p.name == "head_weight").parameter.grad!;
        Assert.True(grad[0].abs().sum().item<float>() > 0);   // base head
        Assert.True(grad[1].abs().sum().item<float>() > 0);   // "a"
        Assert.Equal(0f, grad[2].abs().sum().item<float>());  // "b": no members, no gradient
    }

    [Fact]
    public void Manual_Loss_MultipliesOnlyTheChosenSlice()
    {
        using var model = ManualReweightingModel.Create(nn.Identity(), 2, 2, new[] { "s" }, o => { o.Alpha = 20; o.ReweightedSlices = new[] { "s" }; });
        using var none = ManualReweightingModel.Create(nn.Identity(), 2, 2, new[] { "s" }, o => o.Alpha = 20);
        SetHeads(model);
        SetHeads(none);
        var (x, y, m) = TwoExamples();
        using var _ = x; using var __ = y; using var ___ = m;
        using var loss = model.Loss(x, y, m);
        using var plain = none.Loss(x, y, m);
        Assert.Equal((20 * L1 + L1) / 2 + 20 * L2, loss.item<float>(), 4);
        Assert.Equal(L1 + L2, plain.item<float>(), 5); // no reweighted slice: exactly HPS
        Assert.Equal(new float[] { 1, 20 }, model.SliceLossMultipliers);
    }

    [Fact]
    public void Manual_ExampleWeights_ApplyOnlyToMembersOfChosenSlices()
    {
        using var model = ManualReweightingModel.Create(BaselineTestSupport.Mlp(4), 4, 2, new[] { "a", "b", "c" },
            o => { o.Alpha = 50; o.ReweightedSlices = new[] { "a", "c" }; });
        // Rows: in a; in b only; in c and b; in none; in a and c.
        using var membership = torch.tensor(new float[]
        {
            1, 1, 0, 0,
            1, 0, 1, 0,
            1, 0, 1, 1,
            1, 0, 0, 0,
            1, 1, 0, 1,
        }, new long[] { 5, 4 });
        using var w = model.ExampleWeights(membership);
        Assert.Equal(new float[] { 50, 1, 50, 1, 50 }, w.data<float>().ToArray());
        Assert.Equal(new float[] { 1, 50, 1, 50 }, model.SliceLossMultipliers);
    }

    [Fact]
    public void Manual_InvalidOptions_NameTheSliceAndValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => ManualReweightingModel.Create(nn.Identity(), 2, 2, new[] { "a" },
            o => { o.Alpha = 0.5; o.ReweightedSlices = new[] { "zzz" }; }));
        Assert.Contains("Alpha must be finite and at least 1; got 0.5.", ex.Message);
        Assert.Contains("ReweightedSlices names 'zzz', which is not one of the model's slices (a).", ex.Message);
    }

    [Fact]
    public void SelectSlices_TakesThoseAtLeastFivePointsBelowOverall()
    {
        var f1 = new Dictionary<string, double> { ["s1"] = 0.60, ["s2"] = 0.93, ["s3"] = 0.92, ["s4"] = double.NaN, ["base"] = 0.5 };
        Assert.Equal(new[] { "s1", "s3" }, ManualReweighting.SelectSlices(f1, overallF1: 0.97));
        Assert.Equal(new[] { "s1" }, ManualReweighting.SelectSlices(f1, overallF1: 0.97, minGap: 0.2));
    }

    [Fact]
    public void SelectSlices_FromAReport()
    {
        // 8 rows; slice "bad" = rows 0-3 where half the predictions are wrong, "good" = rows 4-7 all right.
        var membership = new bool[8, 3];
        for (int r = 0; r < 8; r++) { membership[r, 0] = true; membership[r, r < 4 ? 1 : 2] = true; }
        var slices = SliceMatrix.FromRows(new[] { "base", "bad", "good" }, membership);
        int[] labels = { 1, 1, 0, 0, 1, 1, 0, 0 };
        int[] preds = { 0, 1, 1, 0, 1, 1, 0, 0 };
        var report = SliceReport.Create(slices, labels, preds, 2, new SliceReportOptions { BootstrapResamples = 0 });
        Assert.Equal(new[] { "bad" }, ManualReweighting.SelectSlices(report));
    }

    private sealed class Candidate(double alpha) : IDisposable
    {
        public double Alpha { get; } = alpha;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void SearchAlpha_KeepsTheBestOnValidation_AndDisposesTheRest()
    {
        var made = new List<Candidate>();
        var scores = new Dictionary<double, double> { [2] = 0.7, [20] = 0.9, [50] = 0.85, [100] = double.NaN };
        var result = ManualReweighting.SearchAlpha(ManualReweighting.PaperAlphas, a => { var c = new Candidate(a); made.Add(c); return c; }, c => scores[c.Alpha]);
        Assert.Equal(20, result.BestAlpha);
        Assert.Same(made[1], result.BestModel);
        Assert.False(made[1].Disposed);
        Assert.True(made[0].Disposed && made[2].Disposed && made[3].Disposed);
        Assert.Equal(new[] { 2.0, 20, 50, 100 }, result.Scores.Select(s => s.Alpha));
    }

    [Fact]
    public void SearchAlpha_KeepsTheFirstOfTiedScores_AndNaNNeverWins()
    {
        var made = new List<Candidate>();
        Candidate Train(double a) { var c = new Candidate(a); made.Add(c); return c; }
        // 2 and 50 tie at 0.8: the first (2) is kept; 20 is NaN, never the best.
        var tied = ManualReweighting.SearchAlpha(new[] { 2.0, 20, 50 }, Train, c => c.Alpha == 20 ? double.NaN : 0.8);
        Assert.Equal(2, tied.BestAlpha);
        Assert.Same(made[0], tied.BestModel);
        Assert.True(double.IsNaN(tied.Scores[1].Score));
        Assert.Equal(new[] { false, true, true }, made.Select(c => c.Disposed));
        // A NaN first candidate is replaced by the first real score, even a negative one.
        made.Clear();
        var nanFirst = ManualReweighting.SearchAlpha(new[] { 2.0, 20, 50 }, Train, c => c.Alpha == 2 ? double.NaN : -c.Alpha);
        Assert.Equal(20, nanFirst.BestAlpha);
        Assert.Equal(new[] { true, false, true }, made.Select(c => c.Disposed));
        // Only NaN: the first candidate is kept (one model is always returned).
        made.Clear();
        var allNaN = ManualReweighting.SearchAlpha(new[] { 2.0, 20 }, Train, _ => double.NaN);
        Assert.Equal(2, allNaN.BestAlpha);
        Assert.Equal(new[] { false, true }, made.Select(c => c.Disposed));
    }

    [Fact]
    public void SearchAlpha_RejectsAnEmptyOrInvalidGrid()
    {
        int trained = 0;
        Candidate Train(double a) { trained++; return new Candidate(a); }
        var empty = Assert.Throws<ArgumentException>(() => ManualReweighting.SearchAlpha(Array.Empty<double>(), Train, _ => 0));
        Assert.StartsWith("The α grid is empty; pass e.g. ManualReweighting.PaperAlphas.", empty.Message);
        Assert.Equal("alphas", empty.ParamName);
        var small = Assert.Throws<ArgumentOutOfRangeException>(() => ManualReweighting.SearchAlpha(new[] { 2.0, 0.5 }, Train, _ => 0));
        Assert.StartsWith("Every α must be finite and at least 1; got 0.5.", small.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ManualReweighting.SearchAlpha(new[] { double.NaN }, Train, _ => 0));
        Assert.Equal(0, trained);   // the grid is checked before any training
    }

    [Fact]
    public void SearchAlpha_Cancelled_StopsBetweenCandidates_AndDisposesEveryCandidate()
    {
        using var cts = new CancellationTokenSource();
        var made = new List<Candidate>();
        Candidate Train(double a) { var c = new Candidate(a); made.Add(c); return c; }
        Assert.Throws<OperationCanceledException>(() =>
            ManualReweighting.SearchAlpha(ManualReweighting.PaperAlphas, Train, c => { if (c.Alpha == 20) cts.Cancel(); return c.Alpha; }, cts.Token));
        Assert.Equal(new[] { 2.0, 20 }, made.Select(c => c.Alpha));   // 50 and 100 never trained
        Assert.All(made, c => Assert.True(c.Disposed, $"candidate α = {c.Alpha} was left alive"));
        // A failing score also leaves nothing alive.
        made.Clear();
        Assert.Throws<InvalidOperationException>(() =>
            ManualReweighting.SearchAlpha(ManualReweighting.PaperAlphas, Train, c => c.Alpha == 50 ? throw new InvalidOperationException("scoring failed") : c.Alpha));
        Assert.Equal(3, made.Count);
        Assert.All(made, c => Assert.True(c.Disposed, $"candidate α = {c.Alpha} was left alive"));
    }

    [Fact]
    public void ParameterCounts_MatchTheArchitecture()
    {
        // MLP backbone 2 -> 13 -> 13: 2*13+13 + 13*13+13 = 221; heads m * (13*2 + 2).
        using var hps = HardParameterSharingModel.Create(BaselineTestSupport.Mlp(), 13, 2, new[] { "s1", "s2" });
        using var manual = ManualReweightingModel.Create(BaselineTestSupport.Mlp(), 13, 2, new[] { "s1", "s2" });
        Assert.Equal(221 + 3 * 28, hps.ParameterCount());
        Assert.Equal(hps.ParameterCount(), manual.ParameterCount());
    }

    [Fact]
    public void Loss_RejectsMembershipOfTheWrongWidth()
    {
        using var model = HardParameterSharingModel.Create(nn.Identity(), 2, 2, new[] { "s" });
        using var x = torch.zeros(3, 2);
        using var y = torch.zeros(3, ScalarType.Int64);
        using var m = torch.ones(3, 3);
        var ex = Assert.Throws<SliceDataException>(() => model.Loss(x, y, m));
        Assert.Contains("Expected slice membership [3, 2] for the model's 2 slices (base, s), got [3, 3]", ex.Message);
    }

    [Fact]
    public void Baselines_RejectALabelOutOfRange_NamingTheRow()
    {
        using var hps = HardParameterSharingModel.Create(nn.Identity(), 2, 2, new[] { "s" });
        using var moe = MixtureOfExpertsModel.Create(() => nn.Identity(), 2, 2, new[] { "s" });
        using var x = torch.zeros(3, 2);
        using var y = torch.tensor(new long[] { 0, 1, 2 });
        using var m = torch.ones(3, 2);
        foreach (ITrainableModel model in new ITrainableModel[] { hps, moe })
        {
            var ex = Assert.Throws<SliceDataException>(() => model.Loss(x, y, m));
            Assert.Equal("Label 2 at row 2 is outside [0, 2) for a 2-class model. (Parameter 'labels')", ex.Message);
            Assert.Equal(2, ex.Row);
        }
    }

    [Fact]
    public void Baselines_UseTheSliceNameRulesOfSliceSets()
    {
        var ex = Assert.Throws<ArgumentException>(() => HardParameterSharingModel.Create(nn.Identity(), 2, 2, new[] { "s", "BASE" }));
        Assert.Contains("SF #1 is named 'BASE', which is reserved for the base slice", ex.Message);
        using var model = ManualReweightingModel.Create(nn.Identity(), 2, 2, new[] { "base", "s" });
        Assert.Equal(new[] { "base", "s" }, model.SliceNames);
    }

    [Fact]
    public void Hps_AndManual_LearnTheEasyTask()
    {
        ComputeDevice.SetCpuThreads(1);
        var generator = new SyntheticSliceGenerator(new SyntheticSliceOptions { SfNoise = 0 });
        var train = generator.Generate(2000, seed: 1);
        var test = generator.Generate(2000, seed: 2);
        // 2TP / (2TP + FP + FN) on the 2000 test rows: HPS TP 999, FP + FN 77; MANUAL TP 1036, FP + FN 159.
        var expected = new Queue<double>(new[] { 1998.0 / 2075, 2072.0 / 2231 });
        foreach (var make in new Func<ITrainableModel>[]
        {
            () => HardParameterSharingModel.Create(BaselineTestSupport.Mlp(), 13, 2, generator.SliceNames),
            () => ManualReweightingModel.Create(BaselineTestSupport.Mlp(), 13, 2, generator.SliceNames, o => { o.Alpha = 20; o.ReweightedSlices = new[] { "s1", "s2" }; }),
        })
        {
            torch.manual_seed(3);
            using var model = make();
            BaselineTestSupport.Fit(model, train, epochs: 8, seed: 3);
            var preds = BaselineTestSupport.Predict(model, test);
            var overall = ClassificationMetrics.Compute(test.Labels.ToArray(), preds, 2);
            // 94% of points follow the line y = x; a model that learns it scores about 0.94 F1. Seeded
            // and single-threaded, so this run's F1 is exact.
            Assert.Equal(expected.Dequeue(), overall.F1, 12);
        }
    }
}
