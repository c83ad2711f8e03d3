using SliceLearning.Evaluation;
using SliceLearning.Slicing;

namespace SliceLearning.Training.DataParallel;

/// <summary>
/// Exact evaluation over data sharded across ranks: every rank slices and predicts its own shard,
/// and these methods gather the rows (not per-rank averages) so the result equals the
/// single-process one. Collective: every rank must call them in the same order.
/// </summary>
public static class DataParallelEvaluation
{
    /// <summary>The slice matrix of all shards, rows in rank order, on every rank.</summary>
    public static SliceMatrix GatherSlices(this IDataParallelCoordinator coordinator, SliceMatrix local)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(local);
        return coordinator.WorldSize == 1 ? local : new DataParallelSteps(coordinator).GatherSlices(local);
    }

    /// <summary>
    /// The per-slice report over all shards, on every rank: the same numbers (bootstrap CIs
    /// included, for a fixed <see cref="SliceReportOptions.Seed"/>) as
    /// <see cref="SliceReport.Create"/> on the concatenated data.
    /// </summary>
    public static SliceReport CreateReport(this IDataParallelCoordinator coordinator, SliceMatrix localSlices, int[] localLabels,
        int[] localPredictions, int numClasses, SliceReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(localSlices);
        ArgumentNullException.ThrowIfNull(localLabels);
        ArgumentNullException.ThrowIfNull(localPredictions);
        if (localLabels.Length != localSlices.RowCount || localPredictions.Length != localSlices.RowCount)
            throw new ArgumentException(
                $"Rank {coordinator.Rank}: {localSlices.RowCount} slice rows, {localLabels.Length} labels and {localPredictions.Length} predictions; all three must match.");
        if (coordinator.WorldSize == 1) return SliceReport.Create(localSlices, localLabels, localPredictions, numClasses, options);
        var steps = new DataParallelSteps(coordinator);
        var (labels, predictions, slices) = steps.GatherValidation(localLabels, localPredictions, localSlices);
        return SliceReport.Create(slices, labels, predictions, numClasses, options);
    }
}
