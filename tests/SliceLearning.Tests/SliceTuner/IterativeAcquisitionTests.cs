using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

public class IterativeAcquisitionTests
{
    /// <summary>Returns the same curves at any sizes (independent slices), counting calls.</summary>
    private sealed class FixedCurves(params LearningCurve[] curves) : ICurveProvider
    {
        public List<int[]> Calls { get; } = new();

        public CurveEstimate Estimate(IReadOnlyList<int> sliceSizes, IProgress<EstimationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            Calls.Add(sliceSizes.ToArray());
            var fits = curves.Select(c => LearningCurveFitter.Fit(
                new[] { 10.0, 20, 40, 80 }.Select(n => new CurvePoint(n, c.A > 0 ? c.Loss(n) : c.B)).ToArray())).ToArray();
            return new CurveEstimate(sliceSizes.ToArray(), fits, 0, TimeSpan.Zero, EstimationMethod.Amortized);
        }
    }

    /// <summary>An acquirer with unlimited supply that records requests.</summary>
    private sealed class RecordingAcquirer(int[]? caps = null) : IDataAcquirer
    {
        public List<int[]> Requests { get; } = new();
        private readonly int[]? _left = caps?.ToArray();

        public ValueTask<IReadOnlyList<int>> AcquireAsync(IReadOnlyList<int> amounts, CancellationToken cancellationToken = default)
        {
            Requests.Add(amounts.ToArray());
            var got = amounts.Select((a, i) => _left is null ? a : Math.Min(a, _left[i])).ToArray();
            if (_left is not null) for (int i = 0; i < got.Length; i++) _left[i] -= got[i];
            return ValueTask.FromResult<IReadOnlyList<int>>(got);
        }
    }

    [Fact]
    public void ChangeRatio_PaperExample_IsOneHalf()
    {
        // Sizes [10, 10], one-shot [10, 40]: IR would be 2.5; limit T = 1 gives target 2, x = 0.5.
        double x = ImbalanceRatio.ChangeRatio(new double[] { 10, 10 }, new double[] { 10, 40 }, 2);
        Assert.Equal(0.5, x, 15);
        Assert.Equal(2.5, ImbalanceRatio.Of(new[] { 20, 50 }));
    }

    [Fact]
    public void ChangeRatio_DecreasingRatio_IsExact()
    {
        // Sizes [10, 30, 20], amounts [60, 0, 10]: IR 3 at x = 0, 70 / 30 at x = 1. For x < 0.2 the
        // min is slice 0 and the max slice 1: 30 / (10 + 60x) = 2.5 gives x = 1/30.
        double x = ImbalanceRatio.ChangeRatio(new double[] { 10, 30, 20 }, new double[] { 60, 0, 10 }, 2.5);
        Assert.Equal(1.0 / 30, x, 14);
    }

    [Fact]
    public void ChangeRatio_WalksAcrossPieces_IsExact()
    {
        // Sizes [40, 10, 30, 12], amounts [0, 5, 90, 0]: IR 4 at x = 0, 120 / 12 = 10 at x = 1.
        // Near x = 1 the min is slice 3 (12); the root lies where the min is slice 1 (10 + 5x < 12)
        // and the max slice 2: (30 + 90x) = 4.2 (10 + 5x) gives x = 12/69. Newton from x = 1 takes
        // two exact steps (via x = 20.4/90 on the first piece).
        var sizes = new double[] { 40, 10, 30, 12 };
        var amounts = new double[] { 0, 5, 90, 0 };
        double x = ImbalanceRatio.ChangeRatio(sizes, amounts, 4.2);
        Assert.Equal(12.0 / 69, x, 14);
        Assert.Equal(4.2, ImbalanceRatio.Of(sizes.Select((s, i) => s + x * amounts[i]).ToArray()), 12);
    }

