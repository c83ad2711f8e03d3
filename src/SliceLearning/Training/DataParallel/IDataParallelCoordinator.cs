namespace SliceLearning.Training.DataParallel;

/// <summary>
/// The collective operations that data-parallel training needs from a process group (one process
/// per rank, each holding a shard of the data). <c>SliceLearning.Distributed</c> implements it on MPI;
/// the core library stays free of any engine.
/// </summary>
/// <remarks>
/// Every member is collective: all ranks must call it in the same order with buffers of the same
/// length, or the group hangs. Implementations must return bit-identical results on every rank
/// (e.g. reduce to one rank, then broadcast), because the ranks keep identical model replicas by
/// applying identical updates.
/// </remarks>
public interface IDataParallelCoordinator
{
    /// <summary>This process's rank, in [0, <see cref="WorldSize"/>).</summary>
    int Rank { get; }

    /// <summary>Number of ranks in the group.</summary>
    int WorldSize { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank with the values of rank <paramref name="root"/>.</summary>
    void Broadcast(Span<float> values, int root);

    /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over all ranks.</summary>
    void SumInPlace(Span<float> values);

    /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over all ranks.</summary>
    void SumInPlace(Span<double> values);

    /// <summary>Concatenates every rank's <paramref name="local"/> values in rank order (lengths may differ).</summary>
    int[] GatherAll(ReadOnlySpan<int> local);

    /// <summary>
    /// Stops every rank because this one failed: reports the rank and <paramref name="error"/> and
    /// ends the group. Never returns normally; must not hang when other ranks are inside a collective.
    /// </summary>
    void Fail(Exception error);
}
