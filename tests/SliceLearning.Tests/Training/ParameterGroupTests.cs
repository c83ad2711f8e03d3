using SliceLearning.Models;
using SliceLearning.Training;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

/// <summary>
/// <see cref="SliceTrainer.WithParameterGroup"/>: a backbone and the heads step at their own rates,
/// checked against Adam written out with a per-parameter rate; the schedule scales each group's rate;
/// bad groups fail with messages that name the group.
/// </summary>
[Collection("Sequential")]
public sealed class ParameterGroupTests
{
    private const int Rows = 48;

    private static (VanillaModel Model, nn.Module Backbone) NewModel()
    {
        manual_seed(5);
        var backbone = nn.Sequential(nn.Linear(2, 4), nn.Tanh());
        return (VanillaModel.Create(backbone, 4, 2), backbone);
    }

    /// <summary>
    /// Full-batch Adam (Kingma &amp; Ba, Algorithm 1, bias-corrected, betas 0.9 / 0.999, eps 1e-8) on
    /// all rows, one step per epoch; a backbone parameter steps at <paramref name="backboneRates"/>[epoch],
    /// every other one at <paramref name="headRates"/>[epoch].
    /// </summary>
    private static void ReferenceAdam(VanillaModel model, nn.Module backbone, SliceDataset data, double[] headRates, double[] backboneRates)
    {
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        var inBackbone = backbone.parameters().Select(p => p.Handle).ToHashSet();
        Parameter[] parameters = model.parameters().ToArray();
        var m = parameters.Select(p => zeros_like(p)).ToArray();
        var v = parameters.Select(p => zeros_like(p)).ToArray();
        model.train();
        for (int s = 0; s < headRates.Length; s++)
        {
            using var scope = NewDisposeScope();
            foreach (var p in parameters) p.grad?.zero_();
            model.Loss(data.Features, data.Labels, data.Membership).backward();
            using var noGrad = no_grad();
            int t = s + 1;
            for (int i = 0; i < parameters.Length; i++)
            {
                var g = parameters[i].grad!;
                double lr = inBackbone.Contains(parameters[i].Handle) ? backboneRates[s] : headRates[s];
                m[i].mul_(beta1).add_(g * (1 - beta1));
                v[i].mul_(beta2).add_(g * g * (1 - beta2));
                var mHat = m[i] / (1 - Math.Pow(beta1, t));
                var vHat = v[i] / (1 - Math.Pow(beta2, t));
                parameters[i].sub_(lr * mHat / (vHat.sqrt() + eps));
            }
        }
        foreach (var t in m.Concat(v)) t.Dispose();
    }

