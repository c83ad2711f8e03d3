using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

public class AcquisitionPlannerTests
{
    private static AcquisitionProblem Problem(int[] sizes, double[] a, double[] b, double[]? costs = null) =>
        new(sizes, a.Select((ai, i) => new LearningCurve(ai, b[i])).ToArray(), costs);

    [Fact]
    public void OneShot_ReferenceTwoSlices_MatchesContinuousAndIntegerOptimum()
    {
        var problem = Problem([100, 100], [0.5, 0.5], [1, 4], [1, 1]);

        var plan = AcquisitionPlanner.OneShot(problem, budget: 300, lambda: 0);

        Assert.NotNull(plan.Continuous);
        Assert.Equal(42.051827, plan.Continuous![0], 1e-5);
        Assert.Equal(257.948173, plan.Continuous[1], 1e-5);
        Assert.Equal(0.295324699011, plan.ContinuousObjective, 1e-8);
        Assert.Equal(new[] { 42, 258 }, plan.Amounts);
        Assert.Equal(300, plan.Cost);
        // KKT: both marginal gains equal the multiplier, 0.5 * b * (s + d)^-1.5.
        Assert.Equal(0.5 * Math.Pow(142.051827, -1.5), plan.Multiplier, 1e-9);
    }

    [Fact]
    public void OneShot_ReferenceLargeSliceGetsNothing()
    {
        var problem = Problem([1000, 100], [0.5, 0.5], [1, 1]);

        var plan = AcquisitionPlanner.OneShot(problem, budget: 200, lambda: 0);

        Assert.Equal(0, plan.Continuous![0], 1e-5);
        Assert.Equal(200, plan.Continuous[1], 1e-5);
        Assert.Equal(0.089357803521, plan.ContinuousObjective, 1e-8);
        Assert.Equal(new[] { 0, 200 }, plan.Amounts);
    }

    [Fact]
    public void OneShot_WithUnfairnessTerm_MatchesBruteForce()
    {
        // Slice 1 is above the average loss A, so lambda > 0 pushes more data to it than lambda = 0.
        var problem = Problem([50, 200, 100], [0.3, 0.6, 0.4], [1.2, 2.0, 0.9]);
        const int budget = 120;
        foreach (double lambda in new[] { 0.0, 1.0, 10.0 })
        {
            var plan = AcquisitionPlanner.OneShot(problem, budget, lambda);
            var (best, bestValue) = BruteForce(problem, budget, lambda);
            Assert.Equal(bestValue, plan.Objective, 1e-12);
            Assert.Equal(best, plan.Amounts);
            Assert.True(plan.ContinuousObjective <= plan.Objective + 1e-12);
        }
        var fair = AcquisitionPlanner.OneShot(problem, budget, 10);
        var plain = AcquisitionPlanner.OneShot(problem, budget, 0);
        Assert.True(fair.Amounts[0] > plain.Amounts[0], $"lambda 10: {fair}, lambda 0: {plain}");
    }

    [Fact]
    public void OneShot_UnequalCosts_NeverOverspendsAndIsNearBruteForce()
    {
        var problem = Problem([30, 60, 90], [0.4, 0.5, 0.3], [1, 2, 1.5], [1.0, 2.5, 0.7]);
        const double budget = 77.3;
        var plan = AcquisitionPlanner.OneShot(problem, budget, 1);
        Assert.True(plan.Cost <= budget);
        double best = double.PositiveInfinity;
        for (int x = 0; x <= 77; x++)
            for (int y = 0; y * 2.5 + x <= budget; y++)
            {
                int z = (int)Math.Floor((budget - x - 2.5 * y) / 0.7 + 1e-12);
                while (x + 2.5 * y + 0.7 * z > budget) z--;
                best = Math.Min(best, problem.Objective(new[] { x, y, z }, 1));
            }
        // Near-optimal: at least 99% of the best achievable improvement over acquiring nothing.
        double none = problem.Objective(new[] { 0, 0, 0 }, 1);
        Assert.True(none - plan.Objective >= 0.99 * (none - best), $"plan {plan.Objective}, best {best}, none {none}");
        Assert.True(plan.ContinuousObjective <= best + 1e-12);
    }

