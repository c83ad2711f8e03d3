using System.Globalization;

namespace SliceLearning.Evaluation;

/// <summary>A two-sided confidence interval [<see cref="Lower"/>, <see cref="Upper"/>].</summary>
/// <param name="Lower">Lower bound.</param>
/// <param name="Upper">Upper bound.</param>
public readonly record struct ConfidenceInterval(double Lower, double Upper)
{
    /// <summary>Upper − Lower.</summary>
    public double Width => Upper - Lower;

    /// <summary>True when <paramref name="value"/> lies inside the interval (bounds included).</summary>
    public bool Contains(double value) => value >= Lower && value <= Upper;

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "[{0:F4}, {1:F4}]", Lower, Upper);
}

/// <summary>One confidence interval per metric (bootstrap percentile intervals in a <see cref="SliceReport"/>).</summary>
/// <param name="Accuracy">Interval of the accuracy.</param>
/// <param name="Precision">Interval of the precision.</param>
/// <param name="Recall">Interval of the recall.</param>
/// <param name="F1">Interval of the F1 score.</param>
/// <param name="Mcc">Interval of the Matthews correlation.</param>
public sealed record MetricIntervals(ConfidenceInterval Accuracy, ConfidenceInterval Precision, ConfidenceInterval Recall, ConfidenceInterval F1, ConfidenceInterval Mcc)
{
    /// <summary>The interval of <paramref name="metric"/>.</summary>
    public ConfidenceInterval Get(Metric metric) => metric switch
    {
        Metric.Accuracy => Accuracy,
        Metric.Precision => Precision,
        Metric.Recall => Recall,
        Metric.F1 => F1,
        Metric.Mcc => Mcc,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
    };

    internal static MetricIntervals FromArray(ConfidenceInterval[] byMetric) =>
        new(byMetric[0], byMetric[1], byMetric[2], byMetric[3], byMetric[4]);
}
