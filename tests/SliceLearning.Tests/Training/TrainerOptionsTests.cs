using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

/// <summary>
/// The trainer's options, each against an independent reference: optimizer updates and schedules
/// against a hand-written full-batch loop over the same initial weights, validation metrics against
/// hand-computed confusion counts, early stopping against scripted scores.
/// </summary>
[Collection("Sequential")]
public sealed class TrainerOptionsTests
{
    private const int Rows = 48;

    private static VanillaModel NewModel()
    {
        manual_seed(5);
        return VanillaModel.Create(nn.Sequential(nn.Linear(2, 4), nn.Tanh()), 4, 2);
    }

    /// <summary>
    /// A reference loop: <paramref name="steps"/> full-batch steps of <c>model.Loss</c> on all rows in
    /// their original order, each followed by <paramref name="update"/>(step, parameter index, parameter, gradient).
    /// </summary>
    private static void ReferenceSteps(VanillaModel model, SliceDataset data, int steps, Action<int, int, Parameter, Tensor> update)
    {
        var parameters = model.parameters().ToArray();
        model.train();
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            foreach (var p in parameters) p.grad?.zero_();
            model.Loss(data.Features, data.Labels, data.Membership).backward();
            using var noGrad = no_grad();
            for (int i = 0; i < parameters.Length; i++) update(s, i, parameters[i], parameters[i].grad!);
        }
    }

    private static void AssertSameWeights(VanillaModel expected, VanillaModel actual, double atol = 2e-6)
    {
        var e = expected.state_dict();
        foreach (var (name, t) in actual.state_dict())
        {
            double diff = (t - e[name]).abs().max().item<float>();
            Assert.True(diff <= atol, $"{name} differs from the reference by {diff:G3}");
        }
    }

    private static double MaxDifference(VanillaModel a, VanillaModel b)
    {
        var e = a.state_dict();
        return b.state_dict().Max(kv => (double)(kv.Value - e[kv.Key]).abs().max().item<float>());
    }

    /// <summary>Full-batch SGD, one step per epoch, with the rate of each epoch.</summary>
    private static void ReferenceSgd(VanillaModel model, SliceDataset data, double[] rates, double weightDecay = 0) =>
        ReferenceSteps(model, data, rates.Length, (s, _, p, g) =>
        {
            var step = weightDecay == 0 ? g : g + weightDecay * p;
            p.sub_(rates[s] * step);
        });

    [Fact]
    public void Sgd_WeightDecay_AddsDecayTimesWeightToTheGradient()
    {
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        using var trained = NewModel();
        SliceTrainer.For(trained).WithData(data).WithEpochs(3).WithBatchSize(Rows).WithSeed(1)
            .WithOptimizer(OptimizerOptions.Sgd(0.2, weightDecay: 0.5)).Fit();
        using var reference = NewModel();
        ReferenceSgd(reference, data, [0.2, 0.2, 0.2], weightDecay: 0.5);
        AssertSameWeights(reference, trained);
        // The decay is large enough that ignoring it would be seen.
        using var noDecay = NewModel();
        ReferenceSgd(noDecay, data, [0.2, 0.2, 0.2]);
        Assert.True(MaxDifference(noDecay, trained) > 1e-2, $"decay changed the weights by only {MaxDifference(noDecay, trained):G3}");
    }

    /// <summary>The Adam update with bias correction, written out (Kingma &amp; Ba, Algorithm 1).</summary>
    private static void ReferenceAdam(VanillaModel model, SliceDataset data, int steps, double lr, double beta1, double beta2, double eps = 1e-8)
    {
        var m = new Dictionary<int, Tensor>();
        var v = new Dictionary<int, Tensor>();
        ReferenceSteps(model, data, steps, (s, i, p, g) =>
        {
            if (!m.ContainsKey(i))
            {
                m[i] = zeros_like(p).DetachFromDisposeScope();
                v[i] = zeros_like(p).DetachFromDisposeScope();
            }
            m[i].mul_(beta1).add_(g * (1 - beta1));
            v[i].mul_(beta2).add_(g * g * (1 - beta2));
            int t = s + 1;
            var mHat = m[i] / (1 - Math.Pow(beta1, t));
            var vHat = v[i] / (1 - Math.Pow(beta2, t));
            p.sub_(lr * mHat / (vHat.sqrt() + eps));
        });
        foreach (var t in m.Values.Concat(v.Values)) t.Dispose();
    }

    [Fact]
    public void Adam_Betas_AreTheMomentDecayRates()
    {
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        using var trained = NewModel();
        SliceTrainer.For(trained).WithData(data).WithEpochs(4).WithBatchSize(Rows).WithSeed(1)
            .WithOptimizer(new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.05, Betas = (0.3, 0.6) }).Fit();
        using var reference = NewModel();
        ReferenceAdam(reference, data, 4, 0.05, 0.3, 0.6);
        AssertSameWeights(reference, trained, atol: 1e-5);
        // With the default betas the weights end elsewhere: a trainer that ignored Betas would fail above.
        using var defaults = NewModel();
        ReferenceAdam(defaults, data, 4, 0.05, 0.9, 0.999);
        Assert.True(MaxDifference(defaults, trained) > 1e-3, $"betas changed the weights by only {MaxDifference(defaults, trained):G3}");
    }

    private sealed class Recorder : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = new();
        public void Report(TrainingProgress value) => Reports.Add(value);
    }

    public static TheoryData<string> Schedules => new() { "cosine", "exponential", "custom" };

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Schedule_SetsTheOptimizersRate_EachEpoch(string kind)
    {
        var (schedule, rates) = kind switch
        {
            // 0.01 + 0.09 · (1 + cos(π e / 3)) / 2 for e = 0, 1, 2
            "cosine" => (LearningRateSchedule.Cosine(minimum: 0.01), new[] { 0.1, 0.0775, 0.0325 }),
            "exponential" => (LearningRateSchedule.Exponential(0.5), new[] { 0.1, 0.05, 0.025 }),
            _ => (LearningRateSchedule.Custom("one-over-epoch", (e, _, lr) => lr / (e + 1)), new[] { 0.1, 0.05, 0.1 / 3 }),
        };
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        using var trained = NewModel();
        var progress = new Recorder();
        SliceTrainer.For(trained).WithData(data).WithEpochs(3).WithBatchSize(Rows).WithSeed(1)
            .WithOptimizer(OptimizerOptions.Sgd(0.1)).WithLearningRateSchedule(schedule).WithProgress(progress).Fit();
        Assert.Equal(rates, progress.Reports.Select(r => r.LearningRate), new ToleranceComparer(1e-12));
        using var reference = NewModel();
        ReferenceSgd(reference, data, rates);
        AssertSameWeights(reference, trained);
        // The constant rate would end elsewhere: a schedule that only reached the progress report would fail above.
        using var constant = NewModel();
        ReferenceSgd(constant, data, [0.1, 0.1, 0.1]);
        Assert.True(MaxDifference(constant, trained) > 1e-3);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }

    /// <summary>
    /// 8 binary rows: overall TP 2, FN 2, FP 1, TN 3 (accuracy 5/8, F1 4/7); slice s1 (rows 0-3)
    /// TP 1, FN 1, FP 1, TN 1 (F1 1/2); s2 (rows 4-7) TP 1, FN 1, TN 2 (F1 2/3); s3 has no member.
    /// </summary>
    private static ValidationOutcome HandOutcome(double loss = 0.3)
    {
        int[] labels = [1, 1, 0, 0, 1, 0, 1, 0];
        int[] predictions = [1, 0, 0, 1, 1, 0, 0, 0];
        var membership = new bool[8, 4];
        for (int r = 0; r < 8; r++)
        {
            membership[r, 0] = true;
            membership[r, r < 4 ? 1 : 2] = true;
        }
        return new ValidationOutcome(labels, predictions, SliceMatrix.FromRows(["base", "s1", "s2", "s3"], membership), 2, loss);
    }

    [Fact]
    public void ValidationMetrics_GiveTheHandComputedValues()
    {
        var o = HandOutcome();
        Assert.Equal(4.0 / 7, ValidationMetric.OverallF1.Score(o), 12);
        Assert.Equal(5.0 / 8, ValidationMetric.OverallAccuracy.Score(o), 12);
        Assert.Equal(-0.3, ValidationMetric.NegativeLoss.Score(o), 12);
        // The mean over SF slices with members: base excluded, empty s3 skipped (not counted as 0).
        Assert.Equal((0.5 + 2.0 / 3) / 2, ValidationMetric.MeanSliceF1.Score(o), 12);
        Assert.Equal(2.0 / 3, ValidationMetric.SliceF1("s2").Score(o), 12);
        var combined = ValidationMetric.Combine((ValidationMetric.OverallAccuracy, 0.5), (ValidationMetric.NegativeLoss, 2.0));
        Assert.Equal(0.5 * 0.625 - 2 * 0.3, combined.Score(o), 12);
        Assert.Equal("0.5*accuracy + 2*-loss", combined.Name);
        Assert.Equal(("accuracy", "-loss", "mean-slice-f1"), (ValidationMetric.OverallAccuracy.Name, ValidationMetric.NegativeLoss.Name, ValidationMetric.MeanSliceF1.Name));
    }

    [Fact]
    public void MeanSliceF1_IsNaN_WhenNoSfSliceHasMembers_AndCombineChecksEachPart()
    {
        var membership = new bool[2, 2] { { true, false }, { true, false } };
        var noMembers = new ValidationOutcome([0, 1], [0, 1], SliceMatrix.FromRows(["base", "s1"], membership), 2, 0.1);
        Assert.True(double.IsNaN(ValidationMetric.MeanSliceF1.Score(noMembers)));
        var combined = ValidationMetric.Combine((ValidationMetric.OverallF1, 1), (ValidationMetric.SliceF1("s3"), 1));
        var ex = Assert.Throws<SliceDataException>(() => combined.Check(HandOutcome().Slices));
        Assert.Contains("no member of slice 's3'", ex.Message);
        Assert.Throws<ArgumentException>(() => ValidationMetric.Combine());
        Assert.Throws<ArgumentOutOfRangeException>(() => ValidationMetric.Combine((ValidationMetric.OverallF1, double.NaN)));
    }

    [Fact]
    public void NegativeLossAndAccuracy_ThroughFit_AreTheFinalModelsValidationValues()
    {
        using var train = TwoDiscTask.Dataset(Rows, seed: 3);
        using var valid = TwoDiscTask.Dataset(40, seed: 4);
        foreach (var metric in new[] { ValidationMetric.NegativeLoss, ValidationMetric.OverallAccuracy })
        {
            using var model = NewModel();
            var result = SliceTrainer.For(model).WithData(train, valid).WithEpochs(2).WithBatchSize(16).WithSeed(1)
                .WithOptimizer(OptimizerOptions.Adam(0.05)).WithValidationMetric(metric).Fit();
            Assert.Equal(metric.Name, result.MetricName);
            model.eval();
            using var logits = model.Logits(valid.Features);
            double expected = metric == ValidationMetric.NegativeLoss
                ? -nn.functional.cross_entropy(logits, valid.Labels).item<float>()
                : logits.argmax(1).eq(valid.Labels).to_type(ScalarType.Float64).mean().item<double>();
            Assert.Equal(expected, result.ValidationHistory[^1], 6);
        }
    }

    private static ValidationMetric Scripted(params double[] scores)
    {
        int call = 0;
        return ValidationMetric.Custom("scripted", _ => scores[call++]);
    }

    [Fact]
    public void WithValidationMetric_ScoresEachEpoch_AndEarlyStoppingUsesIt()
    {
        using var train = TwoDiscTask.Dataset(Rows, seed: 3);
        using var valid = TwoDiscTask.Dataset(40, seed: 4);
        using var model = NewModel();
        // Without early stopping: every epoch is scored and the best is reported, the last weights are kept.
        var result = SliceTrainer.For(model).WithData(train, valid).WithEpochs(4).WithSeed(1)
            .WithValidationMetric(Scripted(0.2, 0.9, 0.4, 0.3)).Fit();
        Assert.Equal("scripted", result.MetricName);
        Assert.Equal(new[] { 0.2, 0.9, 0.4, 0.3 }, result.ValidationHistory);
        Assert.Equal((4, 2, 0.9, false, false), (result.EpochsRun, result.BestEpoch, result.BestValidationScore!.Value, result.StoppedEarly, result.RestoredBestWeights));
        // Early stopping without its own metric uses the one chosen here.
        using var other = NewModel();
        var stopped = SliceTrainer.For(other).WithData(train, valid).WithEpochs(6).WithSeed(1)
            .WithValidationMetric(Scripted(0.2, 0.9, 0.4, 0.3, 1.0, 1.0)).WithEarlyStopping(patience: 2).Fit();
        Assert.Equal(("scripted", 4, 2, true), (stopped.MetricName, stopped.EpochsRun, stopped.BestEpoch, stopped.StoppedEarly));
        // Two different metrics for one run are refused, in either order.
        var ex = Assert.Throws<InvalidOperationException>(() =>
            SliceTrainer.For(other).WithValidationMetric(ValidationMetric.OverallAccuracy).WithEarlyStopping(2, ValidationMetric.MeanSliceF1));
        Assert.Equal("WithEarlyStopping asks for the validation metric 'mean-slice-f1', but WithValidationMetric already chose 'accuracy'; " +
            "early stopping and the reported score use one metric.", ex.Message);
        Assert.Throws<InvalidOperationException>(() =>
            SliceTrainer.For(other).WithEarlyStopping(2, ValidationMetric.MeanSliceF1).WithValidationMetric(ValidationMetric.OverallAccuracy));
        SliceTrainer.For(other).WithEarlyStopping(2, ValidationMetric.OverallAccuracy).WithValidationMetric(ValidationMetric.OverallAccuracy);
    }

    [Fact]
    public void EarlyStopping_WithoutRestore_KeepsTheLastEpochsWeights()
    {
        using var train = TwoDiscTask.Dataset(Rows, seed: 3);
        using var valid = TwoDiscTask.Dataset(40, seed: 4);
        using var model = NewModel();
        var result = SliceTrainer.For(model).WithData(train, valid).WithEpochs(6).WithBatchSize(Rows).WithSeed(1)
            .WithOptimizer(OptimizerOptions.Sgd(0.1))
            .WithEarlyStopping(patience: 2, Scripted(0.5, 0.7, 0.6, 0.65, 0.9, 0.95), restoreBestWeights: false).Fit();
        Assert.Equal((4, 2, true, false), (result.EpochsRun, result.BestEpoch, result.StoppedEarly, result.RestoredBestWeights));
        // Four full-batch SGD steps: the weights of epoch 4, not those of the best epoch 2.
        using var reference = NewModel();
        ReferenceSgd(reference, train, [0.1, 0.1, 0.1, 0.1]);
        AssertSameWeights(reference, model);
    }

    [Fact]
    public void NaNValidationScore_NeverBeatsANumber_AndCountsTowardsPatience()
    {
        using var train = TwoDiscTask.Dataset(Rows, seed: 3);
        using var valid = TwoDiscTask.Dataset(40, seed: 4);
        using var model = NewModel();
        var result = SliceTrainer.For(model).WithData(train, valid).WithEpochs(8).WithBatchSize(Rows).WithSeed(1)
            .WithOptimizer(OptimizerOptions.Sgd(0.1))
            .WithEarlyStopping(patience: 2, Scripted(double.NaN, 0.6, double.NaN, 0.5, 0.9, 0.9, 0.9, 0.9)).Fit();
        // Epoch 1's NaN is replaced by epoch 2's 0.6; epochs 3 (NaN) and 4 (0.5) do not beat it: stop after 4.
        Assert.Equal((4, 2, 0.6, true, true), (result.EpochsRun, result.BestEpoch, result.BestValidationScore!.Value, result.StoppedEarly, result.RestoredBestWeights));
        using var reference = NewModel();
        ReferenceSgd(reference, train, [0.1, 0.1]);
        AssertSameWeights(reference, model);
        // Only NaN: the first epoch stays the best and the reported score is NaN.
        using var other = NewModel();
        var allNaN = SliceTrainer.For(other).WithData(train, valid).WithEpochs(3).WithSeed(1)
            .WithValidationMetric(Scripted(double.NaN, double.NaN, double.NaN)).Fit();
        Assert.Equal(1, allNaN.BestEpoch);
        Assert.True(double.IsNaN(allNaN.BestValidationScore!.Value));
    }

    [Fact]
    public void OnDevice_ResolvesThePreference_WhenFitting()
    {
        using var data = TwoDiscTask.Dataset(Rows, seed: 3);
        using var model = NewModel();
        Assert.Equal("device", Assert.Throws<ArgumentOutOfRangeException>(() => SliceTrainer.For(model).OnDevice((DevicePreference)7)).ParamName);
        var onCuda = SliceTrainer.For(model).WithData(data).WithEpochs(1).WithSeed(1).OnDevice(DevicePreference.Cuda);
        if (cuda.is_available())
        {
            onCuda.Fit();
            Assert.All(model.parameters(), p => Assert.Equal(DeviceType.CUDA, p.device_type));
            model.to(CPU);
        }
        else
        {
            // Nothing is trained when the device cannot be had.
            var before = model.parameters().Select(p => p.detach().clone()).ToArray();
            var ex = Assert.Throws<InvalidOperationException>(() => onCuda.Fit());
            Assert.StartsWith("CUDA was requested but torch.cuda.is_available() is false.", ex.Message);
            Assert.All(model.parameters().Zip(before), pair => Assert.True(pair.First.allclose(pair.Second, rtol: 0, atol: 0)));
            foreach (var b in before) b.Dispose();
        }
        var best = SliceTrainer.For(model).WithData(data).WithEpochs(1).WithSeed(1).OnDevice(DevicePreference.BestAvailable).Fit();
        Assert.Equal(1, best.EpochsRun);
        var expected = cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.All(model.parameters(), p => Assert.Equal(expected, p.device_type));
    }
}
