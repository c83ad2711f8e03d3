using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

public class CurveEstimatorTests
{
    /// <summary>
    /// A synthetic "model": slice i's loss is b_i * n_i^(-a_i) for n_i examples of slice i (plus
    /// optional seeded noise), with no influence between slices. Records every sample.
    /// </summary>
    private sealed class PowerLawEvaluator(double[] a, double[] b, double noise = 0) : ISliceLossEvaluator
    {
        public List<SliceSample> Samples { get; } = new();

        public IReadOnlyList<double> TrainAndEvaluate(SliceSample sample, CancellationToken cancellationToken)
        {
            Samples.Add(sample);
            var rng = new Random(sample.Seed);
            return sample.Indices.Select((idx, i) => b[i] * Math.Pow(idx.Length, -a[i]) * (1 + noise * (rng.NextDouble() - 0.5))).ToArray();
        }
    }

    private static readonly double[] A10 = Enumerable.Range(0, 10).Select(i => 0.1 + 0.05 * i).ToArray();
    private static readonly double[] B10 = Enumerable.Range(0, 10).Select(i => 0.5 + 0.3 * i).ToArray();
    private static readonly int[] Sizes10 = Enumerable.Range(0, 10).Select(i => 100 + 40 * i).ToArray();

    [Theory]
    [InlineData(EstimationMethod.Amortized, 50)]
    [InlineData(EstimationMethod.Exhaustive, 500)]
    public void Estimate_ExactPowerLaws_RecoversCurvesAndCountsTrainings(EstimationMethod method, int trainings)
    {
        var evaluator = new PowerLawEvaluator(A10, B10);
        var estimator = new CurveEstimator(evaluator, new CurveEstimationOptions { Method = method, Points = 10, Repeats = 5, Seed = 3 });

        var estimate = estimator.Estimate(Sizes10);

        Assert.Equal(trainings, estimate.Trainings);
        Assert.Equal(trainings, evaluator.Samples.Count);
        Assert.Equal(trainings, CurveEstimator.TrainingCount(method, 10, 10, 5));
        Assert.True(estimate.AllUsable);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(A10[i], estimate.Fits[i].Curve!.A, 1e-6);
            Assert.Equal(B10[i], estimate.Fits[i].Curve!.B, 1e-5);
        }
    }

    [Fact]
    public void Amortized_NeedsTenTimesFewerTrainingsThanExhaustive_ForTenSlices()
    {
        int amortized = CurveEstimator.TrainingCount(EstimationMethod.Amortized, 10, 10, 5);
        int exhaustive = CurveEstimator.TrainingCount(EstimationMethod.Exhaustive, 10, 10, 5);
        Assert.Equal(50, amortized);
        Assert.Equal(500, exhaustive);
        Assert.True(exhaustive >= 10 * amortized);
        // With more slices the saving grows: exhaustive is slices times amortized.
        Assert.Equal(20 * CurveEstimator.TrainingCount(EstimationMethod.Amortized, 20, 8, 3), CurveEstimator.TrainingCount(EstimationMethod.Exhaustive, 20, 8, 3));
    }

    [Fact]
    public void Amortized_SubsetsAreNestedValidAndSeeded()
    {
        var evaluator = new PowerLawEvaluator([0.5, 0.5], [1, 1]);
        var options = new CurveEstimationOptions { Points = 4, Repeats = 2, MinFraction = 0.25, Seed = 11 };
        new CurveEstimator(evaluator, options).Estimate(new[] { 40, 8 });

        Assert.Equal(8, evaluator.Samples.Count);
        // Fractions 0.25, 0.5, 0.75, 1: slice 0 gets 10, 20, 30, 40; slice 1 gets 2, 4, 6, 8.
        Assert.Equal(new[] { 10, 20, 30, 40, 10, 20, 30, 40 }, evaluator.Samples.Select(s => s.Indices[0].Length));
        Assert.Equal(new[] { 2, 4, 6, 8, 2, 4, 6, 8 }, evaluator.Samples.Select(s => s.Indices[1].Length));
        foreach (var repeat in evaluator.Samples.GroupBy(s => s.Repeat))
        {
            var list = repeat.OrderBy(s => s.Point).ToArray();
            for (int k = 1; k < list.Length; k++)
                Assert.Equal(list[k - 1].Indices[0], list[k].Indices[0][..list[k - 1].Indices[0].Length]);   // nested prefixes
            Assert.Equal(Enumerable.Range(0, 40), list[^1].Indices[0].Order());                            // a permutation
        }
        // The same seed gives the same subsets.
        var again = new PowerLawEvaluator([0.5, 0.5], [1, 1]);
        new CurveEstimator(again, options).Estimate(new[] { 40, 8 });
        Assert.Equal(evaluator.Samples.Select(s => string.Join(",", s.Indices[0])), again.Samples.Select(s => string.Join(",", s.Indices[0])));
        Assert.Equal(evaluator.Samples.Select(s => s.Seed), again.Samples.Select(s => s.Seed));
    }

    [Fact]
    public void Exhaustive_VariesOneSliceAndKeepsTheOthersWhole()
    {
        var evaluator = new PowerLawEvaluator([0.5, 0.5, 0.5], [1, 1, 1]);
        new CurveEstimator(evaluator, new CurveEstimationOptions { Method = EstimationMethod.Exhaustive, Points = 3, Repeats = 1, MinFraction = 0.5 })
            .Estimate(new[] { 20, 30, 40 });
        Assert.Equal(9, evaluator.Samples.Count);
        foreach (var s in evaluator.Samples)
        {
            int j = s.TargetSlice!.Value;
            for (int i = 0; i < 3; i++)
            {
                if (i != j) Assert.Equal(new[] { 20, 30, 40 }[i], s.Indices[i].Length);
            }
        }
        Assert.Equal(new[] { 10, 15, 20 }, evaluator.Samples.Where(s => s.TargetSlice == 0).Select(s => s.Indices[0].Length));
    }

    [Fact]
    public void Estimate_NoisyLosses_AveragesRepeatsAndStaysClose()
    {
        var evaluator = new PowerLawEvaluator([0.4, 0.2], [2, 1], noise: 0.1);
        var estimate = new CurveEstimator(evaluator, new CurveEstimationOptions { Points = 8, Repeats = 5, Seed = 5 }).Estimate(new[] { 500, 500 });
        Assert.True(estimate.AllUsable);
        // Seeded: the exact fits of this run, within 0.01 of the true exponents (0.4, 0.2) and 3% of b (2, 1).
        Assert.Equal(0.39831018649216476, estimate.Fits[0].Curve!.A, 12);
        Assert.Equal(1.9788187675371622, estimate.Fits[0].Curve!.B, 12);
        Assert.Equal(0.19350954605935167, estimate.Fits[1].Curve!.A, 12);
        Assert.Equal(0.9686160843992839, estimate.Fits[1].Curve!.B, 12);
        Assert.Equal(0.9962023773452411, estimate.Fits[0].RSquared, 12);
        Assert.Equal(0.990774010885379, estimate.Fits[1].RSquared, 12);
    }

    [Fact]
    public void Estimate_ReportsProgressAndHonoursCancellation()
    {
        var reports = new List<EstimationProgress>();
        var progress = new SynchronousProgress<EstimationProgress>(reports.Add);
        new CurveEstimator(new PowerLawEvaluator([0.5], [1]), new CurveEstimationOptions { Points = 3, Repeats = 2 }).Estimate(new[] { 30 }, progress);
        Assert.Equal(Enumerable.Range(0, 7), reports.Select(r => r.CompletedTrainings));
        Assert.All(reports, r => Assert.Equal(6, r.TotalTrainings));

        using var cts = new CancellationTokenSource();
        var evaluator = SliceLossEvaluator.Create((sample, ct) => { cts.Cancel(); return new[] { 1.0 / sample.Indices[0].Length }; });
        Assert.Throws<OperationCanceledException>(() => new CurveEstimator(evaluator).Estimate(new[] { 30 }, null, cts.Token));
    }

    [Fact]
    public void Estimate_WrongLossCount_IsContractViolation()
    {
        var evaluator = SliceLossEvaluator.Create((_, _) => new[] { 1.0 });
        var ex = Assert.Throws<ContractViolationException>(() => new CurveEstimator(evaluator).Estimate(new[] { 30, 30 }));
        Assert.Contains("returned 1 losses for 2 slices", ex.Message);
    }

    [Fact]
    public void Estimate_TinySlice_IsReportedNotFitted()
    {
        // A slice of 2 examples has at most 2 distinct subset sizes: too few points.
        var estimate = new CurveEstimator(new PowerLawEvaluator([0.5, 0.5], [1, 1])).Estimate(new[] { 100, 2 });
        Assert.True(estimate.Fits[0].IsUsable);
        Assert.Equal(CurveFitStatus.TooFewPoints, estimate.Fits[1].Status);
        var ex = Assert.Throws<InvalidOperationException>(() => estimate.RequireCurves());
        Assert.Contains("slice #1: TooFewPoints", ex.Message);
    }

    [Fact]
    public void Options_Invalid_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CurveEstimationOptions { Points = 1, Repeats = 0, MinFraction = 0 }.Validate());
        Assert.Contains("Points must be at least 2. Got 1.", ex.Message);
        Assert.Contains("Repeats must be at least 1. Got 0.", ex.Message);
        Assert.Contains("MinFraction must be in (0, 1]. Got 0.", ex.Message);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
