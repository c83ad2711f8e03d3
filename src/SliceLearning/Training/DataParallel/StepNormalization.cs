using TorchSharp;

namespace SliceLearning.Training.DataParallel;

/// <summary>
/// The counts a data-parallel step's loss is normalised by: rows and (example, slice) member pairs
/// over all ranks. A model whose loss terms are means over batch-dependent counts (SRAM's slice-head
/// term averages over member pairs) reads them here, so the sum of the ranks' losses is exactly the
/// loss of the whole step, not a row-weighted mix of per-rank means.
/// </summary>
internal static class StepNormalization
{
    [ThreadStatic]
    private static StepCounts? _current;

    /// <param name="Rows">Rows all ranks take in the step.</param>
    /// <param name="MemberPairs">(row, slice) memberships in the step, base slice included.</param>
    /// <param name="SliceMembers">Members of each slice (base first) in the step.</param>
    internal readonly record struct StepCounts(long Rows, long MemberPairs, long[] SliceMembers);

    /// <summary>Sets the step's global counts on this thread until the returned scope ends.</summary>
    internal static Scope Use(StepCounts counts)
    {
        var previous = _current;
        _current = counts;
        return new Scope(previous);
    }

    /// <summary>The step's counts over all ranks, or null outside data-parallel training.</summary>
    internal static StepCounts? Current => _current;

    /// <summary>The step's rows over all ranks, or <paramref name="local"/> outside data-parallel training.</summary>
    internal static long Rows(long local) => _current?.Rows ?? local;

    /// <summary>The step's member pairs over all ranks, or <paramref name="local"/> outside data-parallel training.</summary>
    internal static long MemberPairs(long local) => _current?.MemberPairs ?? local;

    /// <summary>Each slice's members in the step over all ranks [m], or <paramref name="local"/> outside data-parallel training.</summary>
    internal static torch.Tensor SliceMembers(torch.Tensor local) =>
        _current is { } counts ? torch.tensor(Array.ConvertAll(counts.SliceMembers, c => (float)c), dtype: local.dtype, device: local.device) : local;

    internal readonly struct Scope(StepCounts? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}

/// <summary>Marks a model whose loss normalises by <see cref="StepNormalization"/>'s counts.</summary>
internal interface IStepNormalizedLoss;
