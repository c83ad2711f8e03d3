using System.Globalization;
using System.Text;
using System.Text.Json;
using SliceLearning.Slicing;

namespace SliceLearning.Evaluation;

/// <summary>
/// One model's classification metrics on every slice (the base slice "base" = all rows first),
/// with seeded bootstrap confidence intervals. Works on plain label/prediction arrays, so any
/// model can be evaluated by slice. Immutable.
/// </summary>
public sealed class SliceReport
{
    private readonly SliceMetrics[] _slices;
    private readonly Dictionary<string, SliceMetrics> _byName;

    // Row-level data kept (when created from arrays, not from JSON) for paired comparisons.
    private readonly SliceMatrix? _matrix;
    private readonly int[]? _labels;
    private readonly int[]? _cells;

    private SliceReport(int numClasses, int rowCount, int resamples, double level, int seed, SliceMetrics[] slices, SliceMatrix? matrix, int[]? labels, int[]? cells)
    {
        NumClasses = numClasses;
        RowCount = rowCount;
        BootstrapResamples = resamples;
        ConfidenceLevel = level;
        Seed = seed;
        _slices = slices;
        _byName = new Dictionary<string, SliceMetrics>(StringComparer.Ordinal);
        foreach (var s in slices)
        {
            if (!_byName.TryAdd(s.Name, s))
                throw new ArgumentException($"The slice name '{s.Name}' appears twice.", nameof(slices));
        }
        _matrix = matrix;
        _labels = labels;
        _cells = cells;
    }

    /// <summary>Number of classes (2 = binary).</summary>
    public int NumClasses { get; }

    /// <summary>Number of rows evaluated (the support of the base slice).</summary>
    public int RowCount { get; }

    /// <summary>Bootstrap resamples behind the intervals (0 = no intervals).</summary>
    public int BootstrapResamples { get; }

    /// <summary>Two-sided confidence level of the intervals.</summary>
    public double ConfidenceLevel { get; }

    /// <summary>Seed the bootstrap used.</summary>
    public int Seed { get; }

    /// <summary>One entry per slice, in slice-matrix column order (the base slice first).</summary>
    public IReadOnlyList<SliceMetrics> Slices => _slices;

    /// <summary>The base slice: metrics over all rows.</summary>
    public SliceMetrics Overall => _slices[0];

    /// <summary>Slices with no member rows (reported as empty, support 0).</summary>
    public IReadOnlyList<string> EmptySlices => _slices.Where(s => s.IsEmpty).Select(s => s.Name).ToArray();

    /// <summary>True when the report still holds its row-level data (created from arrays, not read from JSON).</summary>
    public bool HasRowData => _cells is not null;

    /// <summary>The metrics of the slice named <paramref name="sliceName"/>.</summary>
    /// <exception cref="KeyNotFoundException">No slice has that name (the message lists the slices).</exception>
    public SliceMetrics this[string sliceName] =>
        _byName.TryGetValue(sliceName, out var s)
            ? s
            : throw new KeyNotFoundException($"No slice named '{sliceName}' in this report. Slices: {string.Join(", ", _slices.Select(x => x.Name))}.");

    /// <summary>Looks a slice up by name.</summary>
    public bool TryGetSlice(string sliceName, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out SliceMetrics metrics) =>
        _byName.TryGetValue(sliceName, out metrics);

