using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Slicing;

/// <summary>
/// Slice membership of N rows in m = k + 1 slices, column 0 being the base slice (every row).
/// Stored column-major as bits (1/8 byte per cell); converts to a dense TorchSharp tensor
/// [N, m] for training and back.
/// </summary>
public sealed class SliceMatrix
{
    /// <summary>The reserved name of the base slice, column 0.</summary>
    public const string BaseSliceName = "base";

    private readonly ulong[][] _columns;
    private readonly string[] _names;
    private readonly Dictionary<string, int> _indexByName;

    /// <summary>
    /// Creates a matrix from packed columns (bit r of word r/64 is row r). Column 0 must be the
    /// base slice; it is filled with ones here.
    /// </summary>
    internal SliceMatrix(IReadOnlyList<string> sliceNames, int rowCount, ulong[][] columns)
    {
        if (sliceNames.Count == 0 || sliceNames[0] != BaseSliceName)
            throw new ArgumentException($"The first slice must be the base slice '{BaseSliceName}'.", nameof(sliceNames));
        if (columns.Length != sliceNames.Count)
            throw new ArgumentException($"Got {columns.Length} columns for {sliceNames.Count} slice names.", nameof(columns));
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        int words = WordCount(rowCount);
        foreach (var column in columns)
        {
            if (column.Length != words)
                throw new ArgumentException($"Each column must have {words} words for {rowCount} rows.", nameof(columns));
        }
        _names = sliceNames.ToArray();
        _columns = columns;
        RowCount = rowCount;
        FillBase(_columns[0], rowCount);
        _indexByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _names.Length; i++)
        {
            if (!_indexByName.TryAdd(_names[i], i))
                throw new ArgumentException($"The slice name '{_names[i]}' appears twice.", nameof(sliceNames));
        }
    }

    /// <summary>Number of rows (examples), N.</summary>
    public int RowCount { get; }

    /// <summary>Number of columns, m = k + 1 (the base slice plus one per SF).</summary>
    public int ColumnCount => _names.Length;

    /// <summary>Number of slicing functions, k (columns without the base slice).</summary>
    public int SliceCount => _names.Length - 1;

    /// <summary>Bytes of packed membership storage: m columns of ceil(N / 64) 64-bit words (1/8 byte per cell plus padding).</summary>
    public long PackedBytes => (long)ColumnCount * WordCount(RowCount) * sizeof(ulong);

    /// <summary>Column names, the base slice first.</summary>
    public IReadOnlyList<string> SliceNames => _names;

    /// <summary>True when row <paramref name="row"/> belongs to slice column <paramref name="column"/>.</summary>
    public bool this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(row), row, $"The matrix has {RowCount} rows.");
            if ((uint)column >= (uint)ColumnCount) throw new ArgumentOutOfRangeException(nameof(column), column, $"The matrix has {ColumnCount} columns.");
            return (_columns[column][row >> 6] & (1UL << (row & 63))) != 0;
        }
    }

    /// <summary>The column of the slice named <paramref name="sliceName"/>.</summary>
    /// <exception cref="KeyNotFoundException">No slice has that name.</exception>
    public int IndexOf(string sliceName) =>
        _indexByName.TryGetValue(sliceName, out int index)
            ? index
            : throw new KeyNotFoundException($"No slice named '{sliceName}'. Slices: {string.Join(", ", _names)}.");

    /// <summary>Number of member rows of a column.</summary>
    public int MemberCount(int column)
    {
        int count = 0;
        foreach (ulong word in _columns[column]) count += BitOperations.PopCount(word);
        return count;
    }

    /// <summary>Membership of one column as a bool array of length N.</summary>
    public bool[] Column(int column)
    {
        var result = new bool[RowCount];
        var bits = _columns[column];
        for (int row = 0; row < RowCount; row++) result[row] = (bits[row >> 6] & (1UL << (row & 63))) != 0;
        return result;
    }

    /// <summary>Row indices of the members of a column.</summary>
    public int[] Members(int column)
    {
        var result = new List<int>();
        var bits = _columns[column];
        for (int w = 0; w < bits.Length; w++)
        {
            ulong word = bits[w];
            while (word != 0)
            {
                int bit = BitOperations.TrailingZeroCount(word);
                result.Add((w << 6) + bit);
                word &= word - 1;
            }
        }
        return result.ToArray();
    }

    /// <summary>The rows <paramref name="rows"/> (in that order) as a new matrix.</summary>
    public SliceMatrix SelectRows(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int words = WordCount(rows.Count);
        var columns = new ulong[ColumnCount][];
        for (int c = 0; c < ColumnCount; c++)
        {
            var source = _columns[c];
            var target = new ulong[words];
            for (int i = 0; i < rows.Count; i++)
            {
                int row = rows[i];
                if ((uint)row >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(rows), row, $"Row {row} is outside the matrix's {RowCount} rows.");
                if ((source[row >> 6] & (1UL << (row & 63))) != 0) target[i >> 6] |= 1UL << (i & 63);
            }
            columns[c] = target;
        }
        return new SliceMatrix(_names, rows.Count, columns);
    }

    /// <summary>
    /// A dense [N, m] tensor: 1 for members, 0 otherwise. Float32 by default (the form SRAM's
    /// losses use); <see cref="ScalarType.Bool"/> is also supported.
    /// </summary>
    public Tensor ToTensor(ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        // One byte per cell on the managed side (not four), then one conversion in libtorch.
        var dense = new bool[(long)RowCount * ColumnCount];
        int m = ColumnCount;
        for (int c = 0; c < m; c++)
        {
            var bits = _columns[c];
            for (int w = 0; w < bits.Length; w++)
            {
                ulong word = bits[w];
                while (word != 0)
                {
                    int row = (w << 6) + BitOperations.TrailingZeroCount(word);
                    dense[(long)row * m + c] = true;
                    word &= word - 1;
                }
            }
        }
        using var t = torch.tensor(dense, new long[] { RowCount, ColumnCount });
        return t.to(dtype, device ?? torch.CPU);
    }

    /// <summary>
    /// Builds a matrix from a [N, m] tensor (any dtype; nonzero = member). Column 0 must be the
    /// base slice and be all members.
    /// </summary>
    /// <exception cref="ArgumentException">A slice name is invalid (the same rules as <see cref="FromRows"/>).</exception>
    /// <exception cref="SliceDataException">Wrong shape, or a row outside the base slice (the message names the row).</exception>
    public static SliceMatrix FromTensor(Tensor membership, IReadOnlyList<string> sliceNames)
    {
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(sliceNames);
        SliceNameRules.ValidateMatrixColumns(sliceNames, nameof(sliceNames));
        if (membership.dim() != 2 || membership.shape[1] != sliceNames.Count)
            throw new SliceDataException($"Expected a [N, {sliceNames.Count}] membership tensor, got [{string.Join(", ", membership.shape)}].", nameof(membership));
        using var cpu = membership.to(ScalarType.Bool, torch.CPU).contiguous();
        var values = cpu.data<bool>();
        int n = (int)membership.shape[0], m = sliceNames.Count;
        var columns = new ulong[m][];
        for (int c = 0; c < m; c++) columns[c] = new ulong[WordCount(n)];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < m; c++)
            {
                if (values[(long)r * m + c]) columns[c][r >> 6] |= 1UL << (r & 63);
                else if (c == 0) throw new SliceDataException($"Row {r} is not a member of the base slice (column 0); every row must be.", nameof(membership), BaseSliceName, r);
            }
        }
        return new SliceMatrix(sliceNames, n, columns);
    }

    /// <summary>
    /// Builds a matrix from a dense bool array [N, m]. Column 0 must be the base slice, and every
    /// row must be a member of it. The other names follow the rules of slicing-function names
    /// (letters, digits, '_', '-', '.'; unique ignoring case).
    /// </summary>
    /// <exception cref="ArgumentException">A slice name is invalid (the message lists each one).</exception>
    /// <exception cref="SliceDataException">The array's width differs from the names, or a row is outside the base slice.</exception>
    public static SliceMatrix FromRows(IReadOnlyList<string> sliceNames, bool[,] membership)
    {
        ArgumentNullException.ThrowIfNull(sliceNames);
        ArgumentNullException.ThrowIfNull(membership);
        SliceNameRules.ValidateMatrixColumns(sliceNames, nameof(sliceNames));
        int n = membership.GetLength(0), m = membership.GetLength(1);
        if (m != sliceNames.Count)
            throw new SliceDataException($"The membership array has {m} columns but {sliceNames.Count} slice names were given.", nameof(membership));
        var columns = new ulong[m][];
        for (int c = 0; c < m; c++)
        {
            columns[c] = new ulong[WordCount(n)];
            for (int r = 0; r < n; r++)
            {
                if (membership[r, c]) columns[c][r >> 6] |= 1UL << (r & 63);
                else if (c == 0) throw new SliceDataException($"Row {r} is not a member of the base slice (column 0); every row must be.", nameof(membership), BaseSliceName, r);
            }
        }
        return new SliceMatrix(sliceNames, n, columns);
    }

    internal static int WordCount(int rows) => (rows + 63) >> 6;

    internal ulong[] PackedColumn(int column) => _columns[column];

    private static void FillBase(ulong[] column, int rowCount)
    {
        for (int w = 0; w < column.Length; w++) column[w] = ulong.MaxValue;
        int tail = rowCount & 63;
        if (tail != 0 && column.Length > 0) column[^1] = (1UL << tail) - 1;
    }
}
