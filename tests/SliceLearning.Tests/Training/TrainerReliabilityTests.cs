using Microsoft.Extensions.Logging;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

/// <summary>One seed, resume, loud divergence, thread safety, no silent overrides.</summary>
[Collection("Sequential")]
public sealed class TrainerReliabilityTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "slicelearning-trainer-" + Guid.NewGuid().ToString("N"));

    public TrainerReliabilityTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static SliceAwareModel NewSram() =>
        SliceAwareModel.Create(
            nn.Sequential(nn.Linear(2, 13), nn.ReLU(), nn.Dropout(0.2), nn.Linear(13, 13), nn.ReLU()), 13, 2, TwoDiscTask.Slices.SliceNames);

    private static void AssertSameWeights(nn.Module a, nn.Module b)
    {
        var wb = b.state_dict();
        foreach (var (name, t) in a.state_dict()) Assert.True(t.allclose(wb[name], rtol: 0, atol: 0), $"{name} differs");
    }

    [Fact]
    public void OneSeed_DecidesInitialisationDropoutAndShuffling()
    {
        ComputeDevice.SetCpuThreads(1);
        using var data = TwoDiscTask.Dataset(300, seed: 1);
        // Something else uses torch's generator in between: the seed alone must decide.
        var first = SliceTrainer.For(11, NewSram);
        using var noise = rand(100);
        var second = SliceTrainer.For(11, NewSram);
        using var a = first.Model;
        using var b = second.Model;
        AssertSameWeights(a, b);
        var ra = first.WithData(data).WithEpochs(2).WithBatchSize(32).Fit();
        using var more = rand(100);
        var rb = second.WithData(data).WithEpochs(2).WithBatchSize(32).Fit();
        Assert.Equal(ra.LossHistory, rb.LossHistory);
        AssertSameWeights(a, b);

        var third = SliceTrainer.For(12, NewSram);
        using var c = third.Model;
        Assert.False(c.state_dict()["sram.indicator_heads.weight"].allclose(a.state_dict()["sram.indicator_heads.weight"]));
    }

    [Fact]
    public void ResumedRun_EqualsTheUninterruptedRun()
    {
        ComputeDevice.SetCpuThreads(1);
        using var train = TwoDiscTask.Dataset(300, seed: 1);
        using var valid = TwoDiscTask.Dataset(100, seed: 2);
        string path = Path.Combine(_folder, "run.ckpt");

        var whole = SliceTrainer.For(5, NewSram);
        using var wholeModel = whole.Model;
        var full = whole.WithData(train, valid).WithEpochs(4).WithBatchSize(32).WithEarlyStopping(10).Fit();

        // The same run, stopped after 2 epochs (as if killed) and resumed in a new process.
        var part = SliceTrainer.For(5, NewSram);
        using (var partModel = part.Model)
            part.WithData(train, valid).WithEpochs(2).WithBatchSize(32).WithEarlyStopping(10).WithCheckpoints(path).Fit();
        Assert.Equal(2, ModelCheckpoint.ReadInfo(path).Epoch);
        Assert.True(ModelCheckpoint.ReadInfo(path).HasOptimizerState);

        var resumed = SliceTrainer.For(5, NewSram);
        using var resumedModel = resumed.Model;
        var rest = resumed.WithData(train, valid).WithEpochs(4).WithBatchSize(32).WithEarlyStopping(10).ResumeFrom(path).Fit();

        Assert.Equal(full.LossHistory, rest.LossHistory);
        Assert.Equal(full.ValidationHistory, rest.ValidationHistory);
        Assert.Equal(full.BestEpoch, rest.BestEpoch);
        AssertSameWeights(wholeModel, resumedModel);
    }

    [Fact]
    public void ADivergingRun_ThrowsNamingEpochStepAndTerm()
    {
        using var data = TwoDiscTask.Dataset(200, seed: 1);
        var trainer = SliceTrainer.For(1, NewSram);
        using var model = trainer.Model;
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.WithData(data).WithEpochs(3).WithBatchSize(20)
            .WithOptimizer(new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 1e6 }).Fit());
        Assert.Equal(1, ex.Epoch);
        Assert.True(ex.Step > 1);
        Assert.Contains(ex.Term, new[] { "prediction", "slice head", "indicator" });
        Assert.Contains($"Training diverged at epoch 1, step {ex.Step}: the {ex.Term} loss is", ex.Message);
    }

    [Fact]
    public void RestoreBestAndStop_KeepsTheBestWeights_AndLogs()
    {
        using var train = TwoDiscTask.Dataset(200, seed: 1);
        using var valid = TwoDiscTask.Dataset(100, seed: 2);
        var trainer = SliceTrainer.For(1, NewSram);
        using var model = trainer.Model;
        var options = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1 };
        var schedule = LearningRateSchedule.Custom("explodes", (epoch, _, lr) => epoch < 2 ? lr : 1e6);
        var log = new ListLogger();
        var result = trainer.WithData(train, valid).WithEpochs(5).WithBatchSize(20).WithOptimizer(options).WithLearningRateSchedule(schedule)
            .WithDivergenceHandling(DivergenceHandling.RestoreBestAndStop).WithLogging(new ListLoggerFactory(log)).Fit();
        Assert.True(result.Diverged);
        Assert.True(result.RestoredBestWeights);
        Assert.Equal(2, result.EpochsRun);
        Assert.All(result.LossHistory, l => Assert.True(double.IsFinite(l)));
        Assert.Contains(log.Messages, m => m.StartsWith("Training diverged at epoch 3", StringComparison.Ordinal));
        using var x = rand(10, 2);
        var (p, _) = model.Predict(x);
        using (p) Assert.False(p.isnan().any().item<bool>());
    }

    [Fact]
    public void PredictFromManyThreadsDuringFit_LeavesTheModeRight()
    {
        using var data = TwoDiscTask.Dataset(2000, seed: 1);
        var trainer = SliceTrainer.For(1, NewSram);
        using var model = trainer.Model;
        using var x = rand(50, 2);
        var (reference, _) = model.Predict(x);
        reference.Dispose();
        bool done = false;
        var errors = new List<Exception>();
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            try
            {
                while (!Volatile.Read(ref done))
                {
                    var (p, classes) = model.Predict(x);
                    using (p) Assert.True(p.sum(1).allclose(ones(50), atol: 1e-5));
                    Assert.Equal(50, classes.Length);
                }
            }
            catch (Exception ex)
            {
                lock (errors) errors.Add(ex);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        trainer.WithData(data).WithEpochs(2).WithBatchSize(16).Fit();
        Volatile.Write(ref done, true);
        foreach (var t in threads) t.Join();
        Assert.Empty(errors);
        Assert.True(model.training);
        model.eval();
        var (after, _) = model.Predict(x);
        after.Dispose();
        Assert.False(model.training);
    }

    [Fact]
    public void EarlyStoppingAndValidationMetric_DoNotOverwriteEachOther()
    {
        using var model = ContractModels.Vanilla();
        var trainer = SliceTrainer.For(model).WithValidationMetric(ValidationMetric.MeanSliceF1);
        var ex = Assert.Throws<InvalidOperationException>(() => trainer.WithEarlyStopping(3, ValidationMetric.OverallAccuracy));
        Assert.Contains("WithEarlyStopping asks for the validation metric 'accuracy', but WithValidationMetric already chose 'mean-slice-f1'", ex.Message);
        trainer.WithEarlyStopping(3); // keeps mean-slice-f1
        var reverse = SliceTrainer.For(model).WithEarlyStopping(3, ValidationMetric.NegativeLoss);
        Assert.Throws<InvalidOperationException>(() => reverse.WithValidationMetric(ValidationMetric.OverallF1));
    }

    [Fact]
    public void AFactoryReturningNull_IsAContractViolation()
    {
        var ex = Assert.Throws<ContractViolationException>(() => SliceTrainer.For<SliceAwareModel>(1, () => null!));
        Assert.Contains("factory returned null", ex.Message);
    }

    private static class ContractModels
    {
        public static VanillaModel Vanilla() => VanillaModel.Create(TwoDiscTask.Backbone(), 13, 2);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages) Messages.Add(formatter(state, exception));
        }
    }

    private sealed class ListLoggerFactory(ListLogger logger) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider) { }

        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose() { }
    }
}
