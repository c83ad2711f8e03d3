using SliceLearning.Models;
using SliceLearning.Modules;
using SliceLearning.Runtime;
using SliceLearning.Tests.Training;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Modules;

/// <summary>
/// The fused SRAM training loss (Modules/Fused) against the general path of libtorch operations: same loss terms,
/// same gradients for every parameter (and so for the backbone's input z), same trained weights.
/// </summary>
[Collection("Sequential")]
public sealed class FusedSramLossTests
{
    private const int Rows = 24;

    private static SliceAwareModel NewModel(int k, int classes, int seed, Action<SliceAwareOptions>? configure)
    {
        manual_seed(seed);
        var names = Enumerable.Range(0, k).Select(i => "s" + i).ToArray();
        return SliceAwareModel.Create(nn.Sequential(nn.Linear(3, 7), nn.Tanh(), nn.Linear(7, 6)), 6, classes, names,
            o => { o.ExpertSize = 5; configure?.Invoke(o); });
    }

    // A model on the fused path and its twin on the general path, same weights, with non-zero slice scores so the
    // learned-odds term is exercised.
    private sealed record ModelPair(SliceAwareModel Fused, SliceAwareModel General) : IDisposable
    {
        public void Dispose() { Fused.Dispose(); General.Dispose(); }
    }

    private sealed record Batch(Tensor X, Tensor Y, Tensor Membership) : IDisposable
    {
        public void Dispose() { X.Dispose(); Y.Dispose(); Membership.Dispose(); }
    }

    private static ModelPair NewPair(int k, int classes, int seed, Action<SliceAwareOptions>? configure)
    {
        var fused = NewModel(k, classes, seed, configure);
        var general = NewModel(k, classes, seed, configure);
        general.UseFusedKernels = false;
        using (no_grad()) { fused.Sram.SliceScores!.normal_(); general.Sram.SliceScores!.copy_(fused.Sram.SliceScores!); }
        return new ModelPair(fused, general);
    }

    // Rows × 3 features, labels and SF membership (about 35% per slice, the base column all ones).
    private static Batch NewBatch(int k, int classes, int seed)
    {
        manual_seed(seed);
        var x = randn(Rows, 3);
        var y = randint(0, classes, new long[] { Rows }, dtype: ScalarType.Int64);
        var membership = rand(Rows, k + 1).lt(0.35).to(ScalarType.Float32);
        using (no_grad()) membership[TensorIndex.Colon, 0] = ones(Rows);
        return new Batch(x, y, membership);
    }

    // The same random .grad tensors on both models' parameters.
    private static void SetSameRandomGradients(SliceAwareModel fused, SliceAwareModel general, int seed)
    {
        manual_seed(seed);
        foreach (var ((_, pf), (_, pg)) in fused.named_parameters().Zip(general.named_parameters()))
        {
            pf.grad = randn_like(pf);
            pg.grad = pf.grad.clone();
        }
    }