    [Fact]
    public void OneShot_FlatCurves_AcquireNothing()
    {
        var problem = Problem([10, 10], [0, 0], [1, 2]);
        var plan = AcquisitionPlanner.OneShot(problem, 100, 1);
        Assert.Equal(new[] { 0, 0 }, plan.Amounts);
        Assert.Equal(0, plan.Cost);
    }

    [Fact]
    public void OneShot_ZeroBudget_AcquiresNothing()
    {
        var plan = AcquisitionPlanner.OneShot(Problem([10, 20], [0.5, 0.5], [1, 1]), 0, 1);
        Assert.Equal(new[] { 0, 0 }, plan.Amounts);
    }

    [Fact]
    public void OneShot_ManySlices_SpendsBudgetAndSatisfiesKkt()
    {
        var rng = new Random(7);
        int n = 2000;
        var problem = Problem(
            Enumerable.Range(0, n).Select(_ => rng.Next(10, 500)).ToArray(),
            Enumerable.Range(0, n).Select(_ => 0.1 + 0.8 * rng.NextDouble()).ToArray(),
            Enumerable.Range(0, n).Select(_ => 0.5 + 3 * rng.NextDouble()).ToArray());
        var plan = AcquisitionPlanner.OneShot(problem, 50_000, 1);
        Assert.Equal(50_000, plan.Amounts.Sum());
        Assert.Equal(50_000, plan.Continuous!.Sum(), 1e-6);
        // Integer optimality for equal costs: no single exchange improves the objective.
        double A = problem.AverageLoss;
        double F(int i, int x) => problem.SliceObjective(i, problem.Sizes[i] + x, 1, A);
        double bestNext = Enumerable.Range(0, n).Max(i => F(i, plan.Amounts[i]) - F(i, plan.Amounts[i] + 1));
        double worstLast = Enumerable.Range(0, n).Where(i => plan.Amounts[i] > 0).Min(i => F(i, plan.Amounts[i] - 1) - F(i, plan.Amounts[i]));
        Assert.True(bestNext <= worstLast * (1 + 1e-12), $"next {bestNext} > last {worstLast}");
    }

    [Fact]
    public void Problem_InvalidInput_NamesTheSlice()
    {
        var ex = Assert.Throws<SliceDataException>(() => Problem([10, 0], [0.5, 0.5], [1, 1]));
        Assert.Contains("Slice #1 has size 0", ex.Message);
        var ex2 = Assert.Throws<SliceDataException>(() => Problem([10, 10], [0.5, 0.5], [1, 1], [1, -2]));
        Assert.Contains("Slice #1 has cost -2", ex2.Message);
        var ex3 = Assert.Throws<SliceDataException>(() => Problem([10, 10], [-0.5, 0.5], [1, 1]));
        Assert.Contains("slice #0 has exponent a = -0.5", ex3.Message);
    }

    internal static (int[] Best, double Value) BruteForce(AcquisitionProblem problem, int budget, double lambda)
    {
        int n = problem.Count;
        int[] best = new int[n];
        double bestValue = double.PositiveInfinity;
        var x = new int[n];
        void Recurse(int i, int left)
        {
            if (i == n - 1)
            {
                x[i] = left;   // objective decreases in every amount: spending everything is optimal
                double v = problem.Objective(x, lambda);
                if (v < bestValue - 1e-15) { bestValue = v; best = x.ToArray(); }
                return;
            }
            for (int k = 0; k <= left; k++) { x[i] = k; Recurse(i + 1, left - k); }
        }
        Recurse(0, budget);
        return (best, bestValue);
    }
}
