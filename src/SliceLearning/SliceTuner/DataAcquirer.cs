namespace SliceLearning.SliceTuner;

/// <summary>
/// Acquires new training examples per slice (crowdsourcing, a data lake search, a simulator, or a
/// pool in simulation). The iterative algorithm calls it and then re-estimates the curves, so the
/// implementation must make the new examples visible to the <see cref="ISliceLossEvaluator"/>
/// (appended after the existing examples of their slice).
/// </summary>
public interface IDataAcquirer
{
    /// <summary>Acquires up to <paramref name="amounts"/>[i] examples for slice i; returns how many were actually acquired per slice.</summary>
    ValueTask<IReadOnlyList<int>> AcquireAsync(IReadOnlyList<int> amounts, CancellationToken cancellationToken = default);
}

/// <summary>
/// Simulated acquisition from per-slice pools of held-back examples: each request moves examples,
/// in a seeded random order, from a slice's pool to the end of that slice's training list.
/// Returns fewer than requested when a pool runs out.
/// </summary>
/// <typeparam name="T">The example type (or an index into the user's data).</typeparam>
public sealed class PoolDataAcquirer<T> : IDataAcquirer
{
    private readonly IReadOnlyList<IList<T>> _training;
    private readonly T[][] _pools;
    private readonly int[] _taken;

    /// <summary>Creates the acquirer.</summary>
    /// <param name="training">Per slice, the training list new examples are appended to.</param>
    /// <param name="pools">Per slice, the examples that can be acquired.</param>
    /// <param name="seed">Seed of the order in which pool examples are handed out.</param>
    public PoolDataAcquirer(IReadOnlyList<IList<T>> training, IReadOnlyList<IReadOnlyList<T>> pools, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(pools);
        if (training.Count != pools.Count) throw new SliceDataException($"Got {pools.Count} pools for {training.Count} slices.", nameof(pools));
        _training = training;
        _pools = new T[pools.Count][];
        for (int i = 0; i < pools.Count; i++)
        {
            _pools[i] = (pools[i] ?? throw new SliceDataException($"The pool of slice #{i} is null.", nameof(pools), sliceName: $"#{i}")).ToArray();
            new Random(SeedMixer.Mix(seed, i)).Shuffle(_pools[i]);
        }
        _taken = new int[pools.Count];
    }

    /// <summary>Examples still in slice <paramref name="slice"/>'s pool.</summary>
    public int Remaining(int slice) => _pools[slice].Length - _taken[slice];

    /// <summary>Examples handed out so far, per slice.</summary>
    public IReadOnlyList<int> Acquired => _taken;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<int>> AcquireAsync(IReadOnlyList<int> amounts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(amounts);
        if (amounts.Count != _pools.Length) throw new SliceDataException($"Got {amounts.Count} amounts for {_pools.Length} slices.", nameof(amounts));
        cancellationToken.ThrowIfCancellationRequested();
        var result = new int[amounts.Count];
        for (int i = 0; i < amounts.Count; i++)
        {
            if (amounts[i] < 0) throw new SliceDataException($"Slice #{i}: cannot acquire {amounts[i]} examples.", nameof(amounts), sliceName: $"#{i}");
            int n = Math.Min(amounts[i], Remaining(i));
            for (int k = 0; k < n; k++) _training[i].Add(_pools[i][_taken[i] + k]);
            _taken[i] += n;
            result[i] = n;
        }
        return ValueTask.FromResult<IReadOnlyList<int>>(result);
    }
}