    private static double MaxDifference(nn.Module a, nn.Module b, string? prefix = null)
    {
        var e = a.state_dict();
        return b.state_dict().Where(kv => prefix is null || kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .Max(kv => (double)(kv.Value - e[kv.Key]).abs().max().item<float>());
    }

    [Fact]
    public void BackboneAndHeads_StepAtTheirOwnRates_AndTheScheduleScalesBoth()
    {
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        var (trained, backbone) = NewModel();
        using var _ = trained;
        // Heads 0.05, backbone 0.005; the schedule halves both every epoch.
        SliceTrainer.For(trained).WithData(data).WithEpochs(3).WithBatchSize(Rows).WithSeed(1)
            .WithOptimizer(OptimizerOptions.Adam(0.05))
            .WithParameterGroup("backbone", backbone, 0.005)
            .WithLearningRateSchedule(LearningRateSchedule.Exponential(0.5))
            .Fit();

        var (reference, referenceBackbone) = NewModel();
        using var __ = reference;
        ReferenceAdam(reference, referenceBackbone, data, [0.05, 0.025, 0.0125], [0.005, 0.0025, 0.00125]);
        double difference = MaxDifference(reference, trained);
        Assert.True(difference <= 1e-5, $"the weights differ from the two-rate Adam reference by {difference:G3}");

        // One rate for everything would end elsewhere, in the backbone (0.05) and in the head (0.005).
        var (allFast, allFastBackbone) = NewModel();
        using var ___ = allFast;
        ReferenceAdam(allFast, allFastBackbone, data, [0.05, 0.025, 0.0125], [0.05, 0.025, 0.0125]);
        Assert.True(MaxDifference(allFast, trained, "backbone.") > 1e-2, $"the backbone's rate changed its weights by only {MaxDifference(allFast, trained, "backbone."):G3}");
        var (allSlow, allSlowBackbone) = NewModel();
        using var ____ = allSlow;
        ReferenceAdam(allSlow, allSlowBackbone, data, [0.005, 0.0025, 0.00125], [0.005, 0.0025, 0.00125]);
        Assert.True(MaxDifference(allSlow, trained, "prediction_head") > 1e-2, $"the heads' rate changed their weights by only {MaxDifference(allSlow, trained, "prediction_head"):G3}");
    }

    [Fact]
    public void EveryParameterInGroups_TrainsWithoutADefaultGroup()
    {
        // The backbone and the head in groups of their own: the optimizer's own rate (1) applies to nothing.
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        var (trained, backbone) = NewModel();
        using var _ = trained;
        var head = trained.named_children().Single(c => c.name != "backbone").module;
        SliceTrainer.For(trained).WithData(data).WithEpochs(2).WithBatchSize(Rows).WithSeed(1)
            .WithOptimizer(OptimizerOptions.Adam(1.0))
            .WithParameterGroup("backbone", backbone, 0.01)
            .WithParameterGroup("head", head, 0.03)
            .Fit();
        var (reference, referenceBackbone) = NewModel();
        using var __ = reference;
        ReferenceAdam(reference, referenceBackbone, data, [0.03, 0.03], [0.01, 0.01]);
        double difference = MaxDifference(reference, trained);
        Assert.True(difference <= 1e-5, $"the weights differ from the two-rate Adam reference by {difference:G3}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-3)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void BadRate_IsRejected_NamingTheGroup(double rate)
    {
        var (model, backbone) = NewModel();
        using var _ = model;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SliceTrainer.For(model).WithParameterGroup("encoder", backbone, rate));
        Assert.Equal("learningRate", e.ParamName);
        Assert.Contains("parameter group 'encoder'", e.Message);
    }

    [Fact]
    public void DuplicateName_IsRejected()
    {
        var (model, backbone) = NewModel();
        using var _ = model;
        var trainer = SliceTrainer.For(model).WithParameterGroup("encoder", backbone, 1e-4);
        var e = Assert.Throws<ArgumentException>(() => trainer.WithParameterGroup("encoder", backbone, 1e-3));
        Assert.Contains("already a parameter group named 'encoder'", e.Message);
    }

    [Fact]
    public void ModuleOutsideTheModel_FailsAtFit_NamingTheGroupAndParameter()
    {
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        var (model, _) = NewModel();
        using var __ = model;
        using var stranger = nn.Linear(2, 4);
        var e = Assert.Throws<InvalidOperationException>(() =>
            SliceTrainer.For(model).WithData(data).WithEpochs(1).WithParameterGroup("stranger", stranger, 1e-4).Fit());
        Assert.Contains("Parameter group 'stranger'", e.Message);
        Assert.Contains("'weight' is not a parameter of the trained VanillaModel", e.Message);
    }

    [Fact]
    public void OverlappingGroups_FailAtFit_NamingBoth()
    {
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        var (model, backbone) = NewModel();
        using var _ = model;
        var firstLayer = backbone.named_children().First().module;
        var e = Assert.Throws<InvalidOperationException>(() =>
            SliceTrainer.For(model).WithData(data).WithEpochs(1)
                .WithParameterGroup("encoder", backbone, 1e-4)
                .WithParameterGroup("first layer", firstLayer, 1e-3).Fit());
        Assert.Contains("Parameter group 'first layer'", e.Message);
        Assert.Contains("also in parameter group 'encoder'", e.Message);
    }

    [Fact]
    public void ModuleWithoutParameters_FailsAtFit()
    {
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        var (model, _) = NewModel();
        using var __ = model;
        using var tanh = nn.Tanh();
        var e = Assert.Throws<InvalidOperationException>(() =>
            SliceTrainer.For(model).WithData(data).WithEpochs(1).WithParameterGroup("activation", tanh, 1e-4).Fit());
        Assert.Contains("Parameter group 'activation': its module has no parameters", e.Message);
    }
}
