using SliceLearning.Models;
using SliceLearning.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static SliceLearning.Tests.Models.SliceAwareFixture;

namespace SliceLearning.Tests.Models;

/// <summary>Low-rank residual experts (<see cref="ExpertForm.LowRankResidual"/>): r_i = z + (z A_i) B_i + b_i.</summary>
[Collection("Sequential")]
public sealed class SliceAwareLowRankExpertTests
{
    private static SliceAwareModel LowRank(long rank, Action<SliceAwareOptions>? more = null) =>
        NewModel(o => { o.ExpertForm = ExpertForm.LowRankResidual; o.ExpertRank = rank; more?.Invoke(o); });

    [Fact]
    public void Factors_HaveTheirShapes_AInitialisedLikeALinear_BAndBiasAtZero()
    {
        // m = 4 (base + 3), d = h = 6, r = 2: A [4, 6, 2] ~ U(±1/√6), B [4, 2, 6] = 0, b [4, 6] = 0.
        using var model = LowRank(2);
        var experts = model.Sram.ExpertProjections;
        Assert.Equal(2, experts.Rank);
        Assert.Equal(new long[] { 4, 6, 2 }, experts.Weight.shape);
        Assert.Equal(new long[] { 4, 2, 6 }, experts.WeightUp!.shape);
        Assert.Equal(new long[] { 4, 6 }, experts.Bias.shape);
        float bound = 1 / MathF.Sqrt(6);
        Assert.True(experts.Weight.abs().max().item<float>() <= bound);
        Assert.True(experts.Weight.abs().min().item<float>() > 0);
        Assert.Equal(0f, experts.WeightUp.abs().sum().item<float>());
        Assert.Equal(0f, experts.Bias.abs().sum().item<float>());
        // 2·d·r weights per expert instead of d² (+ d bias each): 4 · (2·6·2 + 6) = 120, against 4 · (36 + 6) = 168.
        Assert.Equal(120, experts.parameters().Sum(p => p.numel()));
        using var full = NewModel(o => o.ExpertForm = ExpertForm.Residual);
        Assert.Equal(168, full.Sram.ExpertProjections.parameters().Sum(p => p.numel()));
        Assert.Null(full.Sram.ExpertProjections.WeightUp);
        Assert.Equal(0, full.Sram.ExpertProjections.Rank);
    }

    [Fact]
    public void LowRankExperts_StartAsTheResidualIdentity()
    {
        // B_i = 0 and b_i = 0, so every r_i = z, z' = z and the logits are the prediction head on z, as with
        // zero-initialised full residual experts, although A is random.
        using var model = LowRank(3);
        manual_seed(3);
        using var x = randn(5, 3);
        using var z = model.Backbone.call(x);
        using var output = model.Run(x);
        using var r = model.Sram.ExpertRepresentations(z);
        Assert.True(r.allclose(z.unsqueeze(1).expand(5, 4, 6), rtol: 0, atol: 0));
        Assert.True(output.SliceAwareRepresentation.allclose(z, rtol: 0, atol: 1e-6));
        using var linear = model.Sram.PredictionHead.call(z);
        Assert.True(output.Logits.allclose(linear, rtol: 0, atol: 1e-6));
        using var shared = model.Sram.SharedSliceHead.call(z);
        for (int i = 0; i < 4; i++)
            Assert.True(output.SlicePredictionLogits.select(1, i).allclose(shared, rtol: 0, atol: 1e-6), $"slice {i}");
    }