    public static TheoryData<int, int, string> Cases => new()
    {
        { 1, 2, "" }, { 2, 2, "" }, { 16, 2, "" }, { 2, 2, "empty" }, { 16, 2, "empty" }, { 2, 3, "" }, { 16, 4, "empty" },
        { 2, 2, "T=0.5" }, { 16, 2, "weights" }, { 16, 3, "mean" }, { 2, 2, "into-grad" }, { 16, 3, "into-grad" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedLoss_MatchesGeneralPath_TermsAndGradients(int k, int classes, string variant)
    {
        ComputeDevice.SetCpuThreads(1);
        Action<SliceAwareOptions>? configure = variant switch
        {
            "T=0.5" => o => o.Temperature = 0.5,
            "weights" => o => { o.PredictionLossWeight = 0.7; o.SliceHeadLossWeight = 1.3; o.IndicatorLossWeight = 2.5; },
            "mean" => o => o.IndicatorLossNormalization = IndicatorLossNormalization.MeanOverSlices,
            _ => null,
        };
        using var pair = NewPair(k, classes, seed: 11, configure);
        var (fused, general) = pair;
        using var batch = NewBatch(k, classes, seed: 12);
        var (x, y, membership) = batch;
        if (variant == "empty")
            using (no_grad()) membership[TensorIndex.Colon, k] = zeros(Rows);   // the last slice has no member in the batch

        using var scope = NewDisposeScope();
        // The trainer's path adds parameter gradients to existing .grad tensors: give both models the same ones.
        if (variant == "into-grad") SetSameRandomGradients(fused, general, seed: 13);
        var fusedLoss = fused.FusedLoss(x, y, membership);
        Assert.NotNull(fusedLoss);
        var (generalTotal, generalTerms) = general.LossWithTermsCore(x, y, membership);
        AssertSameTerms(fusedLoss.Value.Terms, generalTerms);
        Assert.Equal(generalTerms[0].item<float>(), fusedLoss.Value.Total.item<float>(), 1e-5f);

        fusedLoss.Value.Total.backward();
        generalTotal.backward();
        AssertSameGradients(fused, general);
    }

    [Theory]
    [InlineData(2, 2, true)]
    [InlineData(16, 3, true)]
    [InlineData(2, 2, false)]   // before the first step: no .grad tensors yet, so the step sets them
    public void TrainerBackward_MatchesGeneralPath(int k, int classes, bool withGradients)
    {
        ComputeDevice.SetCpuThreads(1);
        using var pair = NewPair(k, classes, seed: 21, null);
        var (fused, general) = pair;
        using var batch = NewBatch(k, classes, seed: 22);
        var (x, y, membership) = batch;
        using var scope = NewDisposeScope();
        if (withGradients) SetSameRandomGradients(fused, general, seed: 23);

        AssertSameTerms(fused.BackwardCore(x, y, membership), general.BackwardCore(x, y, membership));
        AssertSameGradients(fused, general);
    }

    // The four loss terms [total, prediction, slice head, indicator] within 1e-5 (relative above 1).
    private static void AssertSameTerms(Tensor fusedTerms, Tensor generalTerms)
    {
        float[] a = fusedTerms.data<float>().ToArray(), b = generalTerms.data<float>().ToArray();
        Assert.Equal(4, a.Length);
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 * Math.Max(1, Math.Abs(b[i])), $"term {i}: fused {a[i]} vs general {b[i]}");
    }

    // Every parameter's gradient (the backbone's included) within 2e-5 of the largest, or absent on both paths.
    private static void AssertSameGradients(SliceAwareModel fused, SliceAwareModel general)
    {
        var generalParameters = general.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in fused.named_parameters())
        {
            var expected = generalParameters[name].grad;
            var actual = p.grad;
            if (expected is null) { Assert.True(actual is null, $"{name}: the general path leaves no gradient"); continue; }
            Assert.NotNull(actual);
            double scale = Math.Max(1e-3, expected.abs().max().item<float>());
            double diff = (actual - expected).abs().max().item<float>();
            Assert.True(diff <= 2e-5 * scale + 1e-7, $"{name}: max gradient difference {diff} (largest gradient {scale})");
        }
    }

