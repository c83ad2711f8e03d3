using System.Globalization;

namespace SliceLearning.Training;

/// <summary>
/// A training loss became NaN or infinite: the learning rate is too high for the data, the data
/// has extreme values, or a loss weight is too large. Thrown by <see cref="SliceTrainer.Fit"/>
/// with <see cref="DivergenceHandling.Throw"/> (the default).
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="step">The 1-based step within the epoch.</param>
    /// <param name="term">The loss term that was not finite (e.g. "prediction", "indicator", or "loss").</param>
    /// <param name="value">Its value (NaN or an infinity).</param>
    public TrainingDivergedException(int epoch, int step, string term, double value)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged at epoch {epoch}, step {step}: the {term} loss is {value}. Lower the learning rate, clip gradients, or check the data for extreme values; WithDivergenceHandling(DivergenceHandling.RestoreBestAndStop) keeps the best weights instead."))
    {
        Epoch = epoch;
        Step = step;
        Term = term;
        Value = value;
    }

    /// <summary>The 1-based epoch in which the loss stopped being finite.</summary>
    public int Epoch { get; }

    /// <summary>The 1-based step within <see cref="Epoch"/>.</summary>
    public int Step { get; }

    /// <summary>The loss term that was not finite.</summary>
    public string Term { get; }

    /// <summary>Its value (NaN or an infinity).</summary>
    public double Value { get; }
}
