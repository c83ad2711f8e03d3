using System.Globalization;
namespace SliceLearning.SliceTuner;

/// <summary>
/// The paper's measures (section 6.1), lower is better: the loss on the whole validation set,
/// and the average and maximum equalized error rates (EER), avg_i / max_i |loss(slice_i) - loss(D)|
/// (Definition 1 and its max variant).
/// </summary>
/// <param name="Loss">The loss on the whole validation set, loss(D).</param>
/// <param name="AverageEer">avg_i |loss(slice_i) - loss(D)|.</param>
/// <param name="MaxEer">max_i |loss(slice_i) - loss(D)|.</param>
/// <param name="SliceLosses">Each slice's validation loss.</param>
public sealed record SliceLossMetrics(double Loss, double AverageEer, double MaxEer, IReadOnlyList<double> SliceLosses)
{
    /// <summary>Computes the measures from per-slice losses and the loss on the whole validation set.</summary>
    /// <exception cref="SliceDataException">A loss is not finite; the message names the slice.</exception>
    public static SliceLossMetrics From(IReadOnlyList<double> sliceLosses, double overallLoss)
    {
        ArgumentNullException.ThrowIfNull(sliceLosses);
        if (sliceLosses.Count == 0) throw new ArgumentException("At least one slice loss is needed.", nameof(sliceLosses));
        for (int i = 0; i < sliceLosses.Count; i++)
        {
            if (!double.IsFinite(sliceLosses[i]))
                throw new SliceDataException(string.Create(CultureInfo.InvariantCulture, $"Slice #{i} has loss {sliceLosses[i]}; losses must be finite (is its validation set empty?)."), nameof(sliceLosses), sliceName: $"#{i}");
        }
        if (!double.IsFinite(overallLoss)) throw new ArgumentOutOfRangeException(nameof(overallLoss), overallLoss, "The overall loss must be finite.");
        var gaps = sliceLosses.Select(l => Math.Abs(l - overallLoss)).ToArray();
        return new SliceLossMetrics(overallLoss, gaps.Average(), gaps.Max(), sliceLosses.ToArray());
    }

    /// <summary>
    /// Computes the measures when loss(D) is the validation-size-weighted mean of the slice losses
    /// (true for a mean loss when the slices partition the validation set).
    /// </summary>
    /// <param name="sliceLosses">Each slice's mean validation loss.</param>
    /// <param name="validationCounts">Each slice's validation examples; null for equal counts.</param>
    public static SliceLossMetrics FromSliceLosses(IReadOnlyList<double> sliceLosses, IReadOnlyList<int>? validationCounts = null)
    {
        ArgumentNullException.ThrowIfNull(sliceLosses);
        if (validationCounts is not null && validationCounts.Count != sliceLosses.Count)
            throw new SliceDataException($"Got {validationCounts.Count} validation counts for {sliceLosses.Count} slices.", nameof(validationCounts));
        double total = 0, weight = 0;
        for (int i = 0; i < sliceLosses.Count; i++)
        {
            double w = validationCounts?[i] ?? 1;
            if (w < 0) throw new SliceDataException(string.Create(CultureInfo.InvariantCulture, $"Slice #{i} has {w} validation examples."), nameof(validationCounts), sliceName: $"#{i}");
            total += w * sliceLosses[i];
            weight += w;
        }
        if (weight <= 0) throw new SliceDataException("The validation counts add up to 0.", nameof(validationCounts));
        return From(sliceLosses, total / weight);
    }
}
