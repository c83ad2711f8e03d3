using Microsoft.Extensions.Logging;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

[Collection("Sequential")]
public sealed class SliceTrainerTests
{
    private static SliceAwareModel NewSram(int seed = 1)
    {
        manual_seed(seed);
        return SliceAwareModel.Create(TwoDiscTask.Backbone(), 13, 2, TwoDiscTask.Slices.SliceNames);
    }

    [Fact]
    public void SameSeed_OneThread_GivesIdenticalWeights()
    {
        ComputeDevice.SetCpuThreads(1);
        using var data = TwoDiscTask.Dataset(400, seed: 1);
        using var a = NewSram();
        using var b = NewSram();
        var ra = SliceTrainer.For(a).WithData(data).WithEpochs(3).WithBatchSize(32).WithSeed(7).Fit();
        var rb = SliceTrainer.For(b).WithData(data).WithEpochs(3).WithBatchSize(32).WithSeed(7).Fit();
        Assert.Equal(ra.LossHistory, rb.LossHistory);
        var wa = a.state_dict();
        var wb = b.state_dict();
        foreach (var (name, t) in wa) Assert.True(t.allclose(wb[name], rtol: 0, atol: 0), $"{name} differs");
        // another shuffling seed gives other weights
        using var c = NewSram();
        SliceTrainer.For(c).WithData(data).WithEpochs(3).WithBatchSize(32).WithSeed(8).Fit();
        Assert.False(c.state_dict()["sram.expert_projections.weight"].allclose(wa["sram.expert_projections.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void Fit_LeaksNoTensors()
    {
        ComputeDevice.SetCpuThreads(1);
        using var train = TwoDiscTask.Dataset(300, seed: 1);
        using var valid = TwoDiscTask.Dataset(100, seed: 2);
        using var model = NewSram();
        _ = train.Membership;
        _ = valid.Membership;
        // One warm-up fit creates the gradient tensors, which live with the parameters.
        SliceTrainer.For(model).WithData(train, valid).WithEpochs(1).WithSeed(1).Fit();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        // Scores the mean slice F1 (so that path runs too) but reports scripted values, so the run
        // stops early after epoch 3 and restores epoch 1's weights: every path of a fit is covered.
        double[] scripted = { 0.9, 0.5, 0.4, 0.3 };
        int call = 0;
        var metric = ValidationMetric.Custom("scripted", o =>
        {
            _ = ValidationMetric.MeanSliceF1.Score(o);
            return scripted[call++];
        });
        var result = SliceTrainer.For(model).WithData(train, valid).WithEpochs(4).WithBatchSize(32)
            .WithEarlyStopping(2, metric).WithSeed(1).Fit();
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Equal((3, 1, true, true), (result.EpochsRun, result.BestEpoch, result.StoppedEarly, result.RestoredBestWeights));
        Assert.Equal(3, result.LossHistory.Count);
        Assert.Equal(before, after);
    }

    private sealed class Recorder(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = new();

        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    [Fact]
    public void EarlyStopping_StopsAfterPatience_AndRestoresTheBestEpochsWeights()
    {
        ComputeDevice.SetCpuThreads(1);
        using var train = TwoDiscTask.Dataset(200, seed: 1);
        using var valid = TwoDiscTask.Dataset(100, seed: 2);
        using var model = NewSram();
        double[] scores = { 0.5, 0.7, 0.6, 0.65, 0.9, 0.95 };
        int call = 0;
        var metric = ValidationMetric.Custom("scripted", _ => scores[call++]);
        Dictionary<string, Tensor>? atEpoch2 = null;
        var progress = new Recorder(p =>
        {
            if (p.Epoch == 2) atEpoch2 = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        });
        var result = SliceTrainer.For(model).WithData(train, valid).WithEpochs(6)
            .WithEarlyStopping(patience: 2, metric).WithProgress(progress).WithSeed(1).Fit();
        Assert.Equal(4, result.EpochsRun);
        Assert.True(result.StoppedEarly);
        Assert.Equal(2, result.BestEpoch);
        Assert.Equal(0.7, result.BestValidationScore);
        Assert.Equal(new[] { 0.5, 0.7, 0.6, 0.65 }, result.ValidationHistory);
        Assert.Equal("scripted", result.MetricName);
        Assert.True(result.RestoredBestWeights);
        Assert.Equal(4, progress.Reports.Count);
        Assert.Equal(new[] { 1, 2, 3, 4 }, progress.Reports.Select(r => r.Epoch));
        Assert.All(progress.Reports, r => Assert.Equal(6, r.TotalEpochs));
        foreach (var (name, t) in model.state_dict()) Assert.True(t.allclose(atEpoch2![name], rtol: 0, atol: 0), $"{name} was not restored");
        foreach (var t in atEpoch2!.Values) t.Dispose();
    }

    [Fact]
    public void LearningRateSchedule_IsAppliedPerEpoch()
    {
        using var train = TwoDiscTask.Dataset(64, seed: 1);
        using var model = NewSram();
        var progress = new Recorder();
        SliceTrainer.For(model).WithData(train).WithEpochs(4).WithOptimizer(OptimizerOptions.Sgd(0.1, momentum: 0.9))
            .WithLearningRateSchedule(LearningRateSchedule.Step(everyEpochs: 2, gamma: 0.5)).WithProgress(progress).WithSeed(1).Fit();
        Assert.Equal(new[] { 0.1, 0.1, 0.05, 0.05 }, progress.Reports.Select(r => Math.Round(r.LearningRate, 10)));
        var cosine = LearningRateSchedule.Cosine(minimum: 0.0);
        Assert.Equal(1.0, cosine.RateAt(0, 2, 1.0), 10);
        Assert.Equal(0.5, cosine.RateAt(1, 2, 1.0), 10);   // the last epoch still trains: the minimum comes one epoch later
        Assert.Equal(0.25, cosine.RateAt(2, 3, 1.0), 10);
        Assert.Equal(1.0, cosine.RateAt(0, 1, 1.0), 10);
        Assert.Throws<InvalidOperationException>(() => LearningRateSchedule.Custom("zero", (_, _, _) => 0).RateAt(0, 3, 1.0));   // 0 is not a usable rate
        Assert.Equal(0.81, LearningRateSchedule.Exponential(0.9).RateAt(2, 5, 1.0), 10);
    }

    [Fact]
    public void GradientClipping_BoundsEveryStep()
    {
        // Plain SGD moves each parameter by lr × gradient: with the global norm clipped to 1e-4, the
        // whole parameter vector moves by at most lr × 1e-4 per step; unclipped it moves far more.
        using var train = TwoDiscTask.Dataset(64, seed: 1);
        double Moved(double? clip)
        {
            using var model = NewSram();
            var before = model.parameters().Select(p => p.detach().clone()).ToArray();
            var trainer = SliceTrainer.For(model).WithData(train).WithEpochs(1).WithBatchSize(64).WithOptimizer(OptimizerOptions.Sgd(0.1)).WithSeed(1);
            if (clip is double c) trainer = trainer.WithGradientClipping(c);
            trainer.Fit();
            double squared = model.parameters().Zip(before, (p, b) => (p.detach() - b).pow(2).sum().item<float>()).Sum();
            foreach (var b in before) b.Dispose();
            return Math.Sqrt(squared);
        }
        double clipped = Moved(1e-4), free = Moved(null);
        Assert.True(clipped <= 0.1 * 1e-4 * 1.001, $"one clipped step moved the parameters by {clipped:G3}");
        Assert.True(free > 100 * clipped, $"unclipped {free:G3} vs clipped {clipped:G3}");
        using var other = NewSram();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SliceTrainer.For(other).WithGradientClipping(0));
        Assert.Equal("maxNorm", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SliceTrainer.For(other).WithGradientClipping(double.PositiveInfinity));
    }

    [Fact]
    public void Cancellation_StopsTraining()
    {
        using var train = TwoDiscTask.Dataset(200, seed: 1);
        using var model = NewSram();
        using var cts = new CancellationTokenSource();
        var progress = new Recorder(_ => cts.Cancel());
        Assert.Throws<OperationCanceledException>(() =>
            SliceTrainer.For(model).WithData(train).WithEpochs(5).WithProgress(progress).WithSeed(1).Fit(cts.Token));
        Assert.Single(progress.Reports);
    }

    [Fact]
    public void Fit_RejectsDataThatDoesNotFitTheModel()
    {
        using var model = NewSram();
        // label out of range
        using var x = rand(4, 2);
        using var threeClasses = tensor(new long[] { 0, 1, 2, 1 });
        var slices = SliceMatrix.FromRows(TwoDiscTask.Slices.SliceNames, new bool[4, 3] { { true, false, false }, { true, false, false }, { true, true, false }, { true, false, true } });
        using var bad = new SliceDataset(x.clone(), threeClasses.clone(), slices);
        var label = Assert.Throws<SliceDataException>(() => SliceTrainer.For(model).WithData(bad).Fit());
        Assert.StartsWith("Label 2 at training row 2 is outside [0, 2) for a 2-class model.", label.Message);
        // other slices
        var other = SliceMatrix.FromRows(new[] { "base", "disc_a", "night" }, new bool[4, 3] { { true, false, false }, { true, false, false }, { true, true, false }, { true, false, true } });
        using var labels = tensor(new long[] { 0, 1, 1, 1 });
        using var otherData = new SliceDataset(x.clone(), labels.clone(), other);
        var names = Assert.Throws<SliceDataException>(() => SliceTrainer.For(model).WithData(otherData).Fit());
        Assert.Contains("has slices (base, disc_a, night) but the model was built for (base, disc_a, disc_b)", names.Message);
        // early stopping needs validation data
        using var good = new SliceDataset(x.clone(), labels.clone(), slices);
        var noValidation = Assert.Throws<InvalidOperationException>(() => SliceTrainer.For(model).WithData(good).WithEarlyStopping(3).Fit());
        Assert.Contains("Early stopping needs validation data", noValidation.Message);
        // a slice metric on a slice with no validation member
        var noMembers = SliceMatrix.FromRows(TwoDiscTask.Slices.SliceNames, new bool[4, 3] { { true, false, false }, { true, false, false }, { true, true, false }, { true, false, false } });
        using var validation = new SliceDataset(x.clone(), labels.clone(), noMembers);
        var empty = Assert.Throws<SliceDataException>(() =>
            SliceTrainer.For(model).WithData(good, validation).WithEarlyStopping(2, ValidationMetric.SliceF1("disc_b")).Fit());
        Assert.Contains("no member of slice 'disc_b'", empty.Message);
        // no data at all
        Assert.Throws<InvalidOperationException>(() => SliceTrainer.For(model).Fit());
        Assert.Throws<ArgumentOutOfRangeException>(() => SliceTrainer.For(model).WithEpochs(0));
    }

    [Fact]
    public void OptimizerOptions_Validate_NamesTheOptionAndValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => SliceTrainer.For(VanillaModelForOptions()).WithOptimizer(new OptimizerOptions { LearningRate = 0, Momentum = 1.5 }));
        Assert.Contains("Invalid OptimizerOptions", ex.Message);
        Assert.Contains("LearningRate must be a positive finite number. Got 0.", ex.Message);
        Assert.Contains("Momentum must be in [0, 1). Got 1.5.", ex.Message);
        var defaults = new OptimizerOptions();
        Assert.Equal(OptimizerKind.Adam, defaults.Kind);
        Assert.Equal(1e-3, defaults.LearningRate);
        Assert.Equal(0.0, defaults.WeightDecay);
    }

    private static VanillaModel VanillaModelForOptions()
    {
        manual_seed(1);
        return VanillaModel.Create(nn.Linear(2, 3), 3, 2);
    }

    [Fact]
    public void VanillaModel_TrainsWithTheSameTrainer_AndLogs()
    {
        ComputeDevice.SetCpuThreads(1);
        var points = TwoDiscTask.Points(300, seed: 4);
        var valid = TwoDiscTask.Points(100, seed: 5);
        manual_seed(2);
        using var model = VanillaModel.Create(TwoDiscTask.Backbone(), 13, 2);
        var logger = new ListLoggerFactory();
        var result = SliceTrainer.For(model)
            .WithData(points, valid, p => p, TwoDiscTask.Label, TwoDiscTask.Slices)
            .WithEpochs(8).WithOptimizer(OptimizerOptions.AdamW(0.02)).WithSeed(1).WithLogging(logger).Fit();
        Assert.Equal(8, result.EpochsRun);
        Assert.Equal("f1", result.MetricName);
        // Seeded and single-threaded: the exact values of this run.
        // F1 = 2TP / (2TP + FP + FN) over the 100 validation rows, a fraction per epoch.
        double[] f1 = { 16.0 / 57, 0.8, 38.0 / 45, 20.0 / 23, 22.0 / 25, 41.0 / 46, 43.0 / 49, 84.0 / 97 };
        Assert.Equal(f1.Length, result.ValidationHistory.Count);
        for (int e = 0; e < f1.Length; e++) Assert.Equal(f1[e], result.ValidationHistory[e], 12);
        Assert.Equal((6, 41.0 / 46), (result.BestEpoch, result.BestValidationScore!.Value));
        double[] losses = { 0.693663, 0.619430, 0.475990, 0.329572, 0.229589, 0.168706, 0.169949, 0.152676 };
        for (int e = 0; e < losses.Length; e++) Assert.Equal(losses[e], result.LossHistory[e], tolerance: 1e-6);
        Assert.Contains(logger.Messages, m => m.StartsWith("Training VanillaModel (", StringComparison.Ordinal) && m.Contains("300 rows, 8 epochs, batch 64, AdamW"));
        Assert.Contains(logger.Messages, m => m.StartsWith("Training finished: 8 epochs", StringComparison.Ordinal));
    }

    private sealed class ListLoggerFactory : ILoggerFactory, ILogger
    {
        public List<string> Messages { get; } = new();
        public void AddProvider(ILoggerProvider provider) { }
        public ILogger CreateLogger(string categoryName) => this;
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
