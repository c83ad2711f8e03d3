using System.Globalization;
using System.Numerics;
using System.Text;

namespace SliceLearning.Slicing;

/// <summary>How many rows a slice covers.</summary>
/// <param name="Name">The slice name.</param>
/// <param name="Count">Member rows.</param>
/// <param name="Fraction">Count / N, in [0, 1] (0 when N = 0).</param>
public sealed record SliceCoverage(string Name, int Count, double Fraction)
{
    /// <summary>True when the slice has no member rows.</summary>
    public bool IsEmpty => Count == 0;
}

/// <summary>
/// Agreement of a (noisy) SF with a gold slice column: the SF as a classifier of gold membership.
/// Ratios whose denominator is 0 are null (undefined), never NaN.
/// </summary>
/// <param name="Name">The slice name.</param>
/// <param name="TruePositives">Rows in both the SF's slice and the gold slice.</param>
/// <param name="FalsePositives">Rows the SF marks that the gold column does not.</param>
/// <param name="FalseNegatives">Gold members the SF misses.</param>
/// <param name="TrueNegatives">Rows in neither.</param>
public sealed record SliceAgreement(string Name, int TruePositives, int FalsePositives, int FalseNegatives, int TrueNegatives)
{
    /// <summary>TP / (TP + FP): how many SF members are true members; null when the SF marks no row.</summary>
    public double? Precision => TruePositives + FalsePositives == 0 ? null : (double)TruePositives / (TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN): how many true members the SF finds; null when the gold slice is empty.</summary>
    public double? Recall => TruePositives + FalseNegatives == 0 ? null : (double)TruePositives / (TruePositives + FalseNegatives);

    /// <summary>2TP / (2TP + FP + FN); null when both the SF and the gold slice are empty.</summary>
    public double? F1 => 2 * TruePositives + FalsePositives + FalseNegatives == 0 ? null : 2.0 * TruePositives / (2 * TruePositives + FalsePositives + FalseNegatives);

    /// <summary>Rows where the SF and the gold column agree, over all rows; null when there are no rows.</summary>
    public double? Accuracy
    {
        get
        {
            long n = (long)TruePositives + FalsePositives + FalseNegatives + TrueNegatives;
            return n == 0 ? null : (double)(TruePositives + TrueNegatives) / n;
        }
    }
}

/// <summary>
/// Coverage of each slice, pairwise overlaps, empty slices; and SF precision/recall against a gold
/// slice column. Computed with popcounts on the packed columns (cheap for millions of rows).
/// </summary>
public sealed class SliceStatistics
{
    private readonly SliceMatrix _matrix;
    private readonly int[,] _overlap;

    private SliceStatistics(SliceMatrix matrix, int[,] overlap)
    {
        _matrix = matrix;
        _overlap = overlap;
        Coverage = Enumerable.Range(0, matrix.ColumnCount)
            .Select(c => new SliceCoverage(matrix.SliceNames[c], overlap[c, c], matrix.RowCount == 0 ? 0 : (double)overlap[c, c] / matrix.RowCount))
            .ToArray();
        int uncovered = 0;
        for (int w = 0; w < SliceMatrix.WordCount(matrix.RowCount); w++)
        {
            ulong any = 0;
            for (int c = 1; c < matrix.ColumnCount; c++) any |= matrix.PackedColumn(c)[w];
            uncovered += BitOperations.PopCount(~any & matrix.PackedColumn(0)[w]);
        }
        RowsInNoSlice = uncovered;
    }

    /// <summary>Number of rows.</summary>
    public int RowCount => _matrix.RowCount;

    /// <summary>Coverage of every column, the base slice first.</summary>
    public IReadOnlyList<SliceCoverage> Coverage { get; }

    /// <summary>Names of SF slices with no member row.</summary>
    public IReadOnlyList<string> EmptySlices => Coverage.Skip(1).Where(c => c.IsEmpty).Select(c => c.Name).ToArray();

    /// <summary>Rows that are in no SF slice (only in the base slice).</summary>
    public int RowsInNoSlice { get; }

    /// <summary>Computes the statistics of <paramref name="matrix"/>.</summary>
    public static SliceStatistics Compute(SliceMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int m = matrix.ColumnCount;
        var overlap = new int[m, m];
        Parallel.For(0, m, a =>
        {
            var x = matrix.PackedColumn(a);
            for (int b = a; b < m; b++)
            {
                var y = matrix.PackedColumn(b);
                int count = 0;
                for (int w = 0; w < x.Length; w++) count += BitOperations.PopCount(x[w] & y[w]);
                overlap[a, b] = count;
                overlap[b, a] = count;
            }
        });
        return new SliceStatistics(matrix, overlap);
    }

