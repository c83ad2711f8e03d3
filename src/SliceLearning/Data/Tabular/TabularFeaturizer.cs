using System.Globalization;
using static TorchSharp.torch;

namespace SliceLearning.Data.Tabular;

/// <summary>Options of <see cref="TabularFeaturizer.Fit"/>.</summary>
/// <remarks>Defaults: no columns (name at least one), <see cref="MinCategoryCount"/> 1, <see cref="MissingIndicators"/> true.</remarks>
public sealed class TabularFeaturizerOptions
{
    /// <summary>Columns encoded one-hot: one feature per value seen in the fitting rows (values in order of frequency).</summary>
    /// <value>The default value is empty.</value>
    public IList<string> Categorical { get; set; } = new List<string>();

    /// <summary>Columns parsed as numbers (invariant culture) and standardised to mean 0, standard deviation 1 over the fitting rows.</summary>
    /// <value>The default value is empty.</value>
    public IList<string> Numeric { get; set; } = new List<string>();

    /// <summary>A categorical value seen fewer times than this in the fitting rows shares one "other" feature with unseen values.</summary>
    /// <value>The default value is 1 (every seen value gets its own feature).</value>
    public int MinCategoryCount { get; set; } = 1;

    /// <summary>
    /// When true, each column with a missing cell in the fitting rows gets a 0/1 "missing" feature
    /// (a missing number is also set to the mean, 0 after scaling). When false, a missing
    /// categorical cell encodes as all zeros and a missing number as 0.
    /// </summary>
    /// <value>The default value is true.</value>
    public bool MissingIndicators { get; set; } = true;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">Lists every invalid option with its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (Categorical is null) problems.Add($"{nameof(Categorical)} must not be null.");
        if (Numeric is null) problems.Add($"{nameof(Numeric)} must not be null.");
        if (Categorical is not null && Numeric is not null)
        {
            if (Categorical.Count + Numeric.Count == 0) problems.Add($"Name at least one column in {nameof(Categorical)} or {nameof(Numeric)}.");
            foreach (var c in Categorical.Intersect(Numeric, StringComparer.Ordinal))
                problems.Add($"Column '{c}' is in both {nameof(Categorical)} and {nameof(Numeric)}.");
            foreach (var list in new[] { (nameof(Categorical), Categorical), (nameof(Numeric), Numeric) })
                foreach (var g in list.Item2.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1))
                    problems.Add($"Column '{g.Key}' is listed {g.Count()} times in {list.Item1}.");
        }
        if (MinCategoryCount < 1) problems.Add($"{nameof(MinCategoryCount)} must be at least 1. Got {MinCategoryCount}.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(TabularFeaturizerOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }
}

/// <summary>
/// Turns table rows into float vectors for an MLP backbone: one-hot categorical columns (rare and
/// unseen values share an "other" feature) and standardised numeric columns, with optional
/// missing-value indicators. Fitted once on the training rows, then applied unchanged to any
/// row (validation, test, newly acquired data). Immutable after <see cref="Fit"/>.
/// </summary>
/// <example>
/// <code>
/// var featurizer = TabularFeaturizer.Fit(train, new TabularFeaturizerOptions { Categorical = { "SEX", "AGE" } });
/// using var data = SliceDataset.From(train, featurizer.Featurize, r => r["INCOME"] == "high" ? 1 : 0, slices);
/// var backbone = nn.Sequential(nn.Linear(featurizer.Width, 64), nn.ReLU());
/// </code>
/// </example>
public sealed class TabularFeaturizer
{
    private readonly Column[] _columns;
    private readonly string[] _featureNames;

    private sealed record Column(string Name, bool IsNumeric, int Offset, Dictionary<string, int>? Categories, bool HasOther, double Mean, double Scale, int MissingFeature);

    private TabularFeaturizer(Column[] columns, string[] featureNames)
    {
        _columns = columns;
        _featureNames = featureNames;
    }

    /// <summary>Number of features per row: the input width of the backbone.</summary>
    public int Width => _featureNames.Length;

    /// <summary>One name per feature: <c>COLUMN=value</c>, <c>COLUMN=(other)</c>, <c>COLUMN=(missing)</c> or the numeric column's name.</summary>
    public IReadOnlyList<string> FeatureNames => _featureNames;