    [Fact]
    public void LowRankExperts_OnAllForwardPaths_HandComputed()
    {
        // m = 3, d = h = 2, r = 1. A_0 = [1, 0]^T, B_0 = [0, 0]; A_1 = [1, 1]^T, B_1 = [1, -1], b_1 = [0.5, -0.5];
        // A_2 = [0, 2]^T, B_2 = [0.5, 0.5], b_2 = [1, 1]. z = [1, 2]:
        // r_0 = z = [1, 2]; z A_1 = 3, r_1 = [1, 2] + [3, -3] + [0.5, -0.5] = [4.5, -1.5];
        // z A_2 = 4, r_2 = [1, 2] + [2, 2] + [1, 1] = [4, 5].
        // a = [0.25, 0.5, 0.25]: z' = [0.25 + 2.25 + 1, 0.5 - 0.75 + 1.25] = [3.5, 1].
        // g(r) = r [1, -1]^T + 0.1: g(r_0) = -0.9, g(r_1) = 6.1, g(r_2) = -0.9.
        using var experts = new SliceExpertProjections(3, 2, 2, residual: true, rank: 1);
        using (no_grad())
        {
            experts.Weight.copy_(tensor(new float[] { 1, 0, 1, 1, 0, 2 }, new long[] { 3, 2, 1 }));
            experts.WeightUp!.copy_(tensor(new float[] { 0, 0, 1, -1, 0.5f, 0.5f }, new long[] { 3, 1, 2 }));
            experts.Bias.copy_(tensor(new float[] { 0, 0, 0.5f, -0.5f, 1, 1 }, new long[] { 3, 2 }));
        }
        using var effective = experts.EffectiveWeight();
        Assert.True(effective.allclose(tensor(new float[] { 0, 0, 0, 0, 1, -1, 1, -1, 0, 0, 1, 1 }, new long[] { 3, 2, 2 }), rtol: 0, atol: 0));
        using var wg = tensor(new float[] { 1, -1 }, new long[] { 1, 2 });
        using var bg = tensor(new float[] { 0.1f });
        // B = 11,000 (B·m·h > 2^16, d < m) takes the factored mix and the composed head instead of R.
        foreach (long rows in new long[] { 1, 11_000 })
        {
            Assert.Equal(rows == 1, experts.PrefersRepresentations(rows));
            using var z = tensor(new float[] { 1, 2 }).expand(rows, 2).contiguous();
            using var a = tensor(new float[] { 0.25f, 0.5f, 0.25f }).expand(rows, 3).contiguous();
            using var r = experts.call(z);
            Assert.True(r[rows - 1].allclose(tensor(new float[] { 1, 2, 4.5f, -1.5f, 4, 5 }, new long[] { 3, 2 }), rtol: 0, atol: 1e-6));
            using var mixed = experts.Mix(z, a);
            Assert.True(mixed[rows - 1].allclose(tensor(new float[] { 3.5f, 1 }), rtol: 0, atol: 1e-5), $"B = {rows}");
            using var p = experts.ThroughLinear(z, wg, bg);
            Assert.True(p[rows - 1].squeeze(1).allclose(tensor(new float[] { -0.9f, 6.1f, -0.9f }), rtol: 0, atol: 1e-5), $"B = {rows}");
        }
    }

    [Fact]
    public void LowRankExperts_EqualFullResidualExpertsWithTheProductAsWeight_InTheWholeModule()
    {
        // The SRAM module over low-rank experts computes what it computes over full residual experts whose W_i is
        // A_i B_i, on the R path (B = 6) and on the composed-head path (B = 2,000, m = 40 > d = 3).
        foreach (long rows in new long[] { 6, 2_000 })
        {
            manual_seed(7);
            using var lowRank = new SliceResidualAttention(40, 3, 3, 2, expertForm: ExpertForm.LowRankResidual, expertRank: 2);
            manual_seed(7);
            using var full = new SliceResidualAttention(40, 3, 3, 2, expertForm: ExpertForm.Residual);
            using (no_grad())
            {
                lowRank.ExpertProjections.WeightUp!.normal_();
                lowRank.ExpertProjections.Bias.normal_();
                foreach (var (target, source) in new[]
                {
                    (full.IndicatorHeads.weight!, lowRank.IndicatorHeads.weight!), (full.IndicatorHeads.bias!, lowRank.IndicatorHeads.bias!),
                    (full.SharedSliceHead.weight!, lowRank.SharedSliceHead.weight!), (full.SharedSliceHead.bias!, lowRank.SharedSliceHead.bias!),
                    (full.PredictionHead.weight!, lowRank.PredictionHead.weight!), (full.PredictionHead.bias!, lowRank.PredictionHead.bias!),
                    ((Tensor)full.ExpertProjections.Bias, (Tensor)lowRank.ExpertProjections.Bias),
                })
                    target.copy_(source);
                using var w = lowRank.ExpertProjections.EffectiveWeight();
                full.ExpertProjections.Weight.copy_(w);
            }
            Assert.Equal(rows == 6, lowRank.ExpertProjections.PrefersRepresentations(rows));
            manual_seed(8);
            using var z = randn(rows, 3);
            using var a = lowRank.call(z);
            using var b = full.call(z);
            Assert.True(a.SlicePredictionLogits.allclose(b.SlicePredictionLogits, rtol: 1e-4, atol: 1e-4), $"P, B = {rows}");
            Assert.True(a.AttentionWeights.allclose(b.AttentionWeights, rtol: 1e-4, atol: 1e-5), $"a, B = {rows}");
            Assert.True(a.Logits.allclose(b.Logits, rtol: 1e-4, atol: 1e-4), $"logits, B = {rows}");
        }
    }