    /// <summary>
    /// Evaluates <paramref name="predictions"/> against <paramref name="labels"/> on every slice of
    /// <paramref name="slices"/>.
    /// </summary>
    /// <param name="slices">Slice membership of the same rows (column 0 = base slice).</param>
    /// <param name="labels">True classes, one per row, each in [0, numClasses).</param>
    /// <param name="predictions">Predicted classes, one per row, each in [0, numClasses). See <see cref="Predictions"/> for scores.</param>
    /// <param name="numClasses">Number of classes, at least 2.</param>
    /// <param name="options">Bootstrap options; null uses the defaults (1000 resamples, 95%, seed 42).</param>
    /// <exception cref="SliceDataException">Row counts disagree, or a label or prediction is out of range (the message names the row).</exception>
    public static SliceReport Create(SliceMatrix slices, int[] labels, int[] predictions, int numClasses, SliceReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(slices);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        if (numClasses < 2)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The 'numClasses' parameter must be at least 2.");
        options ??= new SliceReportOptions();
        options.Validate();
        if (labels.Length != slices.RowCount)
            throw new SliceDataException($"Got {labels.Length} labels for a slice matrix of {slices.RowCount} rows; they must match.", nameof(labels));
        if (predictions.Length != slices.RowCount)
            throw new SliceDataException($"Got {predictions.Length} predictions for a slice matrix of {slices.RowCount} rows; they must match.", nameof(predictions));

        var cells = new int[labels.Length];
        Runtime.LabelChecks.InRange(labels, numClasses, "Label", nameof(labels));
        Runtime.LabelChecks.InRange(predictions, numClasses, "Prediction", nameof(predictions));
        for (int i = 0; i < labels.Length; i++)
        {
            int y = labels[i], p = predictions[i];
            cells[i] = y * numClasses + p;
        }

        var result = new SliceMetrics[slices.ColumnCount];
        for (int column = 0; column < slices.ColumnCount; column++)
        {
            int[] members = slices.Members(column);
            var memberCells = new int[members.Length];
            var confusion = new long[numClasses * numClasses];
            for (int i = 0; i < members.Length; i++)
            {
                memberCells[i] = cells[members[i]];
                confusion[memberCells[i]]++;
            }
            var metrics = ClassificationMetrics.FromConfusion(confusion, numClasses);
            MetricIntervals? intervals = metrics.IsEmpty || options.BootstrapResamples == 0
                ? null
                : Bootstrap.Intervals(memberCells, numClasses, options.BootstrapResamples, options.ConfidenceLevel,
                    Bootstrap.SliceSeed(options.Seed, column), options.MaxDegreeOfParallelism);
            double coverage = slices.RowCount == 0 ? 0 : (double)members.Length / slices.RowCount;
            result[column] = new SliceMetrics(slices.SliceNames[column], metrics, intervals, coverage);
        }
        return new SliceReport(numClasses, slices.RowCount, options.BootstrapResamples, options.ConfidenceLevel, options.Seed, result,
            slices, (int[])labels.Clone(), cells);
    }

    /// <summary>
    /// Per-slice lift of <paramref name="candidate"/> over <paramref name="baseline"/> (candidate −
    /// baseline) on the slices both reports have, in the baseline's order.
    /// </summary>
    /// <remarks>
    /// When both reports hold row data for the same rows, labels and slices (both made by
    /// <see cref="Create"/> on the same evaluation set), the lift intervals come from a paired
    /// bootstrap (the same resampled rows for both models; <see cref="ComparisonMethod.PairedBootstrap"/>).
    /// Otherwise (e.g. a report read from JSON) they are normal approximations from the two
    /// reports' own intervals, assuming independence (<see cref="ComparisonMethod.IndependentNormal"/>),
    /// which is wider than the paired interval when the models' errors are correlated.
    /// Resamples, level and seed come from the baseline report; no intervals when it has none.
    /// </remarks>
    /// <exception cref="ArgumentException">The reports have different class counts or no slice in common.</exception>
    public static SliceComparison Compare(SliceReport baseline, SliceReport candidate)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (baseline.NumClasses != candidate.NumClasses)
            throw new ArgumentException($"The baseline has {baseline.NumClasses} classes but the candidate has {candidate.NumClasses}.", nameof(candidate));
        var names = baseline._slices.Select(s => s.Name).Where(candidate._byName.ContainsKey).ToArray();
        if (names.Length == 0)
            throw new ArgumentException("The two reports have no slice in common.", nameof(candidate));

