using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace SliceLearning.SliceTuner;

/// <summary>
/// Fits power-law learning curves loss(n) = b * n^(-a) by weighted nonlinear least squares
/// (MathNet.Numerics' Levenberg-Marquardt minimizer with the lower bounds a, b &gt;= 0), starting
/// from the weighted log-log linear fit. Point i has weight size_i^<see cref="CurveFitOptions.WeightPower"/>,
/// so the larger (more reliable) subsets count more, as in the paper.
/// </summary>
public static class LearningCurveFitter
{
    /// <summary>Fits one curve. Never throws for bad points: the result's status says what is wrong.</summary>
    /// <param name="points">The measured points (any order; several points may share a size).</param>
    /// <param name="options">Fit options; null for the defaults.</param>
    public static CurveFit Fit(IReadOnlyList<CurvePoint> points, CurveFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        options ??= new CurveFitOptions();
        options.Validate();
        var sorted = points.OrderBy(p => p.Size).ToArray();

        foreach (var p in sorted)
        {
            if (!double.IsFinite(p.Size) || p.Size <= 0)
                return Unfitted(CurveFitStatus.InvalidPoints, $"a point has size {p.Size}; sizes must be finite and > 0.", sorted);
            if (!double.IsFinite(p.Loss) || p.Loss <= 0)
                return Unfitted(CurveFitStatus.InvalidPoints, $"the point at size {p.Size} has loss {p.Loss}; losses must be finite and > 0 for a power law.", sorted);
        }
        int distinct = sorted.Select(p => p.Size).Distinct().Count();
        if (distinct < options.MinPoints)
            return Unfitted(CurveFitStatus.TooFewPoints, $"{distinct} distinct sizes ({sorted.Length} points); at least {options.MinPoints} are needed.", sorted);

        int m = sorted.Length;
        var x = sorted.Select(p => p.Size).ToArray();
        var y = sorted.Select(p => p.Loss).ToArray();
        var w = x.Select(s => Math.Pow(s, options.WeightPower)).ToArray();
        double wMean = w.Average();
        for (int i = 0; i < m; i++) w[i] /= wMean;
        var sqrtW = w.Select(Math.Sqrt).ToArray();

        // Start: weighted linear fit of log(loss) = log(b) - a log(n).
        double sw = 0, sx = 0, sy = 0;
        for (int i = 0; i < m; i++) { sw += w[i]; sx += w[i] * Math.Log(x[i]); sy += w[i] * Math.Log(y[i]); }
        double mx = sx / sw, my = sy / sw, sxx = 0, sxy = 0;
        for (int i = 0; i < m; i++) { double dx = Math.Log(x[i]) - mx; sxx += w[i] * dx * dx; sxy += w[i] * dx * (Math.Log(y[i]) - my); }
        double a0 = Math.Max(sxx > 0 ? -sxy / sxx : 0, 1e-3);
        double b0 = Math.Exp(my + a0 * mx);

        var index = Vector<double>.Build.Dense(m, i => i);
        var observed = Vector<double>.Build.Dense(m, i => sqrtW[i] * y[i]);
        Vector<double> Model(Vector<double> p, Vector<double> xi)
        {
            var r = Vector<double>.Build.Dense(xi.Count);
            for (int k = 0; k < xi.Count; k++) { int i = (int)xi[k]; r[k] = sqrtW[i] * p[1] * Math.Pow(x[i], -p[0]); }
            return r;
        }
        Matrix<double> Jacobian(Vector<double> p, Vector<double> xi)
        {
            var j = Matrix<double>.Build.Dense(xi.Count, 2);
            for (int k = 0; k < xi.Count; k++)
            {
                int i = (int)xi[k];
                double pw = Math.Pow(x[i], -p[0]);
                j[k, 0] = -sqrtW[i] * p[1] * pw * Math.Log(x[i]);
                j[k, 1] = sqrtW[i] * pw;
            }
            return j;
        }

        NonlinearMinimizationResult result;
        try
        {
            var objective = ObjectiveFunction.NonlinearModel(Model, Jacobian, index, observed);
            var minimizer = new LevenbergMarquardtMinimizer(maximumIterations: options.MaxIterations);
            result = minimizer.FindMinimum(objective, Vector<double>.Build.Dense(new[] { a0, b0 }),
                lowerBound: Vector<double>.Build.Dense(new[] { 0.0, 0.0 }));
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or ArithmeticException or MaximumIterationsException)
        {
            return Unfitted(CurveFitStatus.FitFailed, $"the minimizer failed: {ex.Message}", sorted);
        }

        double a = result.MinimizingPoint[0], b = result.MinimizingPoint[1];
        if (!double.IsFinite(a) || !double.IsFinite(b))
            return new CurveFit(CurveFitStatus.FitFailed, $"the minimizer returned non-finite parameters a = {a}, b = {b}.", sorted, null,
                double.NaN, double.NaN, result.ReasonForExit, result.Iterations);
        a = Math.Max(a, 0);
        b = Math.Max(b, 0);
        var curve = new LearningCurve(a, b);

        double sse = 0, sst = 0, wyMean = 0;
        for (int i = 0; i < m; i++) wyMean += w[i] * y[i];
        wyMean /= w.Sum();
        for (int i = 0; i < m; i++)
        {
            double r = y[i] - curve.Loss(x[i]);
            sse += w[i] * r * r;
            double d = y[i] - wyMean;
            sst += w[i] * d * d;
        }
        double rSquared = sst > 0 ? 1 - sse / sst : (sse == 0 ? 1 : double.NaN);
        double rmse = Math.Sqrt(sse / w.Sum());

        if (a <= options.MinExponent)
            return new CurveFit(CurveFitStatus.NotDecreasing,
                $"the losses are flat or rise with more data (fitted a = {a:G4} <= {options.MinExponent:G4}), so the curve predicts no gain from new data.",
                sorted, curve, rSquared, rmse, result.ReasonForExit, result.Iterations);
        return new CurveFit(CurveFitStatus.Fitted, $"fitted after {result.Iterations} iterations ({result.ReasonForExit}).",
            sorted, curve, rSquared, rmse, result.ReasonForExit, result.Iterations);
    }

    private static CurveFit Unfitted(CurveFitStatus status, string message, IReadOnlyList<CurvePoint> points) =>
        new(status, message, points, null, double.NaN, double.NaN, null, 0);
}