    /// <summary>Rows in both slices (the diagonal is each slice's count).</summary>
    public int Overlap(string first, string second) => _overlap[_matrix.IndexOf(first), _matrix.IndexOf(second)];

    /// <summary>Rows in both columns <paramref name="first"/> and <paramref name="second"/>.</summary>
    public int Overlap(int first, int second) => _overlap[first, second];

    /// <summary>|A ∩ B| / |A ∪ B| of two slices; null when both are empty.</summary>
    public double? Jaccard(string first, string second)
    {
        int a = _matrix.IndexOf(first), b = _matrix.IndexOf(second);
        int union = _overlap[a, a] + _overlap[b, b] - _overlap[a, b];
        return union == 0 ? null : (double)_overlap[a, b] / union;
    }

    /// <summary>A copy of the m x m overlap counts (column order of the matrix, base first).</summary>
    public int[,] OverlapMatrix() => (int[,])_overlap.Clone();

    /// <summary>
    /// Precision/recall of the SF slice <paramref name="sliceName"/> against a gold membership
    /// column (the paper's noisy SFs vs the true slice).
    /// </summary>
    /// <exception cref="SliceDataException">The gold column's length differs from the row count.</exception>
    public static SliceAgreement Agreement(SliceMatrix matrix, string sliceName, IReadOnlyList<bool> gold)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(gold);
        if (gold.Count != matrix.RowCount)
            throw new SliceDataException($"The gold column for slice '{sliceName}' has {gold.Count} rows but the slice matrix has {matrix.RowCount}.", nameof(gold), sliceName);
        var packed = new ulong[SliceMatrix.WordCount(gold.Count)];
        for (int r = 0; r < gold.Count; r++)
            if (gold[r]) packed[r >> 6] |= 1UL << (r & 63);
        return Agreement(sliceName, matrix.PackedColumn(matrix.IndexOf(sliceName)), packed, matrix.RowCount);
    }

    /// <summary>
    /// Precision/recall of every SF slice of <paramref name="predicted"/> against the column of the
    /// same name in <paramref name="gold"/> (SF slices without a gold column are skipped).
    /// </summary>
    /// <exception cref="SliceDataException">The matrices have different row counts.</exception>
    public static IReadOnlyList<SliceAgreement> Agreement(SliceMatrix predicted, SliceMatrix gold)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(gold);
        if (predicted.RowCount != gold.RowCount)
            throw new SliceDataException($"The SF matrix has {predicted.RowCount} rows but the gold matrix has {gold.RowCount}.", nameof(gold));
        var result = new List<SliceAgreement>();
        for (int c = 1; c < predicted.ColumnCount; c++)
        {
            string name = predicted.SliceNames[c];
            if (!gold.SliceNames.Contains(name)) continue;
            result.Add(Agreement(name, predicted.PackedColumn(c), gold.PackedColumn(gold.IndexOf(name)), predicted.RowCount));
        }
        return result;
    }

    private static SliceAgreement Agreement(string name, ulong[] sf, ulong[] gold, int rows)
    {
        int tp = 0, fp = 0, fn = 0;
        for (int w = 0; w < sf.Length; w++)
        {
            tp += BitOperations.PopCount(sf[w] & gold[w]);
            fp += BitOperations.PopCount(sf[w] & ~gold[w]);
            fn += BitOperations.PopCount(~sf[w] & gold[w]);
        }
        return new SliceAgreement(name, tp, fp, fn, rows - tp - fp - fn);
    }

    /// <summary>An aligned text table: count and fraction of every slice, then its overlap with each SF slice.</summary>
    public string ToTable()
    {
        var names = _matrix.SliceNames;
        int m = names.Count;
        var rows = new List<string[]>();
        var header = new List<string> { "slice", "count", "coverage" };
        for (int c = 1; c < m; c++) header.Add("∩ " + names[c]);
        rows.Add(header.ToArray());
        for (int a = 0; a < m; a++)
        {
            var line = new List<string>
            {
                names[a], Coverage[a].Count.ToString(CultureInfo.InvariantCulture),
                Coverage[a].IsEmpty ? "empty" : (Coverage[a].Fraction * 100).ToString("F1", CultureInfo.InvariantCulture) + "%",
            };
            for (int b = 1; b < m; b++) line.Add(_overlap[a, b].ToString(CultureInfo.InvariantCulture));
            rows.Add(line.ToArray());
        }
        var widths = new int[header.Count];
        foreach (var r in rows) for (int c = 0; c < r.Length; c++) widths[c] = Math.Max(widths[c], r[c].Length);
        var sb = new StringBuilder();
        foreach (var r in rows)
        {
            for (int c = 0; c < r.Length; c++)
            {
                if (c > 0) sb.Append("  ");
                sb.Append(c == 0 ? r[c].PadRight(widths[c]) : r[c].PadLeft(widths[c]));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
