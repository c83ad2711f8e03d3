namespace SliceLearning.Training;

/// <summary>What <see cref="SliceTrainer.Fit"/> did.</summary>
/// <param name="EpochsRun">Epochs completed.</param>
/// <param name="BestEpoch">The 1-based epoch with the best validation score (the last epoch without validation data).</param>
/// <param name="LossHistory">Mean training loss per epoch.</param>
/// <param name="ValidationHistory">Validation score per epoch (empty without validation data).</param>
/// <param name="BestValidationScore">The best validation score, or null without validation data.</param>
/// <param name="MetricName">Name of the validation metric, or null.</param>
/// <param name="StoppedEarly">True when early stopping ended training before the last epoch.</param>
/// <param name="RestoredBestWeights">True when the model's weights were reset to those of <paramref name="BestEpoch"/>.</param>
/// <param name="Elapsed">Wall time of the fit.</param>
public sealed record TrainingResult(
    int EpochsRun,
    int BestEpoch,
    IReadOnlyList<double> LossHistory,
    IReadOnlyList<double> ValidationHistory,
    double? BestValidationScore,
    string? MetricName,
    bool StoppedEarly,
    bool RestoredBestWeights,
    TimeSpan Elapsed)
{
    /// <summary>
    /// True when a loss became NaN or infinite and <see cref="DivergenceHandling.RestoreBestAndStop"/>
    /// stopped the run (then <see cref="RestoredBestWeights"/> says whether earlier weights were restored).
    /// </summary>
    public bool Diverged { get; init; }
}
