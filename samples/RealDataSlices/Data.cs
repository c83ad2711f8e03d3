using System.Globalization;
using Microsoft.VisualBasic.FileIO;

namespace RealDataSlices;

/// <summary>One row of a table: its values by column name, and a running id (used for cached text features).</summary>
public sealed class Row
{
    private readonly IReadOnlyDictionary<string, int> _columns;
    private readonly string[] _values;

    public Row(IReadOnlyDictionary<string, int> columns, string[] values, int id)
    {
        _columns = columns;
        _values = values;
        Id = id;
    }

    public int Id { get; }

    public string this[string column] => _columns.TryGetValue(column, out int i)
        ? _values[i]
        : throw new KeyNotFoundException($"Column '{column}' does not exist; columns: {string.Join(", ", _columns.Keys)}.");

    public double Num(string column) => double.Parse(this[column], NumberStyles.Float, CultureInfo.InvariantCulture);
}

/// <summary>A table read from CSV or ARFF: header and rows.</summary>
public sealed class Table
{
    public Table(string source, string[] header, List<string[]> rows)
    {
        Source = source;
        Header = header;
        Columns = header.Select((h, i) => (h, i)).ToDictionary(p => p.h, p => p.i, StringComparer.Ordinal);
        for (int r = 0; r < rows.Count; r++)
            if (rows[r].Length != header.Length)
                throw new InvalidDataException($"{source}: row {r + 1} has {rows[r].Length} fields, the header has {header.Length}.");
        Rows = rows.Select((v, i) => new Row(Columns, v, i)).ToList();
        Values = rows;
    }

    public string Source { get; }
    public string[] Header { get; }
    public IReadOnlyDictionary<string, int> Columns { get; }
    public List<Row> Rows { get; }
    public List<string[]> Values { get; }

    /// <summary>Reads an RFC 4180 CSV as R's write.csv writes it ("" = missing).</summary>
    public static Table ReadCsv(string path)
    {
        using var parser = new TextFieldParser(path) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        parser.SetDelimiters(",");
        var header = parser.ReadFields() ?? throw new InvalidDataException($"{path} is empty.");
        var rows = new List<string[]>();
        while (!parser.EndOfData)
            rows.Add(parser.ReadFields()!);
        return new Table(path, header, rows);
    }

    /// <summary>Reads a Weka ARFF file whose values contain no commas (credit-g).</summary>
    public static Table ReadArff(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines.Where(l => l.StartsWith("@attribute", StringComparison.OrdinalIgnoreCase))
            .Select(l => l.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries)[1].Trim('\'')).ToArray();
        int at = Array.FindIndex(lines, l => l.Trim().Equals("@data", StringComparison.OrdinalIgnoreCase));
        if (header.Length == 0 || at < 0) throw new InvalidDataException($"{path} is not an ARFF file (no @attribute or @data line).");
        var rows = lines[(at + 1)..].Where(l => l.Trim().Length > 0 && l[0] != '%')
            .Select(l => l.Split(',').Select(v => v.Trim().Trim('\'')).ToArray()).ToList();
        return new Table(path, header, rows);
    }
}

/// <summary>
/// Turns table rows into feature vectors: numeric columns standardised with the training rows' mean
/// and standard deviation, categorical columns one-hot over the categories seen in training
/// (an unseen category is all zeros).
/// </summary>
public sealed class TabularFeaturizer
{
    private readonly List<(string Column, double Mean, double Std)> _numeric = new();
    private readonly List<(string Column, Dictionary<string, int> Categories, int Offset)> _categorical = new();

    public TabularFeaturizer(IReadOnlyList<Row> train, IEnumerable<string> columns)
    {
        int offset = 0;
        foreach (var c in columns)
        {
            var values = train.Select(r => r[c]).ToArray();
            if (values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                var x = values.Select(v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
                double mean = x.Average(), std = Math.Sqrt(x.Select(v => (v - mean) * (v - mean)).Average());
                _numeric.Add((c, mean, std > 1e-12 ? std : 1));
            }
            else
            {
                var categories = values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
                    .Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i, StringComparer.Ordinal);
                _categorical.Add((c, categories, offset));
                offset += categories.Count;
            }
        }
        CategoricalWidth = offset;
        Width = _numeric.Count + offset;
    }

    public int Width { get; }

    private int CategoricalWidth { get; }

    public float[] Featurize(Row row)
    {
        var f = new float[Width];
        for (int i = 0; i < _numeric.Count; i++)
        {
            var (c, mean, std) = _numeric[i];
            f[i] = (float)((row.Num(c) - mean) / std);
        }
        int baseOffset = _numeric.Count;
        foreach (var (c, categories, offset) in _categorical)
            if (categories.TryGetValue(row[c], out int k)) f[baseOffset + offset + k] = 1f;
        return f;
    }
}

/// <summary>Seeded, label-stratified splits.</summary>
public static class Splits
{
    /// <summary>Splits rows into train / validation / test by the given fractions within each label.</summary>
    public static (List<Row> Train, List<Row> Validation, List<Row> Test) Stratified(IReadOnlyList<Row> rows, Func<Row, int> label,
        double trainFraction, double validationFraction, int seed)
    {
        var random = new Random(seed);
        var train = new List<Row>();
        var validation = new List<Row>();
        var test = new List<Row>();
        foreach (var group in rows.GroupBy(label).OrderBy(g => g.Key))
        {
            var items = group.ToArray();
            random.Shuffle(items);
            int nTrain = (int)Math.Round(items.Length * trainFraction), nValid = (int)Math.Round(items.Length * validationFraction);
            train.AddRange(items[..nTrain]);
            validation.AddRange(items[nTrain..(nTrain + nValid)]);
            test.AddRange(items[(nTrain + nValid)..]);
        }
        // Restore a stable order (by id) so that the split does not depend on grouping order.
        return (train.OrderBy(r => r.Id).ToList(), validation.OrderBy(r => r.Id).ToList(), test.OrderBy(r => r.Id).ToList());
    }
}
