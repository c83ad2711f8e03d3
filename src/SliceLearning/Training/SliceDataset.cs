using System.Globalization;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Training;

/// <summary>
/// A labelled data set with its slice membership, ready for training: features [N, ...] float32,
/// labels [N] int64 and a <see cref="SliceMatrix"/> of N rows. The data set owns its tensors and
/// disposes them.
/// </summary>
public sealed class SliceDataset : IDisposable
{
    private Tensor? _membership;
    private bool _disposed;

    /// <summary>
    /// Creates a data set that takes ownership of the tensors: they are detached from any dispose
    /// scope and disposed with the data set. Features are converted to float32 and labels to int64
    /// when needed (the given tensors are then disposed at once); both are kept on the CPU.
    /// </summary>
    /// <param name="features">[N, ...] features; no NaN or infinity.</param>
    /// <param name="labels">[N] class indices, non-negative (the range is checked against a model's class count when training).</param>
    /// <param name="slices">Slice membership of the N rows.</param>
    /// <exception cref="SliceDataException">Row counts disagree, a feature is NaN or infinite, or a label is negative; the message names the row.</exception>
    public SliceDataset(Tensor features, Tensor labels, SliceMatrix slices)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(slices);
        if (features.dim() < 1)
            throw new SliceDataException("Features must have a row dimension: expected [N, ...], got a scalar.", nameof(features));
        if (labels.dim() != 1)
            throw new SliceDataException($"Labels must be [N], got [{string.Join(", ", labels.shape)}].", nameof(labels));
        long n = features.shape[0];
        if (labels.shape[0] != n || slices.RowCount != n)
            throw new SliceDataException($"Row counts disagree: features have {n} rows, labels {labels.shape[0]}, the slice matrix {slices.RowCount}.", nameof(labels));
        if (labels.is_floating_point() || labels.dtype == ScalarType.Bool)
            throw new SliceDataException($"Labels must be integer class indices, got {labels.dtype}.", nameof(labels));
        Features = Own(features, ScalarType.Float32);
        Labels = Own(labels, ScalarType.Int64);
        Slices = slices;
        Count = (int)n;
        CheckFinite(Features);
        LabelChecks.InRange(Labels, numClasses: null, nameof(labels));
    }

    /// <summary>Features [N, ...], float32, on the CPU.</summary>
    public Tensor Features { get; }

    /// <summary>Labels [N], int64 class indices, on the CPU.</summary>
    public Tensor Labels { get; }

    /// <summary>Slice membership of the N rows, base slice first.</summary>
    public SliceMatrix Slices { get; }

    /// <summary>Number of rows N.</summary>
    public int Count { get; }

    /// <summary>The slice membership as a dense float32 tensor [N, m] (built once, owned by the data set).</summary>
    public Tensor Membership
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_membership is null)
            {
                var t = Slices.ToTensor();
                t.DetachFromDisposeScope();
                _membership = t;
            }
            return _membership;
        }
    }

    /// <summary>
    /// Builds a data set from examples: each is featurized to a float vector (all of one length),
    /// labelled and run through the slicing functions.
    /// </summary>
    /// <exception cref="SliceDataException">A featurizer output has another length, is null or NaN, or an SF throws; the message names the row.</exception>
    public static SliceDataset From<T>(IReadOnlyList<T> items, Func<T, float[]> featurize, Func<T, int> label, SliceSet<T> slices)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(featurize);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(slices);
        int n = items.Count;
        var matrix = slices.Apply(items);
        int width = -1;
        float[] data = Array.Empty<float>();
        var labels = new long[n];
        for (int row = 0; row < n; row++)
        {
            float[] f = featurize(items[row]) ?? throw new SliceDataException($"The featurizer returned null for row {row}.", nameof(featurize), row: row);
            if (width < 0)
            {
                width = f.Length;
                if (width == 0) throw new SliceDataException("The featurizer returned an empty vector for row 0.", nameof(featurize), row: 0);
                data = new float[(long)n * width];
            }
            else if (f.Length != width)
            {
                throw new SliceDataException($"The featurizer returned {f.Length} values for row {row} but {width} for row 0; every row needs the same length.", nameof(featurize), row: row);
            }
            f.CopyTo(data, (long)row * width);
            labels[row] = label(items[row]);
        }
        if (width < 0) width = 0;
        using var scope = NewDisposeScope();
        var features = tensor(data, new long[] { n, width });
        var labelTensor = tensor(labels, new long[] { n });
        return new SliceDataset(features, labelTensor, matrix);
    }

    /// <summary>The rows <paramref name="rows"/>, in that order, as a new data set.</summary>
    public SliceDataset Subset(int[] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (int r in rows)
        {
            if ((uint)r >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row {r} is outside the data set's {Count} rows.");
        }
        using var scope = NewDisposeScope();
        var index = tensor(Array.ConvertAll(rows, r => (long)r), new long[] { rows.Length });
        return new SliceDataset(Features.index_select(0, index), Labels.index_select(0, index), Slices.SelectRows(rows));
    }

    /// <summary>True once <see cref="Dispose"/> has run (the tensors are gone).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Features.Dispose();
        Labels.Dispose();
        _membership?.Dispose();
    }

    private static Tensor Own(Tensor t, ScalarType dtype)
    {
        if (t.dtype == dtype && t.device_type == DeviceType.CPU && !t.requires_grad) return t.DetachFromDisposeScope();
        var converted = t.to(dtype, CPU).detach().DetachFromDisposeScope();
        t.Dispose();
        return converted;
    }

    internal static void CheckFinite(Tensor features)
    {
        if (features.numel() == 0) return;
        using var scope = NewDisposeScope();
        var bad = features.isfinite().logical_not();
        if (!bad.any().item<bool>()) return;
        var rowBad = bad.reshape(features.shape[0], -1).any(1);
        long row = rowBad.nonzero()[0, 0].item<long>();
        var rowValues = features[row].reshape(-1);
        long col = rowValues.isfinite().logical_not().nonzero()[0, 0].item<long>();
        float value = rowValues[col].item<float>();
        throw new SliceDataException(string.Create(CultureInfo.InvariantCulture, $"Feature {col} of row {row} is {value}; features must be finite numbers."), "features", row: row);
    }
}
