using System.Globalization;
using Microsoft.VisualBasic.FileIO;

namespace SliceLearning.Data.Tabular;

/// <summary>
/// A table of string cells with named columns (a CSV in memory): the row type of tabular slicing
/// functions (<c>row =&gt; row["SEX"] == "F"</c>), of <see cref="TabularFeaturizer"/> and of slice
/// discovery over columns. A missing cell is null. Immutable.
/// </summary>
public sealed class TabularTable
{
    private readonly string[] _columns;
    private readonly Dictionary<string, int> _index;
    private readonly TabularRow[] _rows;

    /// <summary>Creates a table from column names and rows of cells (a null or empty cell is missing).</summary>
    /// <param name="columns">Column names: non-empty and distinct.</param>
    /// <param name="rows">Rows, each with one cell per column.</param>
    /// <exception cref="SliceDataException">A column name is empty or repeated, or a row has the wrong number of cells (the message names the row).</exception>
    public TabularTable(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string?>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        _columns = columns.ToArray();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < _columns.Length; c++)
        {
            if (string.IsNullOrWhiteSpace(_columns[c]))
                throw new SliceDataException($"Column #{c} has an empty name.", nameof(columns));
            if (!_index.TryAdd(_columns[c], c))
                throw new SliceDataException($"Column #{c} is named '{_columns[c]}', like an earlier column.", nameof(columns));
        }
        var list = new List<TabularRow>();
        foreach (var cells in rows)
        {
            if (cells is null) throw new SliceDataException($"Row {list.Count} is null.", nameof(rows), row: list.Count);
            if (cells.Count != _columns.Length)
                throw new SliceDataException($"Row {list.Count} has {cells.Count} cells but the table has {_columns.Length} columns.", nameof(rows), row: list.Count);
            var copy = new string?[cells.Count];
            for (int c = 0; c < copy.Length; c++) copy[c] = string.IsNullOrEmpty(cells[c]) ? null : cells[c];
            list.Add(new TabularRow(this, list.Count, copy));
        }
        _rows = list.ToArray();
    }

    /// <summary>Column names, in order.</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>The rows, in order (<see cref="TabularRow.Index"/> is the position).</summary>
    public IReadOnlyList<TabularRow> Rows => _rows;

    /// <summary>Number of rows.</summary>
    public int Count => _rows.Length;

    /// <summary>True when the table has a column named <paramref name="column"/> (case-sensitive).</summary>
    public bool HasColumn(string column) => _index.ContainsKey(column);

    /// <summary>The position of <paramref name="column"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such column (the message lists the columns).</exception>
    public int ColumnIndex(string column) =>
        _index.TryGetValue(column, out int c) ? c
            : throw new KeyNotFoundException($"The table has no column '{column}'. Columns: {string.Join(", ", _columns)}.");

    /// <summary>The distinct non-missing values of <paramref name="column"/>, most frequent first (ties in ordinal order).</summary>
    public IReadOnlyList<string> Values(string column)
    {
        int c = ColumnIndex(column);
        return _rows.Select(r => r.Cell(c)).Where(v => v is not null).GroupBy(v => v!, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).ToArray();
    }

    /// <summary>Rows with no missing cell in <paramref name="columns"/> (all columns when none are given), as a new table.</summary>
    public TabularTable WithoutMissing(params string[] columns)
    {
        var idx = (columns.Length == 0 ? _columns : columns).Select(ColumnIndex).ToArray();
        return new TabularTable(_columns, _rows.Where(r => idx.All(c => r.Cell(c) is not null)).Select(r => r.Cells));
    }

    /// <summary>The rows at <paramref name="rows"/>, in that order, as a new table (row indices restart at 0).</summary>
    public TabularTable Select(IEnumerable<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new TabularTable(_columns, rows.Select(i =>
            (uint)i < (uint)_rows.Length ? _rows[i].Cells : throw new ArgumentOutOfRangeException(nameof(rows), i, $"Row {i} is outside the table's {_rows.Length} rows.")));
    }

    /// <summary>
    /// Reads an RFC 4180 CSV file with a header line (quoted fields, doubled quotes, fields spanning
    /// lines; an empty field is missing), as written by R's <c>write.csv(..., na = "")</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SliceDataException">No header, or a line with another number of fields (the message names the line).</exception>
    public static TabularTable ReadCsv(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file '{path}' does not exist.", path);
        using var parser = new TextFieldParser(path) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        parser.SetDelimiters(",");
        var header = parser.ReadFields() ?? throw new SliceDataException($"CSV file '{path}' is empty: a header line is needed.", nameof(path));
        var rows = new List<string?[]>();
        while (!parser.EndOfData)
        {
            long line = parser.LineNumber;
            var fields = parser.ReadFields();
            if (fields is null) continue;
            if (fields.Length != header.Length)
                throw new SliceDataException($"CSV file '{path}', line {line.ToString(CultureInfo.InvariantCulture)}: {fields.Length} fields, but the header has {header.Length}.", nameof(path), row: rows.Count);
            rows.Add(fields);
        }
        return new TabularTable(header, rows);
    }
}

/// <summary>One row of a <see cref="TabularTable"/>; cells are read by column name.</summary>
public sealed class TabularRow
{
    private readonly TabularTable _table;
    private readonly string?[] _cells;

    internal TabularRow(TabularTable table, int index, string?[] cells)
    {
        _table = table;
        Index = index;
        _cells = cells;
    }

    /// <summary>The row's position in its table.</summary>
    public int Index { get; }

    /// <summary>The table the row belongs to.</summary>
    public TabularTable Table => _table;

    /// <summary>The cell in <paramref name="column"/>, or null when it is missing.</summary>
    /// <exception cref="KeyNotFoundException">No such column (the message lists the columns).</exception>
    public string? this[string column] => _cells[_table.ColumnIndex(column)];

    /// <summary>The cell at column position <paramref name="column"/>, or null when it is missing.</summary>
    public string? Cell(int column) => _cells[column];

    /// <summary>All cells, in column order.</summary>
    public IReadOnlyList<string?> Cells => _cells;

    /// <inheritdoc />
    public override string ToString() => string.Join(", ", _table.Columns.Select((c, i) => $"{c}={_cells[i] ?? "NA"}"));
}
