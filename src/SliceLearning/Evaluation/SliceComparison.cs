using System.Globalization;
using System.Text;

namespace SliceLearning.Evaluation;

/// <summary>How the lift intervals of a <see cref="SliceComparison"/> were computed.</summary>
public enum ComparisonMethod
{
    /// <summary>Paired bootstrap: both models scored on the same resampled rows.</summary>
    PairedBootstrap,

    /// <summary>Normal approximation from each report's own intervals, assuming independence.</summary>
    IndependentNormal,
}

/// <summary>One slice of a comparison: both models' metrics and the lift (candidate − baseline).</summary>
/// <param name="Name">The slice name.</param>
/// <param name="Baseline">The baseline model's metrics on the slice.</param>
/// <param name="Candidate">The candidate model's metrics on the slice.</param>
/// <param name="LiftIntervals">Intervals of the lift per metric, or null (empty slice, or no intervals).</param>
public sealed record SliceLift(string Name, ClassificationMetrics Baseline, ClassificationMetrics Candidate, MetricIntervals? LiftIntervals)
{
    /// <summary>True when the slice is empty in either report; lifts are then NaN.</summary>
    public bool IsEmpty => Baseline.IsEmpty || Candidate.IsEmpty;

    /// <summary>Candidate − baseline for <paramref name="metric"/> (NaN when <see cref="IsEmpty"/>).</summary>
    public double Lift(Metric metric) => IsEmpty ? double.NaN : Candidate.Get(metric) - Baseline.Get(metric);

    /// <summary>Lift in accuracy.</summary>
    public double AccuracyLift => Lift(Metric.Accuracy);

    /// <summary>Lift in F1.</summary>
    public double F1Lift => Lift(Metric.F1);

    /// <summary>Lift in Matthews correlation.</summary>
    public double MccLift => Lift(Metric.Mcc);

    /// <summary>
    /// True when the lift interval of <paramref name="metric"/> excludes 0 (a significant change
    /// at the comparison's level); false when it does not or there is no interval.
    /// </summary>
    public bool IsSignificant(Metric metric) => LiftIntervals is { } ci && !ci.Get(metric).Contains(0);
}

/// <summary>Per-slice lift of one model over another; made by <see cref="SliceReport.Compare"/>.</summary>
public sealed class SliceComparison
{
    private readonly SliceLift[] _rows;

    internal SliceComparison(SliceLift[] rows, ComparisonMethod method, double level)
    {
        _rows = rows;
        Method = method;
        ConfidenceLevel = level;
    }

    /// <summary>One entry per slice both reports have, in the baseline's order.</summary>
    public IReadOnlyList<SliceLift> Slices => _rows;

    /// <summary>How the lift intervals were computed.</summary>
    public ComparisonMethod Method { get; }

    /// <summary>Two-sided level of the lift intervals.</summary>
    public double ConfidenceLevel { get; }

    /// <summary>The lift on the slice named <paramref name="sliceName"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such slice in the comparison.</exception>
    public SliceLift this[string sliceName] =>
        _rows.FirstOrDefault(r => r.Name == sliceName)
        ?? throw new KeyNotFoundException($"No slice named '{sliceName}' in this comparison. Slices: {string.Join(", ", _rows.Select(r => r.Name))}.");

    /// <summary>An aligned text table of <paramref name="metric"/>: baseline, candidate, lift and its interval per slice.</summary>
    public string ToTable(Metric metric = Metric.F1)
    {
        string name = SliceReport.MetricNames[(int)metric];
        var rows = new List<string[]>
        {
            new[] { "slice", "support", "baseline " + name, "candidate " + name, "lift", TextTable.LevelLabel(ConfidenceLevel) + " CI", "" },
        };
        foreach (var r in _rows)
        {
            if (r.IsEmpty)
            {
                rows.Add(new[] { r.Name, r.Candidate.Support.ToString(CultureInfo.InvariantCulture), "empty", "empty", "", "", "" });
                continue;
            }
            rows.Add(new[]
            {
                r.Name, r.Candidate.Support.ToString(CultureInfo.InvariantCulture),
                TextTable.Number(r.Baseline.Get(metric)), TextTable.Number(r.Candidate.Get(metric)),
                TextTable.Signed(r.Lift(metric)), TextTable.Interval(r.LiftIntervals?.Get(metric), signed: true),
                r.IsSignificant(metric) ? "*" : "",
            });
        }
        return TextTable.Render(rows);
    }

    /// <inheritdoc />
    public override string ToString() => ToTable();

    /// <summary>CSV: slice, support, then for each metric baseline, candidate, lift and the lift interval bounds.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("slice,support,empty");
        foreach (var n in SliceReport.MetricNames)
            sb.Append(CultureInfo.InvariantCulture, $",{n}_baseline,{n}_candidate,{n}_lift,{n}_lift_lower,{n}_lift_upper");
        sb.Append('\n');
        foreach (var r in _rows)
        {
            sb.Append(TextTable.CsvField(r.Name)).Append(',').Append(r.Candidate.Support.ToString(CultureInfo.InvariantCulture))
              .Append(',').Append(r.IsEmpty ? "true" : "false");
            for (int m = 0; m < Bootstrap.MetricCount; m++)
            {
                var metric = (Metric)m;
                var ci = r.LiftIntervals?.Get(metric);
                sb.Append(',').Append(TextTable.Csv(r.Baseline.Get(metric)))
                  .Append(',').Append(TextTable.Csv(r.Candidate.Get(metric)))
                  .Append(',').Append(TextTable.Csv(r.Lift(metric)))
                  .Append(',').Append(ci is { } c ? TextTable.Csv(c.Lower) : "")
                  .Append(',').Append(ci is { } d ? TextTable.Csv(d.Upper) : "");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
