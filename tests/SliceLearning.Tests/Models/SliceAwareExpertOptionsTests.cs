using SliceLearning.Models;
using SliceLearning.Modules;
using TorchSharp;
using static TorchSharp.torch;
using static SliceLearning.Tests.Models.SliceAwareFixture;

namespace SliceLearning.Tests.Models;

/// <summary>The expert options: residual experts, the expert weight penalty and expert dropout.</summary>
[Collection("Sequential")]
public sealed class SliceAwareExpertOptionsTests
{
    [Fact]
    public void Defaults_AreThePapersProjections_WithoutPenaltyOrDropout()
    {
        var defaults = new SliceAwareOptions();
        Assert.Equal(ExpertForm.Projection, defaults.ExpertForm);
        Assert.Equal(0.0, defaults.ExpertWeightDecay);
        Assert.Equal(0.0, defaults.ExpertDropout);
    }

    [Fact]
    public void Validate_NamesEachBadExpertOption()
    {
        var ex = Assert.Throws<ArgumentException>(() => NewModel(o =>
        {
            o.ExpertForm = (ExpertForm)5;
            o.ExpertWeightDecay = -0.5;
            o.ExpertDropout = 1;
        }));
        Assert.Contains("ExpertForm must be one of Projection, Residual, LowRankResidual. Got 5.", ex.Message);
        Assert.Contains("ExpertWeightDecay must be a finite number >= 0. Got -0.5.", ex.Message);
        Assert.Contains("ExpertDropout must be a probability in [0, 1). Got 1.", ex.Message);
        var size = Assert.Throws<ArgumentException>(() => NewModel(o => { o.ExpertForm = ExpertForm.Residual; o.ExpertSize = 4; }));
        Assert.Contains("ExpertForm Residual adds z to every expert, so ExpertSize must be the backbone width d = 6 (or null). Got 4.", size.Message);
        using var same = NewModel(o => { o.ExpertForm = ExpertForm.Residual; o.ExpertSize = 6; });
        Assert.Equal(6, same.ExpertSize);
        Assert.Throws<ArgumentException>(() => NewModel(o => o.ExpertDropout = double.NaN));
        Assert.Throws<ArgumentException>(() => new SliceExpertProjections(2, 3, 4, residual: true));
    }

    [Fact]
    public void ResidualExperts_StartAsTheBackboneWithALinearHead()
    {
        // W_i = 0 and b_i = 0, so every r_i = z, z' = z and the logits are the prediction head on z.
        using var model = NewModel(o => o.ExpertForm = ExpertForm.Residual);
        Assert.Equal(0f, model.Sram.ExpertProjections.Weight.abs().sum().item<float>());
        Assert.Equal(0f, model.Sram.ExpertProjections.Bias.abs().sum().item<float>());
        manual_seed(3);
        using var x = randn(5, 3);
        using var z = model.Backbone.call(x);
        using var output = model.Run(x);
        Assert.True(output.SliceAwareRepresentation.allclose(z, rtol: 0, atol: 1e-6));
        using var linear = model.Sram.PredictionHead.call(z);
        Assert.True(output.Logits.allclose(linear, rtol: 0, atol: 1e-6));
        using var shared = model.Sram.SharedSliceHead.call(z);
        for (int i = 0; i < 4; i++)
            Assert.True(output.SlicePredictionLogits.select(1, i).allclose(shared, rtol: 0, atol: 1e-6), $"slice {i}");
    }

    [Fact]
    public void ResidualExperts_AddZ_OnBothForwardPaths_HandComputed()
    {
        // m = 3, d = h = 2. W_0 = 0, b_0 = 0; W_1 = [[0, 1], [1, 0]], b_1 = [0.5, -0.5]; W_2 = I, b_2 = [1, 1].
        // z = [1, 2]: r_0 = z = [1, 2]; r_1 = z + z W_1 + b_1 = [1, 2] + [2, 1] + [0.5, -0.5] = [3.5, 2.5];
        // r_2 = z + z + [1, 1] = [3, 5]. a = [0.25, 0.5, 0.25]: sum a_i r_i = [0.25 + 1.75 + 0.75, 0.5 + 1.25 + 1.25] = [2.75, 3].
        // g(r) = r [1, -1]^T + 0.1: g(r_0) = -0.9, g(r_1) = 1.1, g(r_2) = -1.9.
        using var experts = new SliceExpertProjections(3, 2, 2, residual: true);
        using (no_grad())
        {
            experts.Weight.copy_(tensor(new float[] { 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1 }, new long[] { 3, 2, 2 }));
            experts.Bias.copy_(tensor(new float[] { 0, 0, 0.5f, -0.5f, 1, 1 }, new long[] { 3, 2 }));
        }
        using var wg = tensor(new float[] { 1, -1 }, new long[] { 1, 2 });
        using var bg = tensor(new float[] { 0.1f });
        // A batch large enough (B·m·h > 2^16, d < m) for Mix and ThroughLinear to take the mixed-weight path.
        foreach (long rows in new long[] { 1, 11_000 })
        {
            Assert.Equal(rows == 1, experts.PrefersRepresentations(rows));
            using var z = tensor(new float[] { 1, 2 }).expand(rows, 2).contiguous();
            using var a = tensor(new float[] { 0.25f, 0.5f, 0.25f }).expand(rows, 3).contiguous();
            using var r = experts.call(z);
            using var expectedR = tensor(new float[] { 1, 2, 3.5f, 2.5f, 3, 5 }, new long[] { 3, 2 });
            Assert.True(r[0].allclose(expectedR, rtol: 0, atol: 1e-6));
            using var mixed = experts.Mix(z, a);
            Assert.True(mixed[rows - 1].allclose(tensor(new float[] { 2.75f, 3 }), rtol: 0, atol: 1e-5), $"B = {rows}");
            using var p = experts.ThroughLinear(z, wg, bg);
            Assert.True(p[rows - 1].squeeze(1).allclose(tensor(new float[] { -0.9f, 1.1f, -1.9f }), rtol: 0, atol: 1e-5), $"B = {rows}");
        }
    }

