namespace SliceLearning.Evaluation;

/// <summary>One row of a <see cref="SliceReport"/>: a slice's metrics and their confidence intervals.</summary>
/// <param name="Name">The slice name ("base" for all rows).</param>
/// <param name="Metrics">The metrics on the slice's member rows.</param>
/// <param name="Intervals">Bootstrap percentile intervals, or null when the slice is empty or intervals are off.</param>
/// <param name="Coverage">Fraction of all rows that are members of the slice, in [0, 1].</param>
public sealed record SliceMetrics(string Name, ClassificationMetrics Metrics, MetricIntervals? Intervals, double Coverage)
{
    /// <summary>Number of member rows.</summary>
    public int Support => Metrics.Support;

    /// <summary>True when the slice has no member rows.</summary>
    public bool IsEmpty => Metrics.IsEmpty;
}
