using SliceLearning.Models;
using SliceLearning.Modules;
using SliceLearning.Slicing;
using TorchSharp;
using static TorchSharp.torch;
using static SliceLearning.Tests.Models.SliceAwareFixture;

namespace SliceLearning.Tests.Models;

[Collection("Sequential")]
public sealed class SliceAwareModelTests
{
    private static SliceAwareModel NewModel(int numClasses = 2, Action<SliceAwareOptions>? configure = null, long width = 6, int seed = 5) =>
        SliceAwareFixture.NewModel(configure, width, seed, numClasses);

    [Fact]
    public void Create_AcceptsNamesWithOrWithoutBase_AndRejectsBadNames()
    {
        using var a = NewModel();
        Assert.Equal(new[] { "base", "a", "b", "c" }, a.SliceNames);
        manual_seed(1);
        using var b = SliceAwareModel.Create(nn.Linear(3, 4), 4, 2, new[] { "base", "x" });
        Assert.Equal(new[] { "base", "x" }, b.SliceNames);
        var dup = Assert.Throws<ArgumentException>(() => SliceAwareModel.Create(nn.Linear(3, 4), 4, 2, new[] { "x", "X" }));
        Assert.Contains("like an earlier SF", dup.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SliceAwareModel.Create(nn.Linear(3, 4), 4, 1, new[] { "x" }));
    }

