using System.Runtime.InteropServices;
using SliceLearning.Slicing;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Training.DataParallel;

/// <summary>
/// The trainer's data-parallel plumbing: initial weights from rank 0, one step plan per epoch that
/// all ranks agree on, gradients summed in buckets, and validation gathered exactly over all shards.
/// </summary>
/// <remarks>
/// Step semantics: in step s every rank takes the next <c>B</c> rows of its own shuffled shard
/// (fewer, or none, once its shard runs out); the step's loss is the mean over all rows taken by
/// all ranks, so each rank weights its local mean loss by <c>local rows / step rows</c> before the
/// gradients are summed. With one batch per epoch this is exactly full-batch training on the union
/// of the shards for losses that are means over rows.
/// </remarks>
internal sealed class DataParallelSteps
{
    // 4 M floats (16 MB) per collective keeps the copies cache-friendly and the buffer bounded.
    private const int BucketFloats = 1 << 22;
    private static readonly Scalar Zero = 0.0f.ToScalar();

    private readonly IDataParallelCoordinator _group;
    private float[] _bucket = [];

    internal DataParallelSteps(IDataParallelCoordinator group)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(group.WorldSize, 1, "coordinator.WorldSize");
        if (group.Rank < 0 || group.Rank >= group.WorldSize)
            throw new ArgumentOutOfRangeException(nameof(group), group.Rank, $"Rank must be in [0, {group.WorldSize}).");
        _group = group;
    }

    internal int Rank => _group.Rank;

    internal IDataParallelCoordinator Group => _group;

    /// <summary>Every rank's row count, in rank order.</summary>
    internal int[] ShardSizes(int localRows) => _group.GatherAll([localRows]);

    /// <summary>Batches per epoch: the most any rank needs (ranks whose shard ran out take no rows).</summary>
    internal static int StepsPerEpoch(int[] shardSizes, int batchSize) =>
        shardSizes.Max(n => (n + batchSize - 1) / batchSize);

    /// <summary>
    /// Rows, member pairs and per-slice members that all ranks take in each step of an epoch, agreed
    /// in one collective at the start of the epoch. <paramref name="order"/> is this rank's shuffled
    /// row order and <paramref name="membership"/> each local row's slice memberships (base first).
    /// </summary>
    internal StepNormalization.StepCounts[] AgreeOnEpoch(int[] order, bool[][] membership, int columns, int steps, int batchSize)
    {
        int width = 2 + columns;
        var values = new double[width * steps];
        for (int s = 0; s < steps; s++)
        {
            int start = s * batchSize, end = Math.Min(order.Length, start + batchSize);
            int at = width * s;
            values[at] = Math.Max(0, end - start);
            for (int i = start; i < end; i++)
            {
                var row = membership[order[i]];
                for (int c = 0; c < columns; c++)
                {
                    if (!row[c]) continue;
                    values[at + 1]++;
                    values[at + 2 + c]++;
                }
            }
        }
        _group.SumInPlace(values);
        var counts = new StepNormalization.StepCounts[steps];
        for (int s = 0; s < steps; s++)
        {
            int at = width * s;
            var members = new long[columns];
            for (int c = 0; c < columns; c++) members[c] = (long)values[at + 2 + c];
            counts[s] = new StepNormalization.StepCounts((long)values[at], (long)values[at + 1], members);
        }
        return counts;
    }

    /// <summary>Copies rank 0's parameters and buffers into every rank's module.</summary>
    internal void BroadcastWeights(nn.Module module)
    {
        var tensors = module.state_dict().Values.ToArray();
        foreach (var t in tensors)
        {
            if (t.dtype != ScalarType.Float32)
                throw new NotSupportedException($"Data-parallel training supports float32 weights; found a {t.dtype} tensor of shape [{string.Join(", ", t.shape)}].");
        }
        Bucketed(tensors, read: true, values => _group.Broadcast(values, root: 0), write: true);
    }

    /// <summary>
    /// Sums every parameter's gradient over the ranks (a rank that took no rows contributes zeros)
    /// and, in the same collective, whether any rank asks to stop.
    /// </summary>
    internal bool SumGradients(IReadOnlyList<TorchSharp.Modules.Parameter> parameters, bool cancelled)
    {
        var grads = new Tensor[parameters.Count + 1];
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            grads[i] = p.grad ?? throw new InvalidOperationException(
                $"Parameter {i} of shape [{string.Join(", ", p.shape)}] has no gradient; every trainable parameter must take part in the loss under data-parallel training.");
        }
        // The stop flag rides along with the gradients: one collective per step.
        using var flag = torch.tensor(new[] { cancelled ? 1f : 0f });
        grads[^1] = flag;
        Bucketed(grads, read: true, values => _group.SumInPlace(values), write: true);
        return flag.item<float>() > 0;
    }

    /// <summary>Gives every trainable parameter a zero gradient (for a rank that takes no rows in a step).</summary>
    internal static void ZeroGradients(IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var p in parameters)
        {
            var term = p.sum().mul(Zero);
            total = total is null ? term : total.add(term, Runtime.ScalarMath.One);
        }
        total?.backward();
    }

    /// <summary>Sums <paramref name="value"/> over the ranks.</summary>
    internal double Sum(double value)
    {
        Span<double> values = [value];
        _group.SumInPlace(values);
        return values[0];
    }

    /// <summary>Labels, predictions and slice membership of all shards, in rank order.</summary>
    internal (int[] Labels, int[] Predictions, SliceMatrix Slices) GatherValidation(int[] labels, int[] predictions, SliceMatrix slices)
    {
        var allLabels = _group.GatherAll(labels);
        var allPredictions = _group.GatherAll(predictions);
        return (allLabels, allPredictions, GatherSlices(slices));
    }

    /// <summary>The union of every rank's slice matrix, rows in rank order.</summary>
    internal SliceMatrix GatherSlices(SliceMatrix local)
    {
        var bits = new int[local.RowCount * local.ColumnCount];
        for (int r = 0; r < local.RowCount; r++)
            for (int c = 0; c < local.ColumnCount; c++)
                bits[r * local.ColumnCount + c] = local[r, c] ? 1 : 0;
        var all = _group.GatherAll(bits);
        int rows = all.Length / local.ColumnCount;
        var membership = new bool[rows, local.ColumnCount];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < local.ColumnCount; c++)
                membership[r, c] = all[r * local.ColumnCount + c] != 0;
        return SliceMatrix.FromRows(local.SliceNames, membership);
    }

    private void Bucketed(Tensor[] tensors, bool read, SpanAction collective, bool write)
    {
        long total = tensors.Sum(t => t.numel());
        int size = (int)Math.Min(total, BucketFloats);
        if (_bucket.Length < size) _bucket = new float[size];
        int filled = 0;
        var pending = new List<(Tensor Tensor, long Offset, int Count, int BucketOffset)>();

        void Flush()
        {
            if (filled == 0) return;
            collective(_bucket.AsSpan(0, filled));
            if (write)
            {
                foreach (var (t, offset, count, at) in pending)
                    CopyInto(t, offset, _bucket.AsSpan(at, count));
            }
            pending.Clear();
            filled = 0;
        }

        foreach (var t in tensors)
        {
            long n = t.numel();
            long offset = 0;
            while (offset < n)
            {
                int count = (int)Math.Min(n - offset, size - filled);
                if (read) CopyOut(t, offset, _bucket.AsSpan(filled, count));
                pending.Add((t, offset, count, filled));
                filled += count;
                offset += count;
                if (filled == size) Flush();
            }
        }
        Flush();
    }

    private delegate void SpanAction(Span<float> values);

    private static void CopyOut(Tensor t, long offset, Span<float> destination)
    {
        var source = MemoryMarshal.Cast<byte, float>(Contiguous(t).bytes);
        source.Slice((int)offset, destination.Length).CopyTo(destination);
    }

    private static void CopyInto(Tensor t, long offset, ReadOnlySpan<float> source)
    {
        // Tensor.bytes is a view of a CPU tensor's storage: writing it writes the tensor.
        var target = MemoryMarshal.Cast<byte, float>(Contiguous(t).bytes);
        source.CopyTo(target.Slice((int)offset, source.Length));
    }

    private static Tensor Contiguous(Tensor t)
    {
        if (!t.is_contiguous() || t.device_type != DeviceType.CPU)
            throw new NotSupportedException("Data-parallel training copies contiguous CPU tensors; move the model to the CPU.");
        return t;
    }
}