        bool paired = CanPair(baseline, candidate, names);
        int resamples = baseline.BootstrapResamples;
        double level = baseline.ConfidenceLevel;
        var rows = new SliceLift[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            var a = baseline[names[i]];
            var b = candidate[names[i]];
            MetricIntervals? intervals = null;
            if (!a.IsEmpty && !b.IsEmpty && resamples > 0)
            {
                if (paired)
                {
                    int column = baseline._matrix!.IndexOf(names[i]);
                    int[] members = baseline._matrix.Members(column);
                    var cellsA = members.Select(r => baseline._cells![r]).ToArray();
                    var cellsB = members.Select(r => candidate._cells![r]).ToArray();
                    intervals = Bootstrap.PairedLiftIntervals(cellsA, cellsB, baseline.NumClasses, resamples, level,
                        Bootstrap.SliceSeed(baseline.Seed ^ 0x2a2a, column));
                }
                else if (a.Intervals is not null && b.Intervals is not null)
                {
                    intervals = IndependentLift(a, b, level);
                }
            }
            rows[i] = new SliceLift(names[i], a.Metrics, b.Metrics, intervals);
        }
        return new SliceComparison(rows, paired ? ComparisonMethod.PairedBootstrap : ComparisonMethod.IndependentNormal, level);
    }

    private static bool CanPair(SliceReport a, SliceReport b, string[] names)
    {
        if (a._cells is null || b._cells is null || a._matrix is null || b._matrix is null) return false;
        if (a.RowCount != b.RowCount || !a._labels!.AsSpan().SequenceEqual(b._labels!)) return false;
        foreach (var name in names)
        {
            if (!a._matrix.PackedColumn(a._matrix.IndexOf(name)).AsSpan().SequenceEqual(b._matrix.PackedColumn(b._matrix.IndexOf(name))))
                return false;
        }
        return true;
    }

    private static MetricIntervals IndependentLift(SliceMetrics a, SliceMetrics b, double level)
    {
        double z = MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, 1 - (1 - level) / 2);
        var result = new ConfidenceInterval[Bootstrap.MetricCount];
        for (int m = 0; m < Bootstrap.MetricCount; m++)
        {
            var metric = (Metric)m;
            double seA = a.Intervals!.Get(metric).Width / (2 * z);
            double seB = b.Intervals!.Get(metric).Width / (2 * z);
            double lift = b.Metrics.Get(metric) - a.Metrics.Get(metric);
            double half = z * Math.Sqrt(seA * seA + seB * seB);
            result[m] = new ConfidenceInterval(lift - half, lift + half);
        }
        return MetricIntervals.FromArray(result);
    }

    /// <summary>
    /// An aligned plain-text table, one line per slice: support, coverage, accuracy, precision,
    /// recall, F1 and MCC, with the intervals of accuracy, F1 and MCC. Empty slices read "empty".
    /// </summary>
    public string ToTable()
    {
        string ci = TextTable.LevelLabel(ConfidenceLevel) + " CI";
        bool intervals = BootstrapResamples > 0;
        var header = new List<string> { "slice", "support", "coverage", "accuracy" };
        if (intervals) header.Add(ci);
        header.AddRange(new[] { "precision", "recall", "F1" });
        if (intervals) header.Add(ci);
        header.Add("MCC");
        if (intervals) header.Add(ci);
        var rows = new List<string[]> { header.ToArray() };
        foreach (var s in _slices)
        {
            var m = s.Metrics;
            var cells = new List<string> { s.Name, s.Support.ToString(CultureInfo.InvariantCulture), TextTable.Percent(s.Coverage) };
            if (s.IsEmpty)
            {
                cells.Add("empty");
                while (cells.Count < header.Count) cells.Add("");
                rows.Add(cells.ToArray());
                continue;
            }
            cells.Add(TextTable.Number(m.Accuracy));
            if (intervals) cells.Add(TextTable.Interval(s.Intervals?.Accuracy));
            cells.AddRange(new[] { TextTable.Number(m.Precision), TextTable.Number(m.Recall), TextTable.Number(m.F1) });
            if (intervals) cells.Add(TextTable.Interval(s.Intervals?.F1));
            cells.Add(TextTable.Number(m.Mcc));
            if (intervals) cells.Add(TextTable.Interval(s.Intervals?.Mcc));
            rows.Add(cells.ToArray());
        }
        return TextTable.Render(rows);
    }

    /// <inheritdoc />
    public override string ToString() => ToTable();

    /// <summary>
    /// CSV (invariant culture, "\n" line ends): slice, support, coverage, empty, then each metric
    /// with its interval bounds. Scores of empty slices and absent intervals are blank cells.
    /// </summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("slice,support,coverage,empty");
        foreach (var name in MetricNames) sb.Append(',').Append(name).Append(',').Append(name).Append("_lower,").Append(name).Append("_upper");
        sb.Append('\n');
        foreach (var s in _slices)
        {
            sb.Append(TextTable.CsvField(s.Name)).Append(',')
              .Append(s.Support.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(TextTable.Csv(s.Coverage)).Append(',')
              .Append(s.IsEmpty ? "true" : "false");
            for (int m = 0; m < Bootstrap.MetricCount; m++)
            {
                var ci = s.Intervals?.Get((Metric)m);
                sb.Append(',').Append(TextTable.Csv(s.Metrics.Get((Metric)m)))
                  .Append(',').Append(ci is { } c ? TextTable.Csv(c.Lower) : "")
                  .Append(',').Append(ci is { } d ? TextTable.Csv(d.Upper) : "");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    internal static readonly string[] MetricNames = { "accuracy", "precision", "recall", "f1", "mcc" };

    /// <summary>The report as JSON (scores of empty slices and absent intervals are null). <see cref="FromJson"/> reads it back.</summary>
    public string ToJson(bool indented = true)
    {
        var dto = new SliceReportJson
        {
            NumClasses = NumClasses,
            RowCount = RowCount,
            BootstrapResamples = BootstrapResamples,
            ConfidenceLevel = ConfidenceLevel,
            Seed = Seed,
            Slices = _slices.Select(s => new SliceMetricsJson
            {
                Name = s.Name,
                Support = s.Support,
                Correct = s.Metrics.Correct,
                Coverage = s.Coverage,
                IsEmpty = s.IsEmpty,
                Accuracy = NullIfEmpty(s, s.Metrics.Accuracy),
                Precision = NullIfEmpty(s, s.Metrics.Precision),
                Recall = NullIfEmpty(s, s.Metrics.Recall),
                F1 = NullIfEmpty(s, s.Metrics.F1),
                Mcc = NullIfEmpty(s, s.Metrics.Mcc),
                Intervals = s.Intervals is null ? null : Enumerable.Range(0, Bootstrap.MetricCount).ToDictionary(
                    m => MetricNames[m], m => new[] { s.Intervals.Get((Metric)m).Lower, s.Intervals.Get((Metric)m).Upper }),
            }).ToList(),
        };
        return JsonSerializer.Serialize(dto, indented ? SliceReportJsonContext.Indented.SliceReportJson : SliceReportJsonContext.Default.SliceReportJson);
    }

    /// <summary>Reads a report written by <see cref="ToJson"/>. The result has no row data (<see cref="HasRowData"/> false).</summary>
    /// <exception cref="FormatException">The text is not a valid report (the message says what is missing).</exception>
    public static SliceReport FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        SliceReportJson? dto;
        try { dto = JsonSerializer.Deserialize(json, SliceReportJsonContext.Default.SliceReportJson); }
        catch (JsonException ex) { throw new FormatException("The text is not a SliceReport JSON document: " + ex.Message, ex); }
        if (dto?.Slices is null || dto.Slices.Count == 0)
            throw new FormatException("The SliceReport JSON has no 'slices'.");
        if (dto.NumClasses < 2)
            throw new FormatException($"The SliceReport JSON has numClasses = {dto.NumClasses}; it must be at least 2.");
        var slices = dto.Slices.Select((s, i) =>
        {
            if (string.IsNullOrEmpty(s.Name)) throw new FormatException($"Slice #{i} of the SliceReport JSON has no name.");
            var metrics = s.Support == 0
                ? ClassificationMetrics.Empty(dto.NumClasses)
                : ClassificationMetrics.Restore(dto.NumClasses, s.Support, s.Correct,
                    Required(s.Accuracy, s.Name, "accuracy"), Required(s.Precision, s.Name, "precision"), Required(s.Recall, s.Name, "recall"),
                    Required(s.F1, s.Name, "f1"), Required(s.Mcc, s.Name, "mcc"));
            MetricIntervals? intervals = null;
            if (s.Intervals is not null)
            {
                var cis = new ConfidenceInterval[Bootstrap.MetricCount];
                for (int m = 0; m < cis.Length; m++)
                {
                    if (!s.Intervals.TryGetValue(MetricNames[m], out var bounds) || bounds is null || bounds.Length != 2)
                        throw new FormatException($"Slice '{s.Name}' in the SliceReport JSON lacks a two-number '{MetricNames[m]}' interval.");
                    cis[m] = new ConfidenceInterval(bounds[0], bounds[1]);
                }
                intervals = MetricIntervals.FromArray(cis);
            }
            return new SliceMetrics(s.Name, metrics, intervals, s.Coverage);
        }).ToArray();
        var duplicate = slices.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new FormatException($"The SliceReport JSON lists slice '{duplicate.Key}' twice.");
        return new SliceReport(dto.NumClasses, dto.RowCount, dto.BootstrapResamples, dto.ConfidenceLevel, dto.Seed, slices, null, null, null);
    }

    private static double? NullIfEmpty(SliceMetrics s, double value) => s.IsEmpty ? null : value;

    private static double Required(double? value, string slice, string name) =>
        value ?? throw new FormatException($"Slice '{slice}' in the SliceReport JSON has support > 0 but no '{name}'.");
}
