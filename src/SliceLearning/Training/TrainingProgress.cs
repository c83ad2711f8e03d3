namespace SliceLearning.Training;

/// <summary>A progress report, sent after every epoch.</summary>
/// <param name="Epoch">The epoch just finished (1-based).</param>
/// <param name="TotalEpochs">The configured number of epochs.</param>
/// <param name="TrainingLoss">Mean training loss of the epoch.</param>
/// <param name="ValidationScore">The validation metric after the epoch, or null without validation data.</param>
/// <param name="MetricName">Name of the validation metric, or null.</param>
/// <param name="LearningRate">The learning rate used in the epoch.</param>
/// <param name="Elapsed">Wall time since <c>Fit</c> started.</param>
public readonly record struct TrainingProgress(
    int Epoch,
    int TotalEpochs,
    double TrainingLoss,
    double? ValidationScore,
    string? MetricName,
    double LearningRate,
    TimeSpan Elapsed);