    [Fact]
    public void Options_Validate_ListsEveryProblemWithItsValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => NewModel(configure: o =>
        {
            o.ExpertSize = 0;
            o.Temperature = -1;
            o.IndicatorLossWeight = double.NaN;
            o.SliceGradientScale = 1.5;
            o.SliceHeadMembership = (SliceHeadMembership)7;
            o.IndicatorLossNormalization = (IndicatorLossNormalization)9;
            o.IndicatorGradientScale = -0.5;
            o.LossBalancing = (LossBalancing)4;
            o.IndicatorGradientWeighting = (IndicatorGradientWeighting)5;
        }));
        Assert.Contains("Invalid SliceAwareOptions", ex.Message);
        Assert.Contains("ExpertSize must be at least 1 (or null for the backbone width). Got 0.", ex.Message);
        Assert.Contains("Temperature must be a positive finite number. Got -1.", ex.Message);
        Assert.Contains("IndicatorLossWeight must be a finite number >= 0. Got NaN.", ex.Message);
        Assert.Contains("SliceGradientScale must be a number in [0, 1]. Got 1.5.", ex.Message);
        Assert.Contains("SliceHeadMembership must be one of SfMembers, SfTimesIndicator, Indicator. Got 7.", ex.Message);
        Assert.Contains("IndicatorLossNormalization must be one of MeanOverSlices, SumOverSlices, RootOverSlices, CappedSum. Got 9.", ex.Message);
        Assert.Contains("IndicatorGradientScale must be a number in [0, 1]. Got -0.5.", ex.Message);
        Assert.Contains("LossBalancing must be one of FixedWeights, LearnedUncertainty. Got 4.", ex.Message);
        Assert.Contains("IndicatorGradientWeighting must be one of Uniform, PredictionAligned. Got 5.", ex.Message);
        var zeroWeight = Assert.Throws<ArgumentException>(() => NewModel(configure: o => { o.LossBalancing = LossBalancing.LearnedUncertainty; o.SliceHeadLossWeight = 0; }));
        Assert.Contains("LossBalancing.LearnedUncertainty needs every loss weight above 0", zeroWeight.Message);
        Assert.Contains("Got 1, 0, 1.", zeroWeight.Message);
        Assert.Throws<ArgumentException>(() => NewModel(configure: o => o.SliceGradientScale = double.NaN));
        var defaults = new SliceAwareOptions();
        Assert.Null(defaults.ExpertSize);
        Assert.Equal(1.0, defaults.Temperature);
        Assert.Equal(AttentionVariant.LearnedOdds, defaults.Attention);
        Assert.Equal(AttentionBackpropagation.ExpertsOnly, defaults.Backpropagation);
        var paper = new SliceAwareOptions().UsePaperAttention();
        Assert.Equal((AttentionVariant.Full, AttentionBackpropagation.IndicatorsAndExperts, 1.0), (paper.Attention, paper.Backpropagation, paper.Temperature));
        Assert.Equal(1.0, defaults.PredictionLossWeight);
        Assert.Equal(1.0, defaults.SliceHeadLossWeight);
        Assert.Equal(1.0, defaults.IndicatorLossWeight);
    }

    [Fact]
    public void ParameterCount_IsBackbonePlusTheFourHeads()
    {
        using var model = NewModel(numClasses: 3, configure: o => o.ExpertSize = 4);
        long d = 6, h = 4, m = 4, c = 3;
        long backbone = 3 * d + d;
        long expected = backbone + (d * m + m) + (m * d * h + m * h) + (h * c + c) + (h * c + c) + (m - 1); // + LearnedOdds' slice scores
        Assert.Equal(expected, model.ParameterCount());
        manual_seed(1);
        using var vanilla = VanillaModel.Create(nn.Sequential(nn.Linear(3, d), nn.ReLU()), d, 3);
        Assert.Equal(backbone + d * c + c, vanilla.ParameterCount());
    }

    [Fact]
    public void LossTerms_AreNormalisedAsDocumented_AndWeighted()
    {
        using var model = NewModel(configure: o => { o.PredictionLossWeight = 0.5; o.SliceHeadLossWeight = 2; o.IndicatorLossWeight = 3; });
        manual_seed(9);
        using var x = randn(6, 3);
        using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        using var membership = Membership();
        using var terms = model.LossTerms(x, y, membership);
        using var output = model.Run(x);
        var labels = y.data<long>().ToArray();
        var mask = membership.data<float>().ToArray();
        var p = output.SlicePredictionLogits.data<float>().ToArray();  // [6, 4, 2]
        var q = output.IndicatorLogits.data<float>().ToArray();        // [6, 4]
        var logits = output.Logits.data<float>().ToArray();            // [6, 2]
        double pred = 0, head = 0, ind = 0;
        int pairs = 0;
        for (int i = 0; i < 6; i++)
        {
            pred += Ce(logits[2 * i], logits[2 * i + 1], labels[i]) / 6;
            for (int j = 0; j < 4; j++)
            {
                double s = q[4 * i + j];
                double t = mask[4 * i + j];
                ind += (Math.Max(s, 0) - s * t + Math.Log(1 + Math.Exp(-Math.Abs(s)))) / 6;   // BCE summed over slices, mean over rows
                if (t == 1)
                {
                    head += Ce(p[8 * i + 2 * j], p[8 * i + 2 * j + 1], labels[i]);
                    pairs++;
                }
            }
        }
        head /= pairs;
        Assert.Equal(11, pairs);       // 6 base + 3 a + 2 b + 0 c
        Assert.Equal(11, terms.MemberPairs.item<float>());
        Assert.Equal(pred, terms.Prediction.item<float>(), 4);
        Assert.Equal(head, terms.SliceHead.item<float>(), 4);
        ind /= 4;   // averaged over the m = 4 slices
        Assert.Equal(3 * ind, terms.Indicator.item<float>(), 4);   // the default, CappedSum: the sum × 3/4 at m = 4
        Assert.Equal(0.5 * pred + 2 * head + 3 * (3 * ind), terms.Total.item<float>(), 4);
        using var mean = NewModel(configure: o => o.IndicatorLossNormalization = IndicatorLossNormalization.MeanOverSlices);
        using var meanTerms = mean.LossTerms(x, y, membership);
        Assert.Equal(ind, meanTerms.Indicator.item<float>(), 4);
        using var summed = NewModel(configure: o => o.IndicatorLossNormalization = IndicatorLossNormalization.SumOverSlices);
        using var summedTerms = summed.LossTerms(x, y, membership);
        Assert.Equal(4 * ind, summedTerms.Indicator.item<float>(), 4);   // same seed, same weights: the paper's sum
        using var root = NewModel(configure: o => o.IndicatorLossNormalization = IndicatorLossNormalization.RootOverSlices);
        using var rootTerms = root.LossTerms(x, y, membership);
        Assert.Equal(4 * ind / 2, rootTerms.Indicator.item<float>(), 4);  // the sum over √4
        using var capped = NewModel(configure: o => o.IndicatorLossNormalization = IndicatorLossNormalization.CappedSum);
        using var cappedTerms = capped.LossTerms(x, y, membership);
        Assert.Equal(4 * ind * 3 / 4, cappedTerms.Indicator.item<float>(), 4);  // m = 4: the sum times 3/4

        static double Ce(double l0, double l1, long label)
        {
            double max = Math.Max(l0, l1);
            double lse = max + Math.Log(Math.Exp(l0 - max) + Math.Exp(l1 - max));
            return lse - (label == 0 ? l0 : l1);
        }
    }

    [Theory]
    [InlineData(SliceHeadMembership.SfMembers)]
    [InlineData(SliceHeadMembership.SfTimesIndicator)]
    [InlineData(SliceHeadMembership.Indicator)]
    public void SliceHeadLoss_WeighsPairsByTheChosenMembership(SliceHeadMembership membershipMode)
    {
        foreach (int classes in new[] { 2, 3 })
        {
            using var model = NewModel(numClasses: classes, configure: o => o.SliceHeadMembership = membershipMode);
            manual_seed(12);
            using var x = randn(6, 3);
            using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
            using var membership = Membership();
            using var terms = model.LossTerms(x, y, membership);
            using var output = model.Run(x);
            var labels = y.data<long>().ToArray();
            var mask = membership.data<float>().ToArray();
            var p = output.SlicePredictionLogits.data<float>().ToArray();  // [6, 4, C]
            var q = output.IndicatorLogits.data<float>().ToArray();        // [6, 4]
            double head = 0;
            for (int i = 0; i < 6; i++)
            {
                for (int j = 0; j < 4; j++)
                {
                    double member = mask[4 * i + j];
                    double probability = 1 / (1 + Math.Exp(-q[4 * i + j]));
                    double weight = j == 0 ? member : membershipMode switch
                    {
                        SliceHeadMembership.SfMembers => member,
                        SliceHeadMembership.SfTimesIndicator => member * probability,
                        _ => probability,
                    };
                    var row = p.AsSpan((i * 4 + j) * classes, classes).ToArray();
                    double max = row.Max();
                    double lse = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                    head += weight * (lse - row[labels[i]]);
                }
            }
            // The normaliser stays the 11 SF member pairs (6 base + 3 a + 2 b + 0 c).
            Assert.Equal(head / 11, terms.SliceHead.item<float>(), 4);
        }
    }

    [Fact]
    public void SliceGradientScale_ScalesOnlyTheBackbonesShareOfTheSliceLosses()
    {
        // Indicator and slice-head losses only: the backbone's gradient is s times the plain one; the
        // heads' gradients and every forward value are unchanged.
        Dictionary<string, Tensor> Gradients(double scale, out float loss)
        {
            using var model = NewModel(configure: o => { o.PredictionLossWeight = 0; o.SliceGradientScale = scale; });
            model.UseFusedKernels = false;   // exact forward values across options: one path for all (the fused one is checked against it in FusedSramLossTests)
            using var total = BatchLoss(model);
            total.backward();
            loss = total.item<float>();
            return model.named_parameters().ToDictionary(t => t.name, t => t.parameter.grad!.clone());
        }
        var plain = Gradients(1.0, out float plainLoss);
        var quarter = Gradients(0.25, out float quarterLoss);
        var none = Gradients(0.0, out float noneLoss);
        Assert.Equal(plainLoss, quarterLoss);
        Assert.Equal(plainLoss, noneLoss);
        foreach (var (name, g) in plain)
        {
            bool backbone = name.StartsWith("backbone", StringComparison.Ordinal);
            Assert.True(quarter[name].allclose(backbone ? g * 0.25 : g, rtol: 1e-5, atol: 1e-7), name);
            if (backbone) Assert.Equal(0f, none[name].abs().sum().item<float>());
            else Assert.True(none[name].allclose(g, rtol: 1e-5, atol: 1e-7), name);
        }
        Assert.Contains(plain, kv => kv.Key.StartsWith("backbone", StringComparison.Ordinal) && kv.Value.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void IndicatorGradientScale_ScalesOnlyTheIndicatorLossesShareOfTheBackboneGradient()
    {
        // All three losses: the backbone's gradient is (full gradient) − (1 − s)·(the indicator loss's share of it);
        // every head's gradient and every forward value are unchanged.
        Dictionary<string, Tensor> Gradients(Action<SliceAwareOptions> configure, out float loss)
        {
            using var model = NewModel(configure: configure);
            model.UseFusedKernels = false;   // exact forward values across options: one path for all (the fused one is checked against it in FusedSramLossTests)
            manual_seed(7);
            using var x = randn(6, 3);
            using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
            using var membership = Membership();
            using var total = model.Loss(x, y, membership);
            total.backward();
            loss = total.item<float>();
            return model.named_parameters().ToDictionary(t => t.name, t => t.parameter.grad!.clone());
        }
        var plain = Gradients(_ => { }, out float plainLoss);
        var quarter = Gradients(o => o.IndicatorGradientScale = 0.25, out float quarterLoss);
        var none = Gradients(o => o.IndicatorGradientScale = 0, out float noneLoss);
        var onlyIndicator = Gradients(o => { o.PredictionLossWeight = 0; o.SliceHeadLossWeight = 0; }, out _);
        Assert.Equal(plainLoss, quarterLoss);
        Assert.Equal(plainLoss, noneLoss);
        foreach (var (name, g) in plain)
        {
            bool backbone = name.StartsWith("backbone", StringComparison.Ordinal);
            var indicatorShare = onlyIndicator[name];
            Assert.True(quarter[name].allclose(backbone ? g - 0.75 * indicatorShare : g, rtol: 1e-4, atol: 1e-6), name);
            Assert.True(none[name].allclose(backbone ? g - indicatorShare : g, rtol: 1e-4, atol: 1e-6), name);
        }
        Assert.Contains(onlyIndicator, kv => kv.Key.StartsWith("backbone", StringComparison.Ordinal) && kv.Value.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void PredictionAligned_PassesEachSlicesIndicatorGradientTimesItsPositiveCosineToThePredictionGradient()
    {
        // Backbone Linear(6, d) on one-hot rows: column b of its weight gradient is the gradient at z of row b.
        const int d = 5;
        SliceAwareModel Model(Action<SliceAwareOptions> configure)
        {
            manual_seed(21);
            return SliceAwareModel.Create(nn.Linear(6, d), d, 2, Names, o => { o.SliceHeadLossWeight = 0; o.IndicatorLossNormalization = IndicatorLossNormalization.MeanOverSlices; configure(o); });
        }
        using var x = eye(6);
        using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        using var membership = Membership();
        (double[,] Gz, Dictionary<string, Tensor> All, float Loss) Run(Action<SliceAwareOptions> configure)
        {
            using var model = Model(configure);
            using var total = model.Loss(x, y, membership);
            total.backward();
            var w = model.Backbone.parameters().First().grad!.data<float>().ToArray();   // [d, 6]
            var gz = new double[6, d];
            for (int b = 0; b < 6; b++) for (int j = 0; j < d; j++) gz[b, j] = w[j * 6 + b];
            return (gz, model.named_parameters().ToDictionary(t => t.name, t => t.parameter.grad!.clone()), total.item<float>());
        }
        var prediction = Run(o => o.IndicatorLossWeight = 0).Gz;
        var indicator = Run(o => o.PredictionLossWeight = 0).Gz;
        var uniform = Run(_ => { });
        var aligned = Run(o => o.IndicatorGradientWeighting = IndicatorGradientWeighting.PredictionAligned);

        // By hand: G_i[b] = e[b, i]·W_i with e = (sigmoid(q) − y) / (B·m) (the mean over the 4 slices).
        using var reference = Model(_ => { });
        using var output = reference.Run(x);
        var q = output.IndicatorLogits.data<float>().ToArray();
        var heads = reference.Sram.IndicatorHeads.weight!.data<float>().ToArray();   // [4, d]
        var mask = membership.data<float>().ToArray();
        var expected = (double[,])prediction.Clone();
        var sumOfSlices = new double[6, d];
        double predictionNorm = Math.Sqrt(prediction.Cast<double>().Sum(v => v * v));
        var kept = new double[4];
        for (int i = 0; i < 4; i++)
        {
            var g = new double[6, d];
            double dot = 0, norm = 0;
            for (int b = 0; b < 6; b++)
                for (int j = 0; j < d; j++)
                {
                    double e = (1 / (1 + Math.Exp(-q[4 * b + i])) - mask[4 * b + i]) / 24;
                    g[b, j] = e * heads[i * d + j];
                    dot += g[b, j] * prediction[b, j];
                    norm += g[b, j] * g[b, j];
                    sumOfSlices[b, j] += g[b, j];
                }
            kept[i] = Math.Clamp(dot / (Math.Sqrt(norm) * predictionNorm), 0, 1);
            for (int b = 0; b < 6; b++) for (int j = 0; j < d; j++) expected[b, j] += kept[i] * g[b, j];
        }
        for (int b = 0; b < 6; b++)
            for (int j = 0; j < d; j++)
            {
                Assert.Equal(indicator[b, j], sumOfSlices[b, j], 5);                    // the closed form is the indicator loss's gradient
                Assert.Equal(prediction[b, j] + indicator[b, j], uniform.Gz[b, j], 5);  // Uniform: all of it
                Assert.Equal(expected[b, j], aligned.Gz[b, j], 5);
            }
        Assert.Contains(kept, c => c < 1);   // the rule changes something on this batch
        Assert.Equal(uniform.Loss, aligned.Loss);
        foreach (var (name, g) in uniform.All.Where(kv => !kv.Key.StartsWith("backbone", StringComparison.Ordinal)))
            Assert.True(aligned.All[name].allclose(g, rtol: 1e-5, atol: 1e-7), name);   // the heads keep their gradient
    }

    [Fact]
    public void LearnedUncertainty_WeighsEachTermByExpMinusItsLogVariance_PlusTheLogVariances()
    {
        using var fixedWeights = NewModel(configure: o => { o.SliceHeadLossWeight = 2; o.IndicatorLossWeight = 3; });
        using var model = NewModel(configure: o => { o.LossBalancing = LossBalancing.LearnedUncertainty; o.SliceHeadLossWeight = 2; o.IndicatorLossWeight = 3; });
        Assert.Null(fixedWeights.LossLogVariances);
        Assert.Equal(fixedWeights.ParameterCount() + 3, model.ParameterCount());
        Assert.Contains(model.named_parameters(), p => p.name == "loss_log_variance");
        manual_seed(8);
        using var x = randn(6, 3);
        using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        using var membership = Membership();
        // s = 0 at the start: the same total as fixed weights (same seed, same initial weights).
        using (var start = model.LossTerms(x, y, membership))
        using (var reference = fixedWeights.LossTerms(x, y, membership))
            Assert.Equal(reference.Total.item<float>(), start.Total.item<float>(), 5);
        using (no_grad()) model.LossLogVariances!.copy_(tensor(new float[] { 0.5f, -1f, 2f }));
        using var terms = model.LossTerms(x, y, membership);
        double lp = terms.Prediction.item<float>(), lh = terms.SliceHead.item<float>(), li = terms.Indicator.item<float>();
        double expected = Math.Exp(-0.5) * lp + Math.Exp(1) * 2 * lh + Math.Exp(-2) * 3 * li + (0.5 - 1 + 2);
        Assert.Equal(expected, terms.Total.item<float>(), 4);
        terms.Total.backward();
        // d total / d s_t = 1 − exp(−s_t)·w_t·L_t.
        var grad = model.LossLogVariances!.grad!.data<float>().ToArray();
        Assert.Equal(1 - Math.Exp(-0.5) * lp, grad[0], 4);
        Assert.Equal(1 - Math.Exp(1) * 2 * lh, grad[1], 4);
        Assert.Equal(1 - Math.Exp(-2) * 3 * li, grad[2], 4);
    }

    [Fact]
    public void SharedHeadLoss_CountsOnlyMembers_NoGradientReachesAMemberlessSlicesExpert()
    {
        // Only the shared-head term: slice c has no member, so its expert gets no gradient, while
        // the experts of a and b do.
        using var model = NewModel(configure: o => { o.PredictionLossWeight = 0; o.IndicatorLossWeight = 0; });
        manual_seed(3);
        using var x = randn(6, 3);
        using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        using var membership = Membership();
        using var loss = model.Loss(x, y, membership);
        loss.backward();
        var grad = model.Sram.ExpertProjections.Weight.grad!;
        double[] perSlice = Enumerable.Range(0, 4).Select(i => (double)grad[i].abs().sum().item<float>()).ToArray();
        Assert.Equal(0.0, perSlice[3]);
        Assert.All(perSlice.Take(3), g => Assert.True(g > 1e-6, $"gradient {g}"));
        // A label change on a row outside every SF changes only the base pair's term.
        using var y2 = tensor(new long[] { 0, 1, 0, 0, 1, 0 });  // row 2 is only in base
        using var t1 = model.LossTerms(x, y, membership);
        using var t2 = model.LossTerms(x, y2, membership);
        using var output = model.Run(x);
        var p = output.SlicePredictionLogits[2, 0].data<float>().ToArray();
        double ce1 = Math.Log(Math.Exp(p[0]) + Math.Exp(p[1])) - p[1];
        double ce0 = Math.Log(Math.Exp(p[0]) + Math.Exp(p[1])) - p[0];
        Assert.Equal((ce0 - ce1) / 11, t2.SliceHead.item<float>() - t1.SliceHead.item<float>(), 4);
    }

    [Theory]
    [InlineData(AttentionVariant.Full)]
    [InlineData(AttentionVariant.IndicatorOnly)]
    [InlineData(AttentionVariant.ConfidenceOnly)]
    [InlineData(AttentionVariant.Uniform)]
    [InlineData(AttentionVariant.LearnedOdds)]
    public void Gradients_ReachEveryComponent(AttentionVariant variant)
    {
        using var model = NewModel(configure: o => o.Attention = variant);
        manual_seed(4);
        using var x = randn(6, 3);
        using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        using var membership = Membership();
        membership[5, 3] = tensor(1f);   // give slice c a member
        using var loss = model.Loss(x, y, membership);
        loss.backward();
        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.NotNull(parameter.grad);
            Assert.True(parameter.grad!.abs().sum().item<float>() > 0, $"no gradient reached {name}");
        }
    }

    [Fact]
    public void MultiClass_TrainsStepAndPredictsProbabilities()
    {
        using var model = NewModel(numClasses: 4, configure: o => o.ExpertSize = 5);
        manual_seed(6);
        using var x = randn(6, 3);
        using var y = tensor(new long[] { 0, 3, 2, 1, 3, 0 });
        using var membership = Membership();
        using var optimizer = SliceLearning.Training.OptimizerOptions.Adam(0.01).CreateOptimizer(model.parameters());
        float first = 0, last = 0;
        for (int i = 0; i < 60; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = model.Loss(x, y, membership);
            loss.backward();
            optimizer.step();
            if (i == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first / 2, $"loss {first} -> {last}");
        var (probabilities, classes) = model.Predict(x);
        using (probabilities)
        {
            Assert.Equal(new long[] { 6, 4 }, probabilities.shape);
            using var sums = probabilities.sum(1);
            Assert.True(sums.allclose(ones(6), atol: 1e-5));
            Assert.Equal(new[] { 0, 3, 2, 1, 3, 0 }, classes);   // memorised
        }
    }

    [Fact]
    public void Explain_GivesAttentionIndicatorsAndSlicePredictions_WithoutSfs()
    {
        // The backbone has dropout: in training mode two passes differ, so Explain must switch to
        // evaluation mode to match an evaluation-mode pass (and itself).
        manual_seed(5);
        using var model = SliceAwareModel.Create(nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Dropout(0.5)), 6, 3, Names);
        manual_seed(7);
        using var x = randn(5, 3);
        using (var a = model.Run(x))
        using (var b = model.Run(x))
            Assert.False(a.AttentionWeights.allclose(b.AttentionWeights), "dropout is active in training mode");
        var explanation = model.Explain(x, topSlices: 2);
        Assert.True(model.training);   // mode restored
        var again = model.Explain(x, topSlices: 2);
        Assert.Equal(explanation.Examples[0].AttentionWeights, again.Examples[0].AttentionWeights);
        model.eval();
        using var output = model.Run(x);
        model.train();
        Assert.Equal(model.SliceNames, explanation.SliceNames);
        Assert.Equal(5, explanation.Examples.Count);
        var attention = output.AttentionWeights.data<float>().ToArray();
        var indicator = output.IndicatorLogits.sigmoid().data<float>().ToArray();
        for (int i = 0; i < 5; i++)
        {
            var e = explanation.Examples[i];
            Assert.Equal(1.0, e.AttentionWeights.Sum(), 5);
            Assert.Equal(1.0, e.Probabilities.Sum(), 5);
            Assert.All(e.SliceProbabilities, p => Assert.Equal(1.0, p.Sum(), 5));
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(attention[4 * i + j], e.AttentionWeights[j], 6);
                Assert.Equal(indicator[4 * i + j], e.IndicatorProbabilities[j], 6);
            }
            Assert.Equal(2, e.TopSlices.Count);
            Assert.Equal(e.AttentionWeights.Max(), e.TopSlices[0].Weight);
            Assert.True(e.TopSlices[0].Weight >= e.TopSlices[1].Weight);
            Assert.Equal(Array.IndexOf(e.Probabilities, e.Probabilities.Max()), e.PredictedClass);
        }
        Assert.True(model.training);   // mode restored
    }

    [Fact]
    public void BadInput_GivesClearErrors()
    {
        using var model = NewModel();
        using var x = randn(6, 3);
        using var membership = Membership();
        using var badLabel = tensor(new long[] { 0, 1, 5, 0, 1, 0 });
        var label = Assert.Throws<SliceDataException>(() => model.Loss(x, badLabel, membership));
        Assert.Equal("Label 5 at row 2 is outside [0, 2) for a 2-class model.", label.Message.Split(" (Parameter")[0]);
        Assert.Equal(2, label.Row);

        using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        using var narrow = ones(6, 3);
        var width = Assert.Throws<SliceDataException>(() => model.Loss(x, y, narrow));
        Assert.Contains("Expected slice membership [6, 4] for the model's 4 slices (base, a, b, c), got [6, 3]", width.Message);

        using var empty = zeros(0, 3);
        using var noLabels = zeros(0, dtype: ScalarType.Int64);
        using var noMembership = zeros(0, 4);
        var emptyBatch = Assert.Throws<SliceDataException>(() => model.Loss(empty, noLabels, noMembership));
        Assert.Contains("The batch is empty", emptyBatch.Message);
        Assert.Throws<SliceDataException>(() => model.Predict(empty));

        using var wide = randn(6, 4);
        var backbone = Assert.Throws<SliceDataException>(() => model.Logits(wide));   // backbone Linear(3, 6) rejects 4 features
        Assert.StartsWith("The backbone could not take features of shape [6, 4]. Its first Linear layer expects 3 features per row; got 4.", backbone.Message);
        Assert.Equal("features", backbone.ParamName);
        Assert.NotNull(backbone.InnerException);
        manual_seed(1);
        using var lying = SliceAwareModel.Create(nn.Linear(3, 5), 6, 2, Names);
        var mismatch = Assert.Throws<InvalidOperationException>(() => lying.Logits(x));
        Assert.Contains("backboneWidth = 6", mismatch.Message);
    }
}
