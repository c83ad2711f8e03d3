using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

/// <summary><see cref="LearningCurveFitter.FitSharedExponent"/> and <see cref="CurveFitMode.SharedExponent"/> in the estimator and the iterative loop.</summary>
public class SharedExponentFitTests
{
    private static CurvePoint[] Exact(double a, double b, params double[] sizes) =>
        sizes.Select(n => new CurvePoint(n, b * Math.Pow(n, -a))).ToArray();

    /// <summary>The closed-form b for a fixed a: Σ w y n^-a / Σ w n^-2a with w = n (WeightPower 1; the normalization cancels).</summary>
    private static double BestB(IReadOnlyList<CurvePoint> points, double a) =>
        points.Sum(p => p.Size * p.Loss * Math.Pow(p.Size, -a)) / points.Sum(p => p.Size * Math.Pow(p.Size, -2 * a));

    /// <summary>The objective of the shared fit for a fixed a: per slice, weights n / mean(n), best b.</summary>
    private static double TotalError(IReadOnlyList<CurvePoint>[] slices, double a) => slices.Sum(points =>
    {
        double mean = points.Average(p => p.Size), b = BestB(points, a);
        return points.Sum(p => p.Size / mean * Math.Pow(p.Loss - b * Math.Pow(p.Size, -a), 2));
    });