    [Fact]
    public void Gradient_ReachesB_FromTheStart_AndA_OnceBIsNotZero()
    {
        // With B = 0, ∂L/∂A_i = zᵀ (∂L/∂r_i) B_iᵀ = 0 exactly, as in LoRA; B_i's gradient (z A_i)ᵀ ∂L/∂r_i is not.
        using var model = LowRank(2);
        var experts = model.Sram.ExpertProjections;
        using (var total = BatchLoss(model)) total.backward();
        Assert.Equal(0f, experts.Weight.grad!.abs().sum().item<float>());
        Assert.True(experts.WeightUp!.grad!.abs().sum().item<float>() > 1e-4f);
        Assert.True(experts.Bias.grad!.abs().sum().item<float>() > 1e-4f);
        model.zero_grad();
        using (no_grad()) experts.WeightUp.add_(0.1);
        using (var total = BatchLoss(model)) total.backward();   // the same batch again
        Assert.True(experts.Weight.grad!.abs().sum().item<float>() > 1e-4f);
        Assert.True(experts.WeightUp.grad!.abs().sum().item<float>() > 1e-4f);
    }

    [Fact]
    public void ExpertWeightDecay_PenalisesBothFactors()
    {
        const double lambda = 0.3;
        (float Loss, Tensor AGrad, Tensor BGrad, Tensor A, Tensor B, Tensor BiasGrad) Run(double decay)
        {
            using var model = LowRank(2, o => o.ExpertWeightDecay = decay);
            var experts = model.Sram.ExpertProjections;
            using (no_grad()) experts.WeightUp!.add_(0.2);
            using var total = BatchLoss(model);
            total.backward();
            return (total.item<float>(), experts.Weight.grad!.clone(), experts.WeightUp!.grad!.clone(),
                experts.Weight.detach().clone(), experts.WeightUp.detach().clone(), experts.Bias.grad!.clone());
        }
        var plain = Run(0);
        var decayed = Run(lambda);
        // Same seed, same weights: the loss grows by λ/2 (Σ A² + Σ B²), A's and B's gradients by λ A and λ B.
        float penalty = (float)(lambda / 2) * (plain.A.square().sum().item<float>() + plain.B.square().sum().item<float>());
        Assert.True((float)(lambda / 2) * plain.B.square().sum().item<float>() > 0.01f);
        Assert.Equal(plain.Loss + penalty, decayed.Loss, 4);
        Assert.True(decayed.AGrad.allclose(plain.AGrad + plain.A * lambda, rtol: 1e-5, atol: 1e-6));
        Assert.True(decayed.BGrad.allclose(plain.BGrad + plain.B * lambda, rtol: 1e-5, atol: 1e-6));
        Assert.True(decayed.BiasGrad.allclose(plain.BiasGrad, rtol: 1e-6, atol: 1e-7));
    }

