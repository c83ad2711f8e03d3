using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

/// <summary>The code of docs/slicetuner.md (and the README), run with a synthetic "model".</summary>
public class ReadmeExampleTests
{
    // Stand-in for the user's training: slice i's validation loss is b_i * n_i^-a_i.
    private static readonly double[] A = [0.5, 0.3, 0.2];
    private static readonly double[] B = [4.0, 2.0, 1.0];

    private static double[] TrainAndEvaluate(IReadOnlyList<int> rowsPerSlice) =>
        rowsPerSlice.Select((n, i) => B[i] * Math.Pow(n, -A[i])).ToArray();

    [Fact]
    public async Task ReadmeExample_Runs()
    {
        // --- as in the README ---
        List<int>[] training = new[] { 100, 400, 400 }.Select(n => Enumerable.Range(0, n).ToList()).ToArray();   // per slice: the user's example ids
        var pools = new[] { Enumerable.Range(1000, 5000).ToArray(), Enumerable.Range(9000, 5000).ToArray(), Enumerable.Range(19000, 5000).ToArray() };

        var evaluator = SliceLossEvaluator.Create((sample, ct) =>
            TrainAndEvaluate(sample.Indices.Select(idx => idx.Length).ToArray()));   // train on training[i][idx], return per-slice losses
        var estimator = new CurveEstimator(evaluator, new CurveEstimationOptions { Points = 5, Repeats = 3, Seed = 42 });

        // One-shot: fit the curves once and solve.
        CurveEstimate estimate = estimator.Estimate(training.Select(t => t.Count).ToArray());
        var problem = new AcquisitionProblem(training.Select(t => t.Count).ToArray(), estimate.RequireCurves());
        AcquisitionPlan plan = AcquisitionPlanner.OneShot(problem, budget: 1000, lambda: 1);

        // Iterative (Moderate): re-estimate after each acquisition, limiting the imbalance-ratio change.
        var acquirer = new PoolDataAcquirer<int>(training, pools, seed: 42);
        var iterative = new IterativeAcquisition(estimator, acquirer, new IterativeOptions { Strategy = LimitStrategy.Moderate, Lambda = 1 });
        IterativeResult result = await iterative.RunAsync(training.Select(t => t.Count).ToArray(), budget: 1000);
        // --- end ---

        Assert.Equal(1000, plan.Cost);
        // Seeded (estimator and acquirer): the exact plans. Slice 0, the smallest with the steepest
        // curve, gets the most; the iterative run ends at the same totals in two iterations.
        Assert.Equal(new[] { 572, 325, 103 }, plan.Amounts);
        Assert.Equal(new[] { 672, 725, 503 }, result.FinalSizes);
        Assert.Equal(2, result.Iterations.Count);
        Assert.Equal(1000, result.Spent);
        Assert.Equal(new[] { 100, 400, 400 }.Select((s, i) => s + result.TotalAcquired[i]), result.FinalSizes);
        Assert.Equal(result.FinalSizes, training.Select(t => t.Count));
        Assert.Equal(IterativeStopReason.BudgetSpent, result.StopReason);
    }
}
