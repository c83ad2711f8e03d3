using Microsoft.Extensions.Logging;

namespace SliceLearning.Training;

/// <summary>Source-generated log messages of the trainer.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5001, EventName = "TrainingStarted", Level = LogLevel.Information,
        Message = "Training {Model} ({Parameters} parameters) on {Device}: {Rows} rows, {Epochs} epochs, batch {BatchSize}, {Optimizer} lr {LearningRate}, seed {Seed}")]
    public static partial void TrainingStarted(ILogger logger, string model, long parameters, string device, int rows, int epochs, int batchSize, string optimizer, double learningRate, string seed);

    [LoggerMessage(EventId = 5002, EventName = "EpochCompleted", Level = LogLevel.Debug,
        Message = "Epoch {Epoch}/{Epochs}: loss {Loss:F5}, {Metric} {Score:F4}, lr {LearningRate}")]
    public static partial void EpochCompleted(ILogger logger, int epoch, int epochs, double loss, string metric, double score, double learningRate);

    [LoggerMessage(EventId = 5003, EventName = "EarlyStopped", Level = LogLevel.Information,
        Message = "Early stopping after epoch {Epoch}: {Metric} has not improved for {Patience} epochs (best {Best:F4} at epoch {BestEpoch})")]
    public static partial void EarlyStopped(ILogger logger, int epoch, string metric, int patience, double best, int bestEpoch);

    [LoggerMessage(EventId = 5004, EventName = "TrainingFinished", Level = LogLevel.Information,
        Message = "Training finished: {Epochs} epochs in {Seconds:F1} s, best epoch {BestEpoch}")]
    public static partial void TrainingFinished(ILogger logger, int epochs, double seconds, int bestEpoch);

    [LoggerMessage(EventId = 5005, EventName = "Diverged", Level = LogLevel.Warning,
        Message = "Training diverged at epoch {Epoch}, step {Step}: the {Term} loss is not finite; restored the weights of {RestoredFrom} and stopped")]
    public static partial void Diverged(ILogger logger, int epoch, int step, string term, string restoredFrom);
}