    [Fact]
    public void VectorExpAndLog_AgreeWithMathF()
    {
        // The fused loss's own vector exp (of arguments up to 0 and beyond) and log (of sums ≥ 1 and fractions).
        var x = Enumerable.Range(0, 4001).Select(i => -90f + i * 0.0245f).ToArray();   // [-90, 8]
        var exp = new float[x.Length];
        SliceLearning.Modules.Fused.SpanMath.ExpShifted(x, new float[x.Length], exp);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Exp(x[i]);
            Assert.True(Math.Abs(exp[i] - expected) <= 3e-7 * expected + 1e-37, $"exp({x[i]}) = {exp[i]}, expected {expected}");
        }
        var v = Enumerable.Range(0, 4000).Select(i => MathF.Pow(10, -3 + i * 0.002f)).ToArray();   // [1e-3, 1e5]
        var log = new float[v.Length];
        SliceLearning.Modules.Fused.SpanMath.Log(v, log);
        for (int i = 0; i < v.Length; i++)
        {
            double expected = Math.Log(v[i]);
            Assert.True(Math.Abs(log[i] - expected) <= 3e-7 * Math.Max(1, Math.Abs(expected)), $"log({v[i]}) = {log[i]}, expected {expected}");
        }
    }

    [Fact]
    public void ModelLoss_BackPropagatesTwiceWithRetainGraph_LikeTheGeneralPath()
    {
        using var fused = NewModel(2, 2, seed: 3, null);
        using var general = NewModel(2, 2, seed: 3, null);
        general.UseFusedKernels = false;
        manual_seed(4);
        using var x = randn(Rows, 3);
        using var y = randint(0, 2, new long[] { Rows }, dtype: ScalarType.Int64);
        using var membership = rand(Rows, 3).lt(0.5).to(ScalarType.Float32);
        using var scope = NewDisposeScope();
        foreach (var model in new[] { fused, general })
        {
            var loss = model.Loss(x, y, membership);
            loss.backward(retain_graph: true);
            loss.backward();
        }
        var expected = general.Sram.ExpertProjections.Weight.grad!;
        var actual = fused.Sram.ExpertProjections.Weight.grad!;
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-6), $"max difference {(actual - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void SeededFit_MatchesGeneralPath()
    {
        ComputeDevice.SetCpuThreads(1);
        using var data = TwoDiscTask.Dataset(300, seed: 3);
        SliceAwareModel Fit(bool useFused)
        {
            manual_seed(4);
            var model = SliceAwareModel.Create(TwoDiscTask.Backbone(), 13, 2, TwoDiscTask.Slices.SliceNames);
            model.UseFusedKernels = useFused;
            SliceTrainer.For(model).WithData(data).WithEpochs(3).WithBatchSize(32).WithSeed(7).Fit();
            return model;
        }
        using var fused = Fit(true);
        using var general = Fit(false);
        var expected = general.state_dict();
        int compared = 0;
        foreach (var (name, t) in fused.state_dict())
        {
            Assert.True(t.allclose(expected[name], rtol: 1e-3, atol: 1e-4), $"{name} differs: max {(t - expected[name]).abs().max().item<float>()}");
            compared++;
        }
        Assert.True(compared >= 13);
        // Training moved the weights: the comparison is not between two untouched initialisations.
        manual_seed(4);
        using var untrained = SliceAwareModel.Create(TwoDiscTask.Backbone(), 13, 2, TwoDiscTask.Slices.SliceNames);
        Assert.False(untrained.state_dict()["sram.expert_projections.weight"].allclose(expected["sram.expert_projections.weight"], rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void UncoveredOptionsAndBatches_TakeTheGeneralPath()
    {
        using var x = randn(8, 3);
        using var y = randint(0, 2, new long[] { 8 }, dtype: ScalarType.Int64);
        using var membership = ones(8, 3);
        using var scope = NewDisposeScope();
        using (var covered = NewModel(2, 2, seed: 1, null))
        {
            Assert.True(covered.UseFusedKernels, "the default options are covered");
            Assert.NotNull(covered.FusedLoss(x, y, membership));
            using (no_grad()) Assert.Null(covered.FusedLoss(x, y, membership));                     // evaluation: no backward to save
            using var doubleMembership = membership.to(ScalarType.Float64);
            Assert.Null(covered.FusedLoss(x, y, doubleMembership));                                  // not float32
        }
        foreach (var configure in new Action<SliceAwareOptions>[]
        {
            o => o.Attention = AttentionVariant.Full,
            o => o.Backpropagation = AttentionBackpropagation.IndicatorsAndExperts,
            o => o.ExpertForm = ExpertForm.Residual,
            o => o.SliceHeadNormalization = SliceHeadNormalization.PerSlice,
            o => o.ExpertWeightDecay = 0.1,
            o => o.SliceGradientScale = 0.5,
        })
        {
            using var model = NewModel(2, 2, seed: 1, o => { o.ExpertSize = 6; configure(o); });
            Assert.False(model.UseFusedKernels);
            Assert.Null(model.FusedLoss(x, y, membership));
            Assert.True(float.IsFinite(model.Loss(x, y, membership).item<float>()));
        }
    }
}
