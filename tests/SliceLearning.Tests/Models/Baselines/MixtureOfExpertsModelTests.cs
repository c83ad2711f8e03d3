using SliceLearning.Data.Synthetic;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Models.Baselines;

[Collection("Sequential")]
public sealed class MixtureOfExpertsModelTests
{
    [Fact]
    public void GateWeights_AreAProbabilityVectorPerExample()
    {
        torch.manual_seed(1);
        using var model = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(8), 8, 2, new[] { "a", "b", "c" });
        using var x = torch.randn(50, 2) * 3;
        using var gate = model.GateWeights(x);
        Assert.Equal(new long[] { 50, 4 }, gate.shape);
        using var sums = gate.sum(1);
        Assert.All(sums.data<float>().ToArray(), s => Assert.Equal(1f, s, 5));
        Assert.True(gate.min().item<float>() >= 0);
        // The prediction is the gate-weighted mixture of expert probabilities.
        using var experts = model.ExpertLogits(x).softmax(2);
        using var expected = (experts * gate.unsqueeze(2)).sum(1);
        using var actual = model.Logits(x).softmax(1);
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void ParameterCount_IsOneWholeModelPerSlicePlusTheGate()
    {
        using var model = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(), 13, 2, new[] { "s1", "s2" });
        // m = 3 experts (221 backbone + 28 head) and a gate (221 + 13*3 + 3).
        Assert.Equal(3 * (221 + 28) + 221 + 42, model.ParameterCount());
    }

    [Fact]
    public void Experts_LearnOnlyFromTheirSlice()
    {
        torch.manual_seed(2);
        using var model = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(4), 4, 2, new[] { "s" });
        using var x = torch.randn(6, 2);
        using var y = torch.tensor(new long[] { 0, 1, 0, 1, 0, 1 });
        using var m = torch.tensor(new float[] { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 }, new long[] { 6, 2 }); // nobody in "s"
        model.Module.zero_grad();
        using var loss = model.Loss(x, y, m);
        loss.backward();
        var grads = model.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        // Expert 1 ("s") has no members: no gradient reaches it, not even through the mixture.
        Assert.All(grads.Where(g => g.Key.StartsWith("experts.1.", StringComparison.Ordinal)), g => Assert.True(g.Value is null || g.Value.abs().sum().item<float>() == 0, g.Key));
        Assert.Contains(grads, g => g.Key.StartsWith("gate.", StringComparison.Ordinal) && g.Value is not null && g.Value.abs().sum().item<float>() > 0);
        Assert.Contains(grads, g => g.Key.StartsWith("experts.0.", StringComparison.Ordinal) && g.Value is not null && g.Value.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void RoutingLoss_IsTheGateCrossEntropyAgainstMembershipSpreadOverSlices()
    {
        using var x = torch.tensor(new float[] { 0.5f, -0.2f, -0.7f, 0.9f, 0.1f, 0.3f }, new long[] { 3, 2 });
        using var y = torch.tensor(new long[] { 1, 0, 1 });
        // Row 0: base only; row 1: base and a; row 2: base, a and b.
        using var m = torch.tensor(new float[] { 1, 0, 0, 1, 1, 0, 1, 1, 1 }, new long[] { 3, 3 });
        torch.manual_seed(5);
        using var plain = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(4), 4, 2, new[] { "a", "b" }, o => o.GateRoutingLossWeight = 0);
        torch.manual_seed(5);
        using var routed = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(4), 4, 2, new[] { "a", "b" }, o => o.GateRoutingLossWeight = 2);
        using var l0 = plain.Loss(x, y, m);
        using var l1 = routed.Loss(x, y, m);
        var g = routed.GateWeights(x).data<float>().ToArray();
        double ce0 = -Math.Log(g[0]);
        double ce1 = -(Math.Log(g[3]) + Math.Log(g[4])) / 2;
        double ce2 = -(Math.Log(g[6]) + Math.Log(g[7]) + Math.Log(g[8])) / 3;
        Assert.Equal(2 * (ce0 + ce1 + ce2) / 3, l1.item<float>() - l0.item<float>(), 4);
    }

    /// <summary>The mixture's NLL written out: −mean log Σ_i g_i(x) softmax(expert_i(x))[y].</summary>
    private static Tensor MixtureNll(MixtureOfExpertsModel model, Tensor x, Tensor y)
    {
        var probabilities = model.ExpertLogits(x).softmax(2);                       // [B, m, C]
        var mixed = (probabilities * model.GateWeights(x).unsqueeze(2)).sum(1);      // [B, C]
        return mixed.gather(1, y.unsqueeze(1)).log().mean().neg();
    }

    [Fact]
    public void GateLossWeight_ScalesTheMixtureNll()
    {
        using var x = torch.tensor(new float[] { 0.5f, -0.2f, -0.7f, 0.9f, 0.1f, 0.3f, -0.4f, -0.6f }, new long[] { 4, 2 });
        using var y = torch.tensor(new long[] { 1, 0, 1, 0 });
        using var m = torch.tensor(new float[] { 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1 }, new long[] { 4, 3 });
        torch.manual_seed(5);
        using var one = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(4), 4, 2, new[] { "a", "b" }, o => { o.GateLossWeight = 1; o.GateRoutingLossWeight = 0; });
        torch.manual_seed(5);
        using var three = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(4), 4, 2, new[] { "a", "b" }, o => { o.GateLossWeight = 3; o.GateRoutingLossWeight = 0; });
        using var l1 = one.Loss(x, y, m);
        using var l3 = three.Loss(x, y, m);
        using var nll = MixtureNll(three, x, y);
        Assert.True(nll.item<float>() > 0.1f);
        Assert.Equal(2 * nll.item<float>(), l3.item<float>() - l1.item<float>(), 5);
        var ex = Assert.Throws<ArgumentException>(() => MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(4), 4, 2, new[] { "a" }, o => o.GateLossWeight = 0));
        Assert.Contains("GateLossWeight must be finite and above 0; got 0.", ex.Message);
    }

    [Fact]
    public void ExpertsLearnOnlyFromTheirSliceOff_LetsTheMixtureTrainEveryExpert()
    {
        torch.manual_seed(2);
        using var model = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(4), 4, 2, new[] { "s" },
            o => { o.ExpertsLearnOnlyFromTheirSlice = false; o.GateLossWeight = 1.5; o.GateRoutingLossWeight = 0; });
        using var x = torch.randn(6, 2);
        using var y = torch.tensor(new long[] { 0, 1, 0, 1, 0, 1 });
        using var m = torch.tensor(new float[] { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 }, new long[] { 6, 2 }); // nobody in "s"
        model.Module.zero_grad();
        using (var loss = model.Loss(x, y, m)) loss.backward();
        var expert1 = model.Module.named_parameters().Where(p => p.name.StartsWith("experts.1.", StringComparison.Ordinal)).ToArray();
        var fromLoss = expert1.Select(p => p.parameter.grad!.clone()).ToArray();
        // Expert 1 has no member, so its whole gradient is the mixture term's: 1.5 × ∂ mixture NLL.
        model.Module.zero_grad();
        using (var mixture = MixtureNll(model, x, y) * 1.5) mixture.backward();
        Assert.True(fromLoss.Sum(g => g.abs().sum().item<float>()) > 1e-4f, "the mixture reaches the memberless expert");
        for (int i = 0; i < expert1.Length; i++)
            Assert.True(fromLoss[i].allclose(expert1[i].parameter.grad!, rtol: 1e-4, atol: 1e-6), expert1[i].name);
        foreach (var g in fromLoss) g.Dispose();
    }

    [Fact]
    public void LearnsTheEasyTask()
    {
        ComputeDevice.SetCpuThreads(1);
        var generator = new SyntheticSliceGenerator(new SyntheticSliceOptions { SfNoise = 0 });
        var train = generator.Generate(2000, seed: 1);
        var test = generator.Generate(2000, seed: 2);
        torch.manual_seed(4);
        using var model = MixtureOfExpertsModel.Create(() => BaselineTestSupport.Mlp(), 13, 2, generator.SliceNames);
        BaselineTestSupport.Fit(model, train, epochs: 8, seed: 4);
        var preds = BaselineTestSupport.Predict(model, test);
        var overall = ClassificationMetrics.Compute(test.Labels.ToArray(), preds, 2);
        // Seeded and single-threaded: this run's exact F1 (94% of the points follow the line y = x).
        Assert.Equal(2036.0 / 2114, overall.F1, 12);   // 2TP / (2TP + FP + FN): TP 1018, FP + FN 78
    }
}