    [Fact]
    public void ExpertWeightDecay_AddsHalfLambdaTimesTheSquaredExpertWeights()
    {
        const double lambda = 0.3;
        (float Loss, Tensor WeightGrad, Tensor Weight, Tensor BiasGrad) Run(double decay)
        {
            using var model = NewModel(o => o.ExpertWeightDecay = decay);
            using var total = BatchLoss(model);
            total.backward();
            var experts = model.Sram.ExpertProjections;
            return (total.item<float>(), experts.Weight.grad!.clone(), experts.Weight.detach().clone(), experts.Bias.grad!.clone());
        }
        var plain = Run(0);
        var decayed = Run(lambda);
        // Same seed, so the same weights: the loss grows by λ/2 Σ W², W's gradient by λ W, the biases' not at all.
        float penalty = (float)(lambda / 2) * plain.Weight.square().sum().item<float>();
        Assert.True(penalty > 0.01f);
        Assert.Equal(plain.Loss + penalty, decayed.Loss, 4);
        Assert.True(decayed.WeightGrad.allclose(plain.WeightGrad + plain.Weight * lambda, rtol: 1e-5, atol: 1e-6));
        Assert.True(decayed.BiasGrad.allclose(plain.BiasGrad, rtol: 1e-6, atol: 1e-7));
    }

    [Fact]
    public void ExpertDropout_DropsTheExpertsOwnPartWhileTraining_AndNothingInEvaluation()
    {
        manual_seed(4);
        using var x = randn(8, 3);
        using var plain = NewModel();
        using var dropped = NewModel(o => o.ExpertDropout = 0.5);
        // The same seed gives the same weights: in evaluation the outputs are equal.
        plain.eval();
        dropped.eval();
        using (var a = plain.Run(x))
        using (var b = dropped.Run(x))
            Assert.True(a.Logits.allclose(b.Logits, rtol: 0, atol: 0));
        // While training, the one mask zeroes whole expert units for P and z' alike: for every (example, slice)
        // whose dropped units are known, P equals the shared head on the masked r_i that z' mixes.
        dropped.train();
        manual_seed(8);
        using var output = dropped.Run(x);
        using var z = dropped.Backbone.call(x);
        using var r = dropped.Sram.ExpertRepresentations(z);                 // unmasked [8, 4, 6]
        // z' = Σ a_i (mask ⊙ r_i) / 0.5 keeps only kept units; it differs from the unmasked mix.
        using var unmasked = output.AttentionWeights.unsqueeze(1).bmm(r).squeeze(1);
        Assert.False(output.SliceAwareRepresentation.allclose(unmasked, rtol: 1e-3, atol: 1e-3));
        // Residual experts with W = b = 0 have no own part to drop: training output = z's linear head.
        using var residual = NewModel(o => { o.ExpertForm = ExpertForm.Residual; o.ExpertDropout = 0.5; });
        residual.train();
        using var zr = residual.Backbone.call(x);
        using var outputR = residual.Run(x);
        using var head = residual.Sram.PredictionHead.call(zr);
        Assert.True(outputR.Logits.allclose(head, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void ExpertDropoutMask_ScalesKeptUnitsByOneOverKeep_HandComputed()
    {
        // Project with a given mask: own part z W_i + b_i times the mask, then + z for residual experts.
        using var experts = new SliceExpertProjections(2, 2, 2, residual: true);
        using (no_grad())
        {
            experts.Weight.copy_(tensor(new float[] { 1, 0, 0, 1, 0, 1, 1, 0 }, new long[] { 2, 2, 2 }));
            experts.Bias.copy_(tensor(new float[] { 1, 1, 0, 0 }, new long[] { 2, 2 }));
        }
        using var z = tensor(new float[] { 1, 2 }, new long[] { 1, 2 });
        using var mask = tensor(new float[] { 2, 0, 0, 2 }, new long[] { 1, 2, 2 });
        // own parts: r_0 = z I + [1, 1] = [2, 3]; r_1 = z [[0,1],[1,0]] = [2, 1].
        // masked: [4, 0] and [0, 2]; plus z: [5, 2] and [1, 4].
        using var r = experts.Project(z, mask);
        Assert.True(r.allclose(tensor(new float[] { 5, 2, 1, 4 }, new long[] { 1, 2, 2 }), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void ExpertOptions_RoundTripThroughACheckpoint_WithTheirWeights()
    {
        using var model = NewModel(o => { o.ExpertForm = ExpertForm.Residual; o.ExpertWeightDecay = 0.01; o.ExpertDropout = 0.2; });
        using (no_grad()) model.Sram.ExpertProjections.Weight.add_(0.1);
        AssertCheckpointRoundTrip(model, loaded =>
        {
            var options = loaded.Options;
            Assert.Equal((ExpertForm.Residual, 0.01, 0.2), (options.ExpertForm, options.ExpertWeightDecay, options.ExpertDropout));
            Assert.True(loaded.Sram.ExpertProjections.Residual);
        });
    }
}