    [Fact]
    public void ExpertDropout_DropsTheCorrection_NotZ()
    {
        manual_seed(4);
        using var x = randn(8, 3);
        using var model = LowRank(2, o => o.ExpertDropout = 0.5);
        using var z = model.Backbone.call(x);
        // At the start the correction is 0: nothing to drop, training output = the prediction head on z.
        model.train();
        using (var output = model.Run(x))
        using (var head = model.Sram.PredictionHead.call(z))
            Assert.True(output.Logits.allclose(head, rtol: 0, atol: 1e-6));
        // With a correction, training drops part of it (output differs from evaluation); evaluation is deterministic.
        using (no_grad()) model.Sram.ExpertProjections.WeightUp!.add_(0.5);
        manual_seed(8);
        using var trained = model.Run(x);
        model.eval();
        using var eval1 = model.Run(x);
        using var eval2 = model.Run(x);
        Assert.True(eval1.Logits.allclose(eval2.Logits, rtol: 0, atol: 0));
        Assert.False(trained.Logits.allclose(eval1.Logits, rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void Validate_NamesEachBadRankProblem_InOneException()
    {
        var ex = Assert.Throws<ArgumentException>(() => NewModel(o =>
        {
            o.ExpertForm = ExpertForm.LowRankResidual;
            o.ExpertRank = 0;
            o.ExpertSize = 4;
            o.ExpertDropout = -0.1;
        }));
        Assert.Contains("ExpertRank must be at least 1. Got 0.", ex.Message);
        Assert.Contains("ExpertForm LowRankResidual adds z to every expert, so ExpertSize must be the backbone width d = 6 (or null). Got 4.", ex.Message);
        Assert.Contains("ExpertDropout must be a probability in [0, 1). Got -0.1.", ex.Message);
        var high = Assert.Throws<ArgumentException>(() => LowRank(7));
        Assert.Contains("ExpertRank must be at most the backbone width d = 6 for ExpertForm LowRankResidual. Got 7.", high.Message);
        Assert.Contains("ExpertRank must be at least 1. Got -2.", Assert.Throws<ArgumentException>(() => new SliceAwareOptions { ExpertRank = -2 }.Validate()).Message);
        // The other forms ignore the rank (as long as it is at least 1); rank d is full rank and allowed.
        using (var projection = NewModel(o => o.ExpertRank = 7)) Assert.Equal(0, projection.Sram.ExpertProjections.Rank);
        using (var fullRank = LowRank(6)) Assert.Equal(6, fullRank.Sram.ExpertProjections.Rank);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SliceExpertProjections(2, 3, 3, residual: true, rank: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SliceExpertProjections(2, 3, 3, residual: true, rank: -1));
        Assert.Contains("pass residual: true", Assert.Throws<ArgumentException>(() => new SliceExpertProjections(2, 3, 3, rank: 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SliceResidualAttention(2, 3, 3, 2, expertForm: ExpertForm.LowRankResidual, expertRank: 0));
    }

    [Fact]
    public void LowRankExperts_RoundTripThroughACheckpoint_WithBothFactors()
    {
        using var model = LowRank(3, o => o.ExpertWeightDecay = 0.05);
        using (no_grad()) model.Sram.ExpertProjections.WeightUp!.add_(0.1);
        AssertCheckpointRoundTrip(model, loaded =>
        {
            Assert.Equal((ExpertForm.LowRankResidual, 3L, 0.05), (loaded.Options.ExpertForm, loaded.Options.ExpertRank, loaded.Options.ExpertWeightDecay));
            var experts = loaded.Sram.ExpertProjections;
            Assert.Equal(3, experts.Rank);
            Assert.True(experts.Weight.allclose(model.Sram.ExpertProjections.Weight, rtol: 0, atol: 0));
            Assert.True(experts.WeightUp!.allclose(model.Sram.ExpertProjections.WeightUp!, rtol: 0, atol: 0));
        });
    }
}
