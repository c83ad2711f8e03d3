using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

/// <summary>FsCheck properties of the one-shot solver over random problems.</summary>
public class AcquisitionPropertyTests
{
    public sealed record Case(int[] Sizes, double[] A, double[] B, double[] Costs, int Budget, double Lambda)
    {
        public AcquisitionProblem Problem(double costScale = 1) =>
            new(Sizes, A.Select((a, i) => new LearningCurve(a, B[i])).ToArray(), Costs.Select(c => c * costScale).ToArray());

        public override string ToString() =>
            $"sizes [{string.Join(", ", Sizes)}], a [{string.Join(", ", A)}], b [{string.Join(", ", B)}], costs [{string.Join(", ", Costs)}], budget {Budget}, lambda {Lambda}";
    }

    private static Gen<Case> CaseGen(bool equalCosts, int maxSlices = 6, int maxBudget = 400) =>
        from n in Gen.Choose(1, maxSlices)
        from sizes in Gen.ArrayOf(Gen.Choose(1, 300), n)
        from a in Gen.ArrayOf(Gen.Choose(0, 100).Select(v => v / 100.0), n)
        from b in Gen.ArrayOf(Gen.Choose(1, 400).Select(v => v / 100.0), n)
        from costs in Gen.ArrayOf(Gen.Choose(1, 8).Select(v => equalCosts ? 1.0 : v / 2.0), n)
        from budget in Gen.Choose(0, maxBudget)
        from lambda in Gen.Elements(0.0, 0.1, 1.0, 10.0)
        select new Case(sizes, a, b, costs, budget, lambda);

    [Property(MaxTest = 200)]
    public Property NeverOverspendsAndNeverNegative() =>
        Prop.ForAll(CaseGen(equalCosts: false).ToArbitrary(), c =>
        {
            var plan = AcquisitionPlanner.OneShot(c.Problem(), c.Budget, c.Lambda);
            return plan.Cost <= c.Budget && plan.Amounts.All(x => x >= 0) && plan.Continuous!.All(d => d >= 0)
                && Math.Abs(plan.Cost - plan.Amounts.Select((x, i) => x * c.Costs[i]).Sum()) < 1e-9;
        });

    [Property(MaxTest = 200)]
    public Property ObjectiveNoWorseThanRandomFeasibleAllocation() =>
        Prop.ForAll(CaseGen(equalCosts: false).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (c, seed) =>
        {
            var problem = c.Problem();
            var plan = AcquisitionPlanner.OneShot(problem, c.Budget, c.Lambda);
            // A random continuous allocation that spends exactly the budget.
            var rng = new Random(seed);
            var w = c.Sizes.Select(_ => rng.NextDouble()).ToArray();
            double norm = w.Select((v, i) => v * c.Costs[i]).Sum();
            var random = w.Select(v => norm > 0 ? v * c.Budget / norm : 0).ToArray();
            var randomInt = random.Select(v => (int)Math.Floor(v)).ToArray();
            double tolerance = 1e-9 * Math.Max(1, Math.Abs(plan.ContinuousObjective));
            bool continuousOk = plan.ContinuousObjective <= problem.Objective(random, c.Lambda) + tolerance;
            bool integerOk = !problem.EqualCosts || plan.Objective <= problem.Objective(randomInt, c.Lambda) + tolerance;
            return continuousOk && integerOk;
        });

    [Property(MaxTest = 100)]
    public Property EqualCostsIntegerPlanIsExact() =>
        Prop.ForAll(CaseGen(equalCosts: true, maxSlices: 3, maxBudget: 40).ToArbitrary(), c =>
        {
            var problem = c.Problem();
            var plan = AcquisitionPlanner.OneShot(problem, c.Budget, c.Lambda);
            bool anyGain = c.A.Zip(c.B).Any(t => t.First > 0 && t.Second > 0);
            var (_, best) = AcquisitionPlannerTests.BruteForce(problem, c.Budget, c.Lambda);
            return plan.Objective <= best + 1e-12 * Math.Max(1, best) && (!anyGain || plan.Amounts.Sum() == c.Budget);
        });

    [Property(MaxTest = 150)]
    public Property MonotoneInBudget() =>
        Prop.ForAll(CaseGen(equalCosts: false).ToArbitrary(), Gen.Choose(1, 200).ToArbitrary(), (c, extra) =>
        {
            var problem = c.Problem();
            var small = AcquisitionPlanner.OneShot(problem, c.Budget, c.Lambda);
            var large = AcquisitionPlanner.OneShot(problem, c.Budget + extra, c.Lambda);
            double tolerance = 1e-9 * Math.Max(1, small.ContinuousObjective);
            bool continuous = large.ContinuousObjective <= small.ContinuousObjective + tolerance
                && large.Continuous!.Zip(small.Continuous!).All(t => t.First >= t.Second - 1e-6 * Math.Max(1, t.Second));
            bool integer = !problem.EqualCosts || large.Objective <= small.Objective + tolerance;
            return continuous && integer;
        });

    [Property(MaxTest = 150)]
    public Property ScalesWithCosts() =>
        Prop.ForAll(CaseGen(equalCosts: false).ToArbitrary(), Gen.Elements(0.5, 2.0, 3.0, 10.0).ToArbitrary(), (c, k) =>
        {
            // Multiplying every cost and the budget by k leaves the continuous optimum unchanged,
            // and multiplying only the costs by k is the same as dividing the budget by k.
            var baseline = AcquisitionPlanner.OneShot(c.Problem(), c.Budget, c.Lambda);
            var scaled = AcquisitionPlanner.OneShot(c.Problem(k), c.Budget * k, c.Lambda);
            var dearer = AcquisitionPlanner.OneShot(c.Problem(k), c.Budget, c.Lambda);
            var smaller = AcquisitionPlanner.OneShot(c.Problem(), c.Budget / k, c.Lambda);
            bool Same(IReadOnlyList<double> x, IReadOnlyList<double> y) => x.Zip(y).All(t => Math.Abs(t.First - t.Second) <= 1e-6 * Math.Max(1, Math.Abs(t.First)));
            return Same(baseline.Continuous!, scaled.Continuous!) && Same(dearer.Continuous!, smaller.Continuous!)
                && Math.Abs(baseline.ContinuousObjective - scaled.ContinuousObjective) <= 1e-9 * Math.Max(1, baseline.ContinuousObjective);
        });
}