    /// <summary>Learns the categories and the scaling from <paramref name="rows"/> (the training rows).</summary>
    /// <exception cref="SliceDataException">A column is missing, no rows are given, or a numeric cell does not parse (the message names column and row).</exception>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static TabularFeaturizer Fit(IReadOnlyList<TabularRow> rows, TabularFeaturizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (rows.Count == 0) throw new SliceDataException("Cannot fit a featurizer on 0 rows.", nameof(rows));
        var table = rows[0].Table;
        foreach (var name in options.Categorical.Concat(options.Numeric))
        {
            if (!table.HasColumn(name))
                throw new SliceDataException($"Column '{name}' is not in the table. Columns: {string.Join(", ", table.Columns)}.", nameof(options));
        }
        var columns = new List<Column>();
        var names = new List<string>();
        foreach (var name in table.Columns)
        {
            bool categorical = options.Categorical.Contains(name), numeric = options.Numeric.Contains(name);
            if (!categorical && !numeric) continue;
            int c = table.ColumnIndex(name);
            bool anyMissing = rows.Any(r => r.Cell(c) is null);
            int offset = names.Count;
            if (categorical)
            {
                var counts = rows.Select(r => r.Cell(c)).Where(v => v is not null).GroupBy(v => v!, StringComparer.Ordinal)
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToArray();
                var kept = counts.Where(g => g.Count() >= options.MinCategoryCount).Select(g => g.Key).ToArray();
                bool other = kept.Length < counts.Length || options.MinCategoryCount > 1;
                var map = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var v in kept) { map[v] = names.Count - offset; names.Add($"{name}={v}"); }
                if (other) names.Add($"{name}=(other)");
                int missing = -1;
                if (anyMissing && options.MissingIndicators) { missing = names.Count - offset; names.Add($"{name}=(missing)"); }
                columns.Add(new Column(name, false, offset, map, other, 0, 1, missing));
            }
            else
            {
                var values = new List<double>();
                foreach (var r in rows)
                {
                    var cell = r.Cell(c);
                    if (cell is not null) values.Add(ParseNumber(name, cell, r.Index));
                }
                double mean = values.Count > 0 ? values.Average() : 0;
                double sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
                names.Add(name);
                int missing = -1;
                if (anyMissing && options.MissingIndicators) { missing = 1; names.Add($"{name}=(missing)"); }
                columns.Add(new Column(name, true, offset, null, false, mean, sd > 0 ? sd : 1, missing));
            }
        }
        return new TabularFeaturizer(columns.ToArray(), names.ToArray());
    }

    /// <summary>The feature vector of <paramref name="row"/> (length <see cref="Width"/>). Pass it as the featurizer of <c>SliceDataset.From</c>.</summary>
    /// <exception cref="SliceDataException">The row's table lacks a fitted column, or a numeric cell does not parse (the message names column and row).</exception>
    public float[] Featurize(TabularRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var result = new float[Width];
        Write(row, result);
        return result;
    }

    /// <summary>The features of <paramref name="rows"/> as a float32 tensor [N, <see cref="Width"/>] on the CPU.</summary>
    public Tensor ToTensor(IReadOnlyList<TabularRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var data = new float[(long)rows.Count * Width];
        for (int i = 0; i < rows.Count; i++) Write(rows[i], data.AsSpan(i * Width, Width));
        return tensor(data, new long[] { rows.Count, Width });
    }

    private void Write(TabularRow row, Span<float> target)
    {
        var table = row.Table;
        foreach (var col in _columns)
        {
            if (!table.HasColumn(col.Name))
                throw new SliceDataException($"Row {row.Index} has no column '{col.Name}', which the featurizer was fitted on.", nameof(row), row: row.Index);
            var cell = row.Cell(table.ColumnIndex(col.Name));
            if (cell is null)
            {
                if (col.MissingFeature >= 0) target[col.Offset + col.MissingFeature] = 1;
                continue;
            }
            if (col.IsNumeric)
            {
                target[col.Offset] = (float)((ParseNumber(col.Name, cell, row.Index) - col.Mean) / col.Scale);
            }
            else if (col.Categories!.TryGetValue(cell, out int k))
            {
                target[col.Offset + k] = 1;
            }
            else if (col.HasOther)
            {
                target[col.Offset + col.Categories.Count] = 1;
            }
        }
    }

    private static double ParseNumber(string column, string cell, int row) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new SliceDataException($"Column '{column}' is numeric but row {row} holds '{cell}', which is not a finite number.", nameof(row), row: row);
}
