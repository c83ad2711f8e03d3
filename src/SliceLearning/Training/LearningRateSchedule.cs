using System.Globalization;
namespace SliceLearning.Training;

/// <summary>
/// The learning rate of each epoch, as a function of the zero-based epoch, the number of epochs
/// and the base learning rate. Applied at the start of every epoch.
/// </summary>
public sealed class LearningRateSchedule
{
    private readonly Func<int, int, double, double> _rate;

    private LearningRateSchedule(string name, Func<int, int, double, double> rate)
    {
        Name = name;
        _rate = rate;
    }

    /// <summary>A short description, e.g. "step(10, 0.5)".</summary>
    public string Name { get; }

    /// <summary>The base learning rate throughout (the default).</summary>
    public static LearningRateSchedule Constant { get; } = new("constant", (_, _, lr) => lr);

    /// <summary>Multiplies the rate by <paramref name="gamma"/> every <paramref name="everyEpochs"/> epochs.</summary>
    public static LearningRateSchedule Step(int everyEpochs, double gamma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(everyEpochs, 1);
        if (!(gamma > 0) || double.IsInfinity(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a positive finite number.");
        return new(string.Create(CultureInfo.InvariantCulture, $"step({everyEpochs}, {gamma})"), (epoch, _, lr) => lr * Math.Pow(gamma, epoch / everyEpochs));
    }

    /// <summary>Multiplies the rate by <paramref name="gamma"/> every epoch.</summary>
    public static LearningRateSchedule Exponential(double gamma)
    {
        if (!(gamma > 0) || double.IsInfinity(gamma)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a positive finite number.");
        return new(string.Create(CultureInfo.InvariantCulture, $"exponential({gamma})"), (epoch, _, lr) => lr * Math.Pow(gamma, epoch));
    }

    /// <summary>
    /// Cosine annealing from the base rate (first epoch) towards <paramref name="minimum"/>, which
    /// would be reached one epoch after the last (PyTorch's <c>CosineAnnealingLR</c> with
    /// <c>T_max</c> = epochs), so every epoch trains, also with the default minimum 0.
    /// </summary>
    public static LearningRateSchedule Cosine(double minimum = 0)
    {
        if (!(minimum >= 0) || double.IsInfinity(minimum)) throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "The minimum rate must be a finite number >= 0.");
        return new(string.Create(CultureInfo.InvariantCulture, $"cosine({minimum})"), (epoch, epochs, lr) =>
            minimum + (lr - minimum) * 0.5 * (1 + Math.Cos(Math.PI * epoch / epochs)));
    }

    /// <summary>A custom schedule: <paramref name="rate"/>(zeroBasedEpoch, epochs, baseRate) returns the epoch's rate.</summary>
    public static LearningRateSchedule Custom(string name, Func<int, int, double, double> rate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(rate);
        return new(name, rate);
    }

    /// <summary>The learning rate of zero-based <paramref name="epoch"/> out of <paramref name="epochs"/>.</summary>
    /// <exception cref="InvalidOperationException">The schedule produced a rate that is not a positive finite number.</exception>
    public double RateAt(int epoch, int epochs, double baseRate)
    {
        double rate = _rate(epoch, epochs, baseRate);
        if (!(rate > 0) || double.IsInfinity(rate))
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The learning-rate schedule '{Name}' gave {rate} for epoch {epoch}; rates must be positive and finite."));
        return rate;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