    [Fact]
    public void ChangeRatio_TargetOutsideRange_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ImbalanceRatio.ChangeRatio(new double[] { 10, 30, 20 }, new double[] { 60, 0, 10 }, 1.2));
        Assert.Equal("targetRatio", ex.ParamName);
    }

    [Fact]
    public async Task Run_PaperWorkedExample_FollowsAlgorithm2()
    {
        // Curves chosen so that one-shot at sizes [10, 10] with budget 50 gives [10, 40] as in the paper:
        // equal marginal gains 0.5 b_i (s_i + d_i)^-1.5 at 20 and 50 need b_2 / b_1 = 2.5^1.5.
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, Math.Pow(2.5, 1.5)));
        var acquirer = new RecordingAcquirer();
        var algorithm = new IterativeAcquisition(curves, acquirer, new IterativeOptions { MinSliceSize = 10, Lambda = 0, Strategy = LimitStrategy.Moderate });

        var result = await algorithm.RunAsync(new[] { 5, 10 }, budget: 55);

        Assert.Equal(new[] { 5, 0 }, result.TopUp);                       // top up slice 1 to L = 10
        Assert.Equal(2, result.Iterations.Count);
        var first = result.Iterations[0];
        Assert.Equal(new[] { 10, 10 }, first.SizesBefore);
        Assert.Equal(50, first.BudgetBefore);
        Assert.Equal(1, first.ImbalanceBefore);
        Assert.Equal(1, first.Limit);
        Assert.Equal(new[] { 10, 40 }, first.OneShot.Amounts);            // "suppose num_examples = [10, 40]"
        Assert.Equal(0.5, first.ChangeRatio, 12);                         // (10 + 40x) / (10 + 10x) = 2
        Assert.Equal(new[] { 5, 20 }, first.Acquired);
        Assert.Equal(2, first.ImbalanceAfter);
        var second = result.Iterations[1];
        Assert.Equal(new[] { 15, 30 }, second.SizesBefore);
        Assert.Equal(25, second.BudgetBefore);
        Assert.Equal(2, second.Limit);                                    // Moderate: T + 1
        Assert.Equal(new[] { 5, 20 }, second.OneShot.Amounts);
        Assert.Equal(1, second.ChangeRatio);                              // |2.5 - 2| <= 2
        Assert.Equal(new[] { 20, 50 }, result.FinalSizes);
        Assert.Equal(55, result.Spent);
        Assert.Equal(0, result.BudgetLeft);
        Assert.Equal(IterativeStopReason.BudgetSpent, result.StopReason);
        Assert.Equal(new[] { new[] { 5, 0 }, new[] { 5, 20 }, new[] { 5, 20 } }, acquirer.Requests);
        Assert.Equal(new[] { new[] { 10, 10 }, new[] { 15, 30 } }, curves.Calls);
    }

    [Theory]
    [InlineData(LimitStrategy.Conservative, 2, 2.0)]
    [InlineData(LimitStrategy.Moderate, 2, 3.0)]
    [InlineData(LimitStrategy.Aggressive, 2, 4.0)]
    public void Options_Increase_FollowsStrategy(LimitStrategy strategy, double limit, double expected)
    {
        Assert.Equal(expected, new IterativeOptions { Strategy = strategy }.Increase(limit));
    }

    [Fact]
    public async Task Run_TinyLimit_StillTerminatesWithProgress()
    {
        // With T = 1e-6 and Conservative, every scaled plan floors to zero; the loop must still
        // acquire one example per iteration and finish the budget.
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 8));
        var acquirer = new RecordingAcquirer();
        var algorithm = new IterativeAcquisition(curves, acquirer,
            new IterativeOptions { InitialLimit = 1e-6, Strategy = LimitStrategy.Conservative, Lambda = 0, MaxIterations = 1000 });

        var result = await algorithm.RunAsync(new[] { 20, 20 }, budget: 30);

        Assert.Equal(IterativeStopReason.BudgetSpent, result.StopReason);
        Assert.Equal(30, result.Iterations.Count);
        Assert.All(result.Iterations, r => Assert.Equal(1, r.Acquired.Sum()));
        Assert.Equal(30, result.Spent);
    }

    [Fact]
    public async Task Run_FlatCurves_StopsWithNoPredictedGain()
    {
        var curves = new FixedCurves(new LearningCurve(0, 0.4), new LearningCurve(0, 0.6));
        var algorithm = new IterativeAcquisition(curves, new RecordingAcquirer(), new IterativeOptions { UnusableCurves = UnusableCurvePolicy.AcquireNothing });
        var result = await algorithm.RunAsync(new[] { 20, 20 }, budget: 30);
        Assert.Equal(IterativeStopReason.NoPredictedGain, result.StopReason);
        Assert.Empty(result.Iterations);
        Assert.Equal(30, result.BudgetLeft);
    }

    [Fact]
    public async Task Run_UnusableCurveWithThrowPolicy_NamesTheSlice()
    {
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0, 0.6));
        var algorithm = new IterativeAcquisition(curves, new RecordingAcquirer());
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => algorithm.RunAsync(new[] { 20, 20 }, budget: 30));
        Assert.Contains("slice #1: NotDecreasing", ex.Message);
    }

    [Fact]
    public async Task Run_UnusableCurveWithAcquireNothing_GivesItNoData()
    {
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0, 0.6));
        var algorithm = new IterativeAcquisition(curves, new RecordingAcquirer(),
            new IterativeOptions { UnusableCurves = UnusableCurvePolicy.AcquireNothing, Strategy = LimitStrategy.Aggressive });
        var result = await algorithm.RunAsync(new[] { 20, 20 }, budget: 30);
        Assert.Equal(new[] { 30, 0 }, result.TotalAcquired);
        Assert.All(result.Iterations, r => Assert.Equal(new[] { 1 }, r.FallbackSlices));
        Assert.Equal(IterativeStopReason.BudgetSpent, result.StopReason);
    }

    [Fact]
    public void Curves_PooledExponent_AnchorsAtTheLastMeasuredLoss()
    {
        var fits = new[]
        {
            LearningCurveFitter.Fit(new[] { 10.0, 20, 40 }.Select(n => new CurvePoint(n, 2 * Math.Pow(n, -0.4))).ToArray()),
            LearningCurveFitter.Fit(new[] { 10.0, 20, 40 }.Select(n => new CurvePoint(n, Math.Pow(n, -0.2))).ToArray()),
            LearningCurveFitter.Fit(new[] { new CurvePoint(10, 0.5), new CurvePoint(20, 0.7), new CurvePoint(40, 0.8) }),   // rising
        };
        var estimate = new CurveEstimate(new[] { 40, 40, 40 }, fits, 0, TimeSpan.Zero, EstimationMethod.Amortized);

        var pooled = estimate.Curves(UnusableCurvePolicy.PooledExponent, out var replaced);
        Assert.Equal(new[] { 2 }, replaced);
        Assert.Equal(0.3, pooled[2].A, 1e-6);                    // mean of 0.4 and 0.2
        Assert.Equal(0.8, pooled[2].Loss(40), 1e-9);             // anchored at the loss measured at n = 40
        var flat = estimate.Curves(UnusableCurvePolicy.AcquireNothing, out _);
        Assert.Equal(0, flat[2].A);
        Assert.Equal(0.8, flat[2].B);
        Assert.Throws<InvalidOperationException>(() => estimate.Curves(UnusableCurvePolicy.Throw, out _));
    }

    [Fact]
    public async Task Run_ExhaustedPool_Stops()
    {
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 1));
        var algorithm = new IterativeAcquisition(curves, new RecordingAcquirer(caps: [3, 2]), new IterativeOptions { Lambda = 0 });
        var result = await algorithm.RunAsync(new[] { 10, 10 }, budget: 100);
        Assert.Equal(IterativeStopReason.AcquirerExhausted, result.StopReason);
        Assert.Equal(new[] { 13, 12 }, result.FinalSizes);
        Assert.Equal(5, result.Spent);
        Assert.Equal(95, result.BudgetLeft);
    }

    [Fact]
    public void TopUp_NotEnoughBudget_ScalesDownWithoutOverspending()
    {
        var amounts = IterativeAcquisition.TopUp(new[] { 0, 5, 20 }, 10, 9, new[] { 1.0, 1.0, 1.0 });
        Assert.Equal(new[] { 6, 3, 0 }, amounts);   // need [10, 5, 0] costs 15 > 9: scale 0.6
    }

    [Fact]
    public async Task Run_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var algorithm = new IterativeAcquisition(new FixedCurves(new LearningCurve(0.5, 1)), new RecordingAcquirer());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => algorithm.RunAsync(new[] { 10 }, 10, cancellationToken: cts.Token));
    }

    [Fact]
    public async Task Run_StopsAtMaxIterations_BeforeEstimatingAgain()
    {
        // The tiny-limit run above takes one example per iteration; capped at 4 iterations.
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 8));
        var acquirer = new RecordingAcquirer();
        var algorithm = new IterativeAcquisition(curves, acquirer,
            new IterativeOptions { InitialLimit = 1e-6, Strategy = LimitStrategy.Conservative, Lambda = 0, MaxIterations = 4 });
        var result = await algorithm.RunAsync(new[] { 20, 20 }, budget: 30);
        Assert.Equal(IterativeStopReason.MaxIterations, result.StopReason);
        Assert.Equal(4, result.Iterations.Count);
        Assert.Equal(4, curves.Calls.Count);
        Assert.Equal((4.0, 26.0), (result.Spent, result.BudgetLeft));
        Assert.Equal(44, result.FinalSizes.Sum());
    }

    [Fact]
    public async Task Run_StopsWithTopUpIncomplete_WhenASliceStaysEmpty()
    {
        // The budget buys 1 of the 20 examples needed: the scaled top-up floors to nothing.
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 1));
        var acquirer = new RecordingAcquirer();
        var poor = await new IterativeAcquisition(curves, acquirer, new IterativeOptions { MinSliceSize = 10 }).RunAsync(new[] { 0, 0 }, budget: 1);
        Assert.Equal(IterativeStopReason.TopUpIncomplete, poor.StopReason);
        Assert.Equal((0.0, 1.0), (poor.Spent, poor.BudgetLeft));
        Assert.Empty(acquirer.Requests);
        Assert.Empty(curves.Calls);
        // The pool of slice 0 is empty: the top-up asks for 5 and gets none.
        var dry = new RecordingAcquirer(caps: [0, 1000]);
        var empty = await new IterativeAcquisition(curves, dry, new IterativeOptions { MinSliceSize = 5 }).RunAsync(new[] { 0, 10 }, budget: 100);
        Assert.Equal(IterativeStopReason.TopUpIncomplete, empty.StopReason);
        Assert.Equal(new[] { new[] { 5, 0 } }, dry.Requests);
        Assert.Equal(new[] { 0, 0 }, empty.TopUp);
        Assert.Empty(empty.Iterations);
        Assert.Empty(curves.Calls);
        Assert.Equal(100, empty.BudgetLeft);
    }

    [Fact]
    public async Task Run_UnequalCosts_BuyWhereTheGainPerCostIsHighest_AndAreCharged()
    {
        // Identical curves 1 · n^-0.5, costs [1, 4], λ = 0: equal gain per cost needs
        // (s1 + d1)^-1.5 = (s2 + d2)^-1.5 / 4, i.e. s1 + d1 = 4^(2/3) (s2 + d2) ≈ 2.52 (s2 + d2).
        // From [10, 10] with 15 to spend, slice 1 stays below 25.2, so every unit goes to slice 0:
        // first iteration one-shot [15, 0], limited to IR 2 ([10, 0]), then [5, 0] within T = 2.
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 1));
        var acquirer = new RecordingAcquirer();
        var result = await new IterativeAcquisition(curves, acquirer, new IterativeOptions { Lambda = 0 }).RunAsync(new[] { 10, 10 }, budget: 15, costs: [1, 4]);
        Assert.Equal(new[] { 15, 0 }, result.Iterations[0].OneShot.Amounts);
        Assert.Equal(new[] { new[] { 10, 0 }, new[] { 5, 0 } }, acquirer.Requests);
        Assert.Equal(new[] { 25, 10 }, result.FinalSizes);
        Assert.Equal(IterativeStopReason.BudgetSpent, result.StopReason);
        // Slice 1 at cost 4: 40 to spend over [10, 10] buys both, each unit charged at its cost.
        var costly = new RecordingAcquirer();
        var both = await new IterativeAcquisition(new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 1)), costly,
            new IterativeOptions { Lambda = 0, InitialLimit = 100 }).RunAsync(new[] { 10, 10 }, budget: 40, costs: [1, 4]);
        var bought = both.TotalAcquired;
        Assert.True(bought[1] > 0, "slice 1 gets data once slice 0 is 2.52 times larger");
        Assert.Equal(bought[0] * 1.0 + bought[1] * 4.0, both.Spent, 12);
        Assert.Equal(40 - both.Spent, both.BudgetLeft, 12);
        Assert.True(both.BudgetLeft < 1, $"{both.BudgetLeft} left, which still buys a slice-0 example");
        Assert.Equal(both.Iterations.Sum(r => r.Cost), both.Spent, 12);
    }

    [Theory]
    [InlineData(LimitStrategy.Moderate, 0.5, new[] { 1e-6, 0.5 + 1e-6, 1 + 1e-6 })]
    [InlineData(LimitStrategy.Aggressive, 3.0, new[] { 1e-6, 3e-6, 9e-6 })]
    [InlineData(LimitStrategy.Conservative, 7.0, new[] { 1e-6, 1e-6, 1e-6 })]
    public async Task Run_CustomLimitStep_GrowsTheLimitEachIteration(LimitStrategy strategy, double step, double[] limits)
    {
        var curves = new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 8));
        var options = new IterativeOptions { InitialLimit = 1e-6, Strategy = strategy, LimitStep = step, Lambda = 0, MaxIterations = 3 };
        var result = await new IterativeAcquisition(curves, new RecordingAcquirer(), options).RunAsync(new[] { 20, 20 }, budget: 1000);
        Assert.Equal(limits, result.Iterations.Select(r => r.Limit), new Tolerance(1e-15));
        Assert.Equal(step, options.EffectiveLimitStep);
    }

    private sealed class Tolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }

    [Fact]
    public void Options_Invalid_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new IterativeOptions { MinSliceSize = 0, Strategy = LimitStrategy.Aggressive, LimitStep = 0.5 }.Validate());
        Assert.Contains("MinSliceSize must be at least 1", ex.Message);
        Assert.Contains("LimitStep must be > 1 for Aggressive. Got 0.5", ex.Message);
    }
}
