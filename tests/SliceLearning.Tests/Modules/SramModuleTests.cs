using SliceLearning.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Modules;

[Collection("Sequential")]
public sealed class SramModuleTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public void Forward_HasThePaperShapes_ForKSlices(int k)
    {
        manual_seed(1);
        long m = k + 1, d = 5, h = 3, c = 2, b = 4;
        using var sram = new SliceResidualAttention(m, d, h, c);
        using var z = randn(b, d);
        using var output = sram.call(z);
        Assert.Equal(new[] { b, m }, output.IndicatorLogits.shape);
        Assert.Equal(new[] { b, m, c }, output.SlicePredictionLogits.shape);
        Assert.Equal(new[] { b, m }, output.AttentionWeights.shape);
        Assert.Equal(new[] { b, h }, output.SliceAwareRepresentation.shape);
        Assert.Equal(new[] { b, c }, output.Logits.shape);
        using var r = sram.ExpertRepresentations(z);
        Assert.Equal(new[] { b, m, h }, r.shape);
        using var rowSums = output.AttentionWeights.sum(1);
        Assert.True(rowSums.allclose(ones(b), rtol: 0, atol: 1e-5));
    }

    [Theory]
    [InlineData(4, 3, 5, true)]      // d < m, small R [B, m, h]: P and the attended sum from R
    [InlineData(3, 5, 5, true)]      // d >= m: P and the attended sum from R
    [InlineData(40, 3, 300, false)]  // d < m, R of 72,000 values (> 2^16): composed shared head, per-example mixed expert weights
    public void BatchedForward_EqualsAPerSliceLoop(long m, long d, long h, bool fromRepresentations)
    {
        // The fused computation (batched experts, shared head, attended sum) must equal the
        // paper's definitions computed slice by slice, on both paths.
        manual_seed(2);
        long c = 3, b = 6;
        using (var projections = new SliceExpertProjections(m, d, h))
            Assert.Equal(fromRepresentations, projections.PrefersRepresentations(b));
        using var sram = new SliceResidualAttention(m, d, h, c, AttentionVariant.Full, temperature: 0.7);
        using var z = randn(b, d);
        using var output = sram.call(z);
        var w = sram.ExpertProjections.Weight;
        var bias = sram.ExpertProjections.Bias;
        var head = sram.SharedSliceHead;
        var r = new Tensor[m];
        var p = new Tensor[m];
        for (int i = 0; i < m; i++)
        {
            r[i] = z.matmul(w[i]) + bias[i];   // r_i = z W_i + b_i
            p[i] = head.call(r[i]);            // p_i = g(r_i)
        }
        using var pLoop = stack(p, 1);
        Assert.True(output.SlicePredictionLogits.allclose(pLoop, rtol: 1e-4, atol: 1e-5));
        using var rLoop = stack(r, 1);
        using var rBatched = sram.ExpertRepresentations(z);
        Assert.True(rBatched.allclose(rLoop, rtol: 1e-4, atol: 1e-5));
        // margin confidence for C = 3, then softmax((Q + conf) / T)
        var (top, _) = pLoop.topk(2, dim: -1);
        using var conf = top.select(-1, 0) - top.select(-1, 1);
        using var a = ((sram.IndicatorHeads.call(z) + conf) / 0.7).softmax(1);
        Assert.True(output.AttentionWeights.allclose(a, rtol: 1e-4, atol: 1e-6));
        using var zPrime = (a.unsqueeze(2) * rLoop).sum(1);
        Assert.True(output.SliceAwareRepresentation.allclose(zPrime, rtol: 1e-4, atol: 1e-5));
        using var logits = sram.PredictionHead.call(zPrime);
        Assert.True(output.Logits.allclose(logits, rtol: 1e-4, atol: 1e-5));
        foreach (var t in r.Concat(p)) t.Dispose();
    }

    [Fact]
    public void Confidence_IsAbsoluteLogitGapForBinary_AndTopTwoMarginForMultiClass()
    {
        // binary: |p1 - p0|, i.e. |logit| of the equivalent single-logit head
        using var binary = tensor(new float[] { 0.5f, 2.5f, 1f, -3f }, new long[] { 1, 2, 2 });
        using var binaryConf = SliceAttention.Confidence(binary);
        Assert.Equal(new[] { 2.0f, 4.0f }, binaryConf.data<float>().ToArray());
        // multi-class: top-1 minus top-2 logit
        using var multi = tensor(new float[] { 1f, 4f, 2.5f, -1f, -2f, -1.5f }, new long[] { 1, 2, 3 });
        using var multiConf = SliceAttention.Confidence(multi);
        var values = multiConf.data<float>().ToArray();
        Assert.Equal(1.5f, values[0], 5);
        Assert.Equal(0.5f, values[1], 5);
        // single logit: |p|
        using var single = tensor(new float[] { -0.75f, 2f }, new long[] { 1, 2, 1 });
        using var singleConf = SliceAttention.Confidence(single);
        Assert.Equal(new[] { 0.75f, 2f }, singleConf.data<float>().ToArray());
    }

    [Theory]
    [InlineData(AttentionVariant.Full, 1.0)]
    [InlineData(AttentionVariant.Full, 2.0)]
    [InlineData(AttentionVariant.IndicatorOnly, 1.0)]
    [InlineData(AttentionVariant.ConfidenceOnly, 0.5)]
    [InlineData(AttentionVariant.Uniform, 1.0)]
    public void AttentionVariants_MatchHandComputedSoftmax(AttentionVariant variant, double temperature)
    {
        float[] q = { 1f, -1f, 0.5f };
        float[] conf = { 0.5f, 3f, 0f };          // from the logits below
        float[] logits = { 0f, 0.5f, 2f, -1f, 1f, 1f };
        using var qt = tensor(q, new long[] { 1, 3 });
        using var pt = tensor(logits, new long[] { 1, 3, 2 });
        using var weights = SliceAttention.Weights(qt, pt, variant, temperature);
        double[] scores = variant switch
        {
            AttentionVariant.Full => q.Zip(conf, (a, b) => (double)a + b).ToArray(),
            AttentionVariant.IndicatorOnly => q.Select(v => (double)v).ToArray(),
            AttentionVariant.ConfidenceOnly => conf.Select(v => (double)v).ToArray(),
            _ => new double[3],
        };
        double[] exp = scores.Select(s => Math.Exp(s / temperature)).ToArray();
        double total = exp.Sum();
        var actual = weights.data<float>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(exp[i] / total, actual[i], 5);
        if (variant == AttentionVariant.Uniform) Assert.All(actual, v => Assert.Equal(1.0 / 3, v, 6));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void LearnedOdds_BaseScoresZero_SlicesAddIndicatorLogConfidenceAndLearnedScore(double temperature)
    {
        float[] q = { 4f, -1f, 0.5f };             // the base indicator logit is ignored
        float[] logits = { 0f, 0.5f, 2f, -1f, 1f, 1f };
        float[] learned = { 0.25f, -0.5f };
        using var qt = tensor(q, new long[] { 1, 3 });
        using var pt = tensor(logits, new long[] { 1, 3, 2 });
        using var bt = tensor(learned);
        using var weights = SliceAttention.Weights(qt, pt, AttentionVariant.LearnedOdds, temperature, bt);
        static double LogMaxSoftmax(double a, double b) => Math.Max(a, b) - Math.Log(Math.Exp(a) + Math.Exp(b));
        double[] scores =
        {
            0,
            q[1] + LogMaxSoftmax(2, -1) + learned[0],
            q[2] + LogMaxSoftmax(1, 1) + learned[1],
        };
        double[] exp = scores.Select(v => Math.Exp(v / temperature)).ToArray();
        var actual = weights.data<float>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(exp[i] / exp.Sum(), actual[i], 5);
        // The confidence term is bounded: at most 0, at least -log C.
        using var confidence = SliceAttention.LogConfidence(pt);
        Assert.All(confidence.data<float>().ToArray(), v => Assert.InRange(v, -Math.Log(2) - 1e-6, 0));
    }

    [Theory]
    [InlineData(AttentionBackpropagation.ExpertsOnly, false)]
    [InlineData(AttentionBackpropagation.IndicatorsAndExperts, true)]
    public void Backpropagation_DecidesWhetherThePredictionReachesTheIndicators(AttentionBackpropagation mode, bool reaches)
    {
        manual_seed(5);
        using var sram = new SliceResidualAttention(3, 4, 4, 2, AttentionVariant.LearnedOdds, backpropagation: mode);
        Assert.NotNull(sram.SliceScores);
        using var z = randn(8, 4);
        using var output = sram.call(z);
        using var loss = output.Logits.sum();
        loss.backward();
        var indicatorGradient = sram.IndicatorHeads.weight!.grad;
        double norm = indicatorGradient is null ? 0 : indicatorGradient.abs().sum().item<float>();
        Assert.Equal(reaches, norm > 0);
        Assert.True(sram.ExpertProjections.Weight.grad!.abs().sum().item<float>() > 0, "the experts always learn from the prediction");
        Assert.True(sram.SliceScores!.grad!.abs().sum().item<float>() > 0, "the learned slice scores learn from the prediction");
    }

    [Fact]
    public void OnlyLearnedOdds_HasLearnedSliceScores()
    {
        using var full = new SliceResidualAttention(3, 4, 4, 2, AttentionVariant.Full);
        Assert.Null(full.SliceScores);
        Assert.DoesNotContain(full.named_parameters(), p => p.name.Contains("slice_score"));
        using var odds = new SliceResidualAttention(3, 4, 4, 2);
        Assert.Equal(AttentionVariant.LearnedOdds, odds.Attention);
        Assert.Equal(new long[] { 2 }, odds.SliceScores!.shape);
        Assert.Equal(0f, odds.SliceScores.abs().sum().item<float>());
    }

    [Fact]
    public void InvalidSizes_AndTemperature_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SliceResidualAttention(0, 3, 3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SliceResidualAttention(2, 3, 3, 1));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SliceResidualAttention(2, 3, 3, 2, temperature: 0));
        Assert.Equal("temperature", ex.ParamName);
        var scale = Assert.Throws<ArgumentOutOfRangeException>(() => new SliceResidualAttention(2, 3, 3, 2, sliceGradientScale: -0.1));
        Assert.Equal("sliceGradientScale", scale.ParamName);
        Assert.Contains("[0, 1]", scale.Message);
        var indicatorScale = Assert.Throws<ArgumentOutOfRangeException>(() => new SliceResidualAttention(2, 3, 3, 2, indicatorGradientScale: 1.5));
        Assert.Equal("indicatorGradientScale", indicatorScale.ParamName);
        Assert.Contains("[0, 1]", indicatorScale.Message);
        using var sram = new SliceResidualAttention(2, 3, 3, 2);
        using var wrong = zeros(4, 5);
        var shape = Assert.Throws<ArgumentException>(() => sram.call(wrong));
        Assert.Contains("d = 3", shape.Message);
    }
}
