using MathNet.Numerics.Optimization;
using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

public class LearningCurveFitterTests
{
    private static CurvePoint[] Exact(double a, double b, params double[] sizes) =>
        sizes.Select(n => new CurvePoint(n, b * Math.Pow(n, -a))).ToArray();

    [Fact]
    public void Fit_ExactPowerLaw_RecoversParameters()
    {
        var fit = LearningCurveFitter.Fit(Exact(0.35, 2.5, 20, 40, 80, 160, 320));

        Assert.Equal(CurveFitStatus.Fitted, fit.Status);
        Assert.NotNull(fit.Curve);
        Assert.Equal(0.35, fit.Curve!.A, 1e-6);
        Assert.Equal(2.5, fit.Curve.B, 1e-5);
        Assert.Equal(1.0, fit.RSquared, 1e-9);
        Assert.True(fit.WeightedRmse < 1e-7, $"RMSE {fit.WeightedRmse}");
        Assert.NotNull(fit.ReasonForExit);
        Assert.NotEqual(ExitCondition.ExceedIterations, fit.ReasonForExit);
    }

    [Fact]
    public void Fit_WeightsFavourLargeSizes()
    {
        // Exact curve 1 * n^-0.5 except a badly off point at the smallest size.
        var points = Exact(0.5, 1.0, 10, 100, 200, 400, 800).ToList();
        points[0] = new CurvePoint(10, 0.6);   // exact is 0.3162
        var weighted = LearningCurveFitter.Fit(points, new CurveFitOptions { WeightPower = 1 });
        var unweighted = LearningCurveFitter.Fit(points, new CurveFitOptions { WeightPower = 0 });

        Assert.True(weighted.IsUsable && unweighted.IsUsable);
        // The weighted fit stays closer to the large-n truth: prediction at n = 800 is 0.035355.
        double truth = Math.Pow(800, -0.5);
        Assert.True(Math.Abs(weighted.Curve!.Loss(800) - truth) < Math.Abs(unweighted.Curve!.Loss(800) - truth),
            $"weighted {weighted.Curve.Loss(800)}, unweighted {unweighted.Curve.Loss(800)}, truth {truth}");
    }

    [Fact]
    public void Fit_RisingLosses_IsNotUsable()
    {
        var fit = LearningCurveFitter.Fit(new[] { new CurvePoint(10, 0.5), new CurvePoint(20, 0.6), new CurvePoint(40, 0.7) });

        Assert.Equal(CurveFitStatus.NotDecreasing, fit.Status);
        Assert.Null(fit.Curve);
        Assert.NotNull(fit.Parameters);
        Assert.True(fit.Parameters!.A <= 1e-4);
        var ex = Assert.Throws<InvalidOperationException>(() => fit.RequireCurve("'coat'"));
        Assert.Contains("'coat'", ex.Message);
        Assert.Contains("NotDecreasing", ex.Message);
    }

    [Fact]
    public void Fit_FlatLosses_IsNotUsable()
    {
        var fit = LearningCurveFitter.Fit(new[] { new CurvePoint(10, 0.5), new CurvePoint(20, 0.5), new CurvePoint(40, 0.5) });
        Assert.Equal(CurveFitStatus.NotDecreasing, fit.Status);
        Assert.Equal(0.5, fit.Parameters!.B, 1e-3);
    }

    [Fact]
    public void Fit_TooFewDistinctSizes_IsReported()
    {
        var fit = LearningCurveFitter.Fit(new[] { new CurvePoint(10, 0.5), new CurvePoint(10, 0.4), new CurvePoint(20, 0.3) });
        Assert.Equal(CurveFitStatus.TooFewPoints, fit.Status);
        Assert.Contains("2 distinct sizes", fit.Message);
    }

    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(10, double.NaN)]
    [InlineData(10, -1)]
    [InlineData(10, 0)]
    public void Fit_InvalidPoint_IsReported(double size, double loss)
    {
        var points = new[] { new CurvePoint(size, loss), new CurvePoint(20, 0.3), new CurvePoint(40, 0.2), new CurvePoint(80, 0.1) };
        var fit = LearningCurveFitter.Fit(points);
        Assert.Equal(CurveFitStatus.InvalidPoints, fit.Status);
        Assert.Null(fit.Curve);
    }

    [Fact]
    public void Options_Invalid_ListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CurveFitOptions { MinPoints = 1, WeightPower = -1 }.Validate());
        Assert.Contains("MinPoints must be at least 2", ex.Message);
        Assert.Contains("WeightPower must be finite and >= 0. Got -1", ex.Message);
    }
}