    [Fact]
    public void CommonExponent_IsRecoveredExactly_WithEverySlicesScale()
    {
        // loss_i(n) = b_i * n^-0.4 with b = (1.5, 3, 0.8), each slice measured at its own sizes.
        IReadOnlyList<CurvePoint>[] slices = [Exact(0.4, 1.5, 20, 40, 80, 160), Exact(0.4, 3.0, 50, 100, 200), Exact(0.4, 0.8, 10, 30, 90, 270, 810)];

        var fits = LearningCurveFitter.FitSharedExponent(slices);

        Assert.Equal(3, fits.Count);
        double[] b = [1.5, 3.0, 0.8];
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(CurveFitStatus.Fitted, fits[i].Status);
            Assert.Equal(CurveFitMode.SharedExponent, fits[i].Mode);
            Assert.Equal(0.4, fits[i].Curve!.A, 9);
            Assert.Equal(b[i], fits[i].Curve!.B, 8);
            Assert.Equal(1.0, fits[i].RSquared, 9);
            Assert.Equal(slices[i].Count, fits[i].Points.Count);
            Assert.Contains("shared by 3 slices", fits[i].Message);
        }
    }

    [Fact]
    public void DifferentExponents_GiveTheLeastSquaresCompromise_OfABruteForceGrid()
    {
        // Noise-free curves with exponents 0.2 and 0.6: no common exponent fits both, so the fit returns the a with the
        // least total weighted squared error (b_i in closed form for that a).
        IReadOnlyList<CurvePoint>[] slices = [Exact(0.2, 1.0, 20, 40, 80, 160, 320), Exact(0.6, 4.0, 20, 40, 80, 160, 320)];

        var fits = LearningCurveFitter.FitSharedExponent(slices);

        // Brute force: every a on a grid of step 1e-5 in [0, 1.5].
        double gridBest = Enumerable.Range(0, 150_001).Select(k => k * 1e-5).MinBy(a => TotalError(slices, a));
        double a = fits[0].Curve!.A;
        Assert.Equal(a, fits[1].Curve!.A);
        Assert.InRange(a, gridBest - 1e-5, gridBest + 1e-5);
        Assert.True(TotalError(slices, a) <= TotalError(slices, gridBest) + 1e-15, $"fit a = {a}, grid a = {gridBest}");
        Assert.InRange(a, 0.2, 0.6);   // strictly a compromise
        Assert.True(a > 0.25 && a < 0.55, $"a = {a}");
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(BestB(slices[i], a), fits[i].Curve!.B, 12);
            Assert.True(fits[i].RSquared < 1 && fits[i].RSquared > 0.5, $"slice {i}: R² {fits[i].RSquared}");
        }
    }

    [Fact]
    public void RisingSlice_KeepsItsOwnStatus_AndDoesNotPullTheSharedExponent()
    {
        IReadOnlyList<CurvePoint>[] slices =
        [
            Exact(0.5, 2.0, 25, 50, 100, 200),
            [new CurvePoint(25, 0.5), new CurvePoint(50, 0.6), new CurvePoint(100, 0.7), new CurvePoint(200, 0.8)],
            Exact(0.5, 1.0, 25, 50, 100, 200),
        ];

        var fits = LearningCurveFitter.FitSharedExponent(slices);

        Assert.Equal(0.5, fits[0].Curve!.A, 9);
        Assert.Equal(0.5, fits[2].Curve!.A, 9);
        Assert.Equal(1.0, fits[2].Curve!.B, 8);
        Assert.Equal(CurveFitStatus.NotDecreasing, fits[1].Status);
        Assert.Equal(CurveFitMode.Independent, fits[1].Mode);
        Assert.Null(fits[1].Curve);
        Assert.True(fits[1].Parameters!.A <= 1e-4);
        Assert.Contains("Not part of the shared exponent", fits[1].Message);
        Assert.Contains("shared by 2 slices", fits[0].Message);

        // The unusable-curve policies see it exactly as with independent fits; PooledExponent gives it the shared
        // exponent, anchored at its loss at the largest size.
        var estimate = new CurveEstimate([200, 200, 200], fits, 0, TimeSpan.Zero, EstimationMethod.Amortized, CurveFitMode.SharedExponent);
        var pooled = estimate.Curves(UnusableCurvePolicy.PooledExponent, out var replaced);
        Assert.Equal([1], replaced);
        Assert.Equal(0.5, pooled[1].A, 9);
        Assert.Equal(0.8, pooled[1].Loss(200), 9);
        var nothing = estimate.Curves(UnusableCurvePolicy.AcquireNothing, out _);
        Assert.Equal(0, nothing[1].A);
        var ex = Assert.Throws<InvalidOperationException>(() => estimate.Curves(UnusableCurvePolicy.Throw, out _));
        Assert.Contains("slice #1: NotDecreasing", ex.Message);
    }

    [Fact]
    public void BadPoints_AreReportedPerSlice_AndTheOthersAreFitted()
    {
        IReadOnlyList<CurvePoint>[] slices =
        [
            Exact(0.3, 1.0, 10, 20, 40),
            [new CurvePoint(10, double.NaN), new CurvePoint(20, 0.4), new CurvePoint(40, 0.3)],
            [new CurvePoint(10, 0.4), new CurvePoint(20, 0.3)],
            [],
            Exact(0.3, 2.0, 10, 20, 40),
        ];

        var fits = LearningCurveFitter.FitSharedExponent(slices);

        Assert.Equal(CurveFitStatus.InvalidPoints, fits[1].Status);
        Assert.Equal(CurveFitStatus.TooFewPoints, fits[2].Status);
        Assert.Equal(CurveFitStatus.TooFewPoints, fits[3].Status);
        Assert.Equal(0.3, fits[0].Curve!.A, 9);
        Assert.Equal(2.0, fits[4].Curve!.B, 8);
        Assert.Contains("shared by 2 slices", fits[4].Message);
    }

    [Fact]
    public void NoSliceDecreases_ReturnsTheOwnFits()
    {
        IReadOnlyList<CurvePoint>[] slices = [[new CurvePoint(10, 0.5), new CurvePoint(20, 0.5), new CurvePoint(40, 0.5)]];
        var fit = Assert.Single(LearningCurveFitter.FitSharedExponent(slices));
        Assert.Equal(CurveFitStatus.NotDecreasing, fit.Status);
        Assert.Equal(0.5, fit.Parameters!.B, 3);
    }

    [Fact]
    public void BadArguments_NameTheSliceOrTheOption()
    {
        var nullSlice = Assert.Throws<ArgumentException>(() => LearningCurveFitter.FitSharedExponent([Exact(0.3, 1, 10, 20, 40), null!]));
        Assert.Contains("slice #1", nullSlice.Message);
        var none = Assert.Throws<ArgumentException>(() => LearningCurveFitter.FitSharedExponent([]));
        Assert.Contains("at least one slice", none.Message);
        Assert.Throws<ArgumentNullException>(() => LearningCurveFitter.FitSharedExponent(null!));
        var badOptions = Assert.Throws<ArgumentException>(() => LearningCurveFitter.FitSharedExponent([Exact(0.3, 1, 10, 20, 40)], new CurveFitOptions { MinPoints = 1 }));
        Assert.Contains("MinPoints must be at least 2", badOptions.Message);
        var mode = Assert.Throws<ArgumentException>(() => new CurveEstimationOptions { FitMode = (CurveFitMode)7 }.Validate());
        Assert.Contains("FitMode must be Independent or SharedExponent. Got 7.", mode.Message);
    }

    /// <summary>Slice i's loss is b_i n^-a_i times seeded noise (1 + noise·U(−½, ½)).</summary>
    private static ISliceLossEvaluator PowerLaw(double[] a, double[] b, double noise) => SliceLossEvaluator.Create((sample, _) =>
    {
        var rng = new Random(sample.Seed);
        return sample.Indices.Select((idx, i) => b[i] * Math.Pow(idx.Length, -a[i]) * (1 + noise * (rng.NextDouble() - 0.5))).ToArray();
    });

    [Fact]
    public void Estimator_SharedExponent_RecoversExactCommonCurves()
    {
        double[] b = [0.5, 1.0, 2.0, 4.0];
        var estimate = new CurveEstimator(PowerLaw([0.35, 0.35, 0.35, 0.35], b, 0),
            new CurveEstimationOptions { Points = 5, Repeats = 1, Seed = 1, FitMode = CurveFitMode.SharedExponent }).Estimate([100, 400, 250, 60]);

        Assert.Equal(CurveFitMode.SharedExponent, estimate.FitMode);
        Assert.True(estimate.AllUsable);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(0.35, estimate.Fits[i].Curve!.A, 9);
            Assert.Equal(b[i], estimate.Fits[i].Curve!.B, 8);
        }
    }

    [Fact]
    public void Estimator_NoisyPoints_SharedExponentPredictsBetterThanIndependentFits()
    {
        // Ten slices with one true exponent (0.3) and 30 % multiplicative noise, K = 5, R = 1: the independent fits'
        // exponents scatter, the shared one does not. Error of the predicted loss at twice the size, over 10 seeds.
        double[] a = Enumerable.Repeat(0.3, 10).ToArray(), b = Enumerable.Range(0, 10).Select(i => 1 + 0.2 * i).ToArray();
        int[] sizes = Enumerable.Repeat(200, 10).ToArray();
        double Error(CurveFitMode mode) => Enumerable.Range(0, 10).Average(seed =>
        {
            var estimate = new CurveEstimator(PowerLaw(a, b, 0.3), new CurveEstimationOptions { Points = 5, Repeats = 1, Seed = seed, FitMode = mode }).Estimate(sizes);
            return estimate.Curves(UnusableCurvePolicy.PooledExponent, out _).Select((c, i) => Math.Abs(c.Loss(400) - b[i] * Math.Pow(400, -0.3))).Average();
        });

        double independent = Error(CurveFitMode.Independent), shared = Error(CurveFitMode.SharedExponent);

        Assert.True(shared < 0.7 * independent, $"shared {shared}, independent {independent}");
    }

    [Fact]
    public async Task IterativeLoop_RunsWithSharedExponent_EveryIterationSharesOneExponent()
    {
        List<int>[] training = new[] { 100, 400, 400 }.Select(n => Enumerable.Range(0, n).ToList()).ToArray();
        var pools = new[] { Enumerable.Range(1000, 5000).ToArray(), Enumerable.Range(9000, 5000).ToArray(), Enumerable.Range(19000, 5000).ToArray() };
        var estimator = new CurveEstimator(PowerLaw([0.4, 0.4, 0.4], [4.0, 2.0, 1.0], 0.1),
            new CurveEstimationOptions { Points = 5, Repeats = 2, Seed = 42, FitMode = CurveFitMode.SharedExponent });
        var iterative = new IterativeAcquisition(estimator, new PoolDataAcquirer<int>(training, pools, seed: 42),
            new IterativeOptions { Strategy = LimitStrategy.Moderate, Lambda = 1, UnusableCurves = UnusableCurvePolicy.Throw });

        var result = await iterative.RunAsync([100, 400, 400], budget: 1000);

        Assert.Equal(IterativeStopReason.BudgetSpent, result.StopReason);
        Assert.Equal(1000, result.Spent);
        Assert.Equal(result.FinalSizes, training.Select(t => t.Count));
        Assert.NotEmpty(result.Iterations);
        foreach (var it in result.Iterations)
        {
            Assert.Equal(CurveFitMode.SharedExponent, it.Curves.FitMode);
            Assert.Empty(it.FallbackSlices);
            double shared = it.Curves.Fits[0].Curve!.A;
            Assert.All(it.Curves.Fits, f => Assert.Equal(shared, f.Curve!.A));
            Assert.InRange(shared, 0.35, 0.45);
        }
        // The slice with the highest curve and the least data gets the most.
        Assert.True(result.TotalAcquired[0] > result.TotalAcquired[1] && result.TotalAcquired[1] > result.TotalAcquired[2],
            string.Join(", ", result.TotalAcquired));
    }
}
