using System.Globalization;
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

        var (rSquared, rmse) = Quality(x, y, w, curve);

        if (a <= options.MinExponent)
            return new CurveFit(CurveFitStatus.NotDecreasing,
                $"the losses are flat or rise with more data (fitted a = {a:G4} <= {options.MinExponent:G4}), so the curve predicts no gain from new data.",
                sorted, curve, rSquared, rmse, result.ReasonForExit, result.Iterations);
        return new CurveFit(CurveFitStatus.Fitted, $"fitted after {result.Iterations} iterations ({result.ReasonForExit}).",
            sorted, curve, rSquared, rmse, result.ReasonForExit, result.Iterations);
    }

    /// <summary>
    /// Fits the curves of several slices with one exponent shared by all of them and a scale per slice
    /// (<see cref="CurveFitMode.SharedExponent"/>): minimizes
    /// Σ_i Σ_k w_ik (loss_ik − b_i · n_ik^(−a))² over a ≥ 0 and b_i ≥ 0, where w_ik = n_ik^<see cref="CurveFitOptions.WeightPower"/>
    /// normalized to mean 1 within each slice (so every slice weighs the same whatever its size). For a fixed a every
    /// b_i has the closed form Σ_k w_ik loss_ik n_ik^(−a) / Σ_k w_ik n_ik^(−2a), so the joint fit is a 1-D search over a:
    /// a grid of 400 steps on [0, 1 + the largest exponent of the slices' own fits], then a golden-section search
    /// between the neighbours of the best grid point down to a width of 1e-12. With noise-free power laws that share
    /// their exponent it returns that exponent and every b_i; with different exponents it returns the exponent whose
    /// curves have the least total weighted squared error.
    /// </summary>
    /// <remarks>
    /// Every slice is first fitted on its own (<see cref="Fit"/>). Only slices whose own fit is usable (their losses
    /// fall) take part in the shared exponent. A slice with invalid or too few points, or whose own losses are flat
    /// or rise (<see cref="CurveFitStatus.NotDecreasing"/>), keeps its own result (status, parameters, R²), so the
    /// caller's <see cref="UnusableCurvePolicy"/> decides about it exactly as with independent fits; with
    /// <see cref="UnusableCurvePolicy.PooledExponent"/> its replacement exponent is then the shared one. When the
    /// shared exponent itself is at most <see cref="CurveFitOptions.MinExponent"/>, every participating slice is
    /// <see cref="CurveFitStatus.NotDecreasing"/>. Never throws for bad points, as <see cref="Fit"/>.
    /// </remarks>
    /// <param name="slices">Per slice, its measured points (any order).</param>
    /// <param name="options">Fit options; null for the defaults.</param>
    /// <returns>One fit per slice, in the order of <paramref name="slices"/>; R² and RMSE are each slice's own.</returns>
    /// <exception cref="ArgumentException">No slices, or a slice's points are null (the message names the slice).</exception>
    public static IReadOnlyList<CurveFit> FitSharedExponent(IReadOnlyList<IReadOnlyList<CurvePoint>> slices, CurveFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(slices);
        if (slices.Count == 0)
            throw new ArgumentException($"A {nameof(CurveFitMode.SharedExponent)} fit needs at least one slice; got none.", nameof(slices));
        for (int i = 0; i < slices.Count; i++)
        {
            if (slices[i] is null)
                throw new ArgumentException($"The points of slice #{i} are null; a {nameof(CurveFitMode.SharedExponent)} fit needs a (possibly empty) list for every slice.", nameof(slices));
        }
        options ??= new CurveFitOptions();
        options.Validate();

        var fits = slices.Select(p => Fit(p, options)).ToArray();
        var joined = Enumerable.Range(0, fits.Length).Where(i => fits[i].IsUsable).ToArray();
        for (int i = 0; i < fits.Length; i++)
        {
            if (!fits[i].IsUsable)
                fits[i] = WithMessage(fits[i], $"{fits[i].Message} Not part of the shared exponent (fitted on its own).");
        }
        if (joined.Length == 0) return fits;

        // Per participating slice: sizes scaled by the slice's largest size (the profile error does not change,
        // b_i is scaled back below), losses, and weights with mean 1.
        var xs = new double[joined.Length][];
        var us = new double[joined.Length][];
        var ys = new double[joined.Length][];
        var ws = new double[joined.Length][];
        var top = new double[joined.Length];
        for (int j = 0; j < joined.Length; j++)
        {
            var points = fits[joined[j]].Points;
            xs[j] = points.Select(p => p.Size).ToArray();
            ys[j] = points.Select(p => p.Loss).ToArray();
            top[j] = xs[j].Max();
            us[j] = xs[j].Select(v => v / top[j]).ToArray();
            var w = xs[j].Select(v => Math.Pow(v, options.WeightPower)).ToArray();
            double mean = w.Average();
            ws[j] = w.Select(v => v / mean).ToArray();
        }

        // b_j(a) in the scaled sizes, and the profile error (the error with the best b_j for this a).
        double ScaledB(int j, double a)
        {
            double c = 0, d = 0;
            for (int k = 0; k < us[j].Length; k++)
            {
                double p = Math.Pow(us[j][k], -a);
                c += ws[j][k] * ys[j][k] * p;
                d += ws[j][k] * p * p;
            }
            return d > 0 ? c / d : 0;
        }
        double Error(double a)
        {
            double total = 0;
            for (int j = 0; j < joined.Length; j++)
            {
                double b = ScaledB(j, a);
                for (int k = 0; k < us[j].Length; k++)
                {
                    double r = ys[j][k] - b * Math.Pow(us[j][k], -a);
                    total += ws[j][k] * r * r;
                }
            }
            return total;
        }

        const int GridSteps = 400;
        double upper = joined.Max(i => fits[i].Parameters!.A) + 1, step = upper / GridSteps;
        int best = 0;
        double bestError = Error(0);
        for (int g = 1; g <= GridSteps; g++)
        {
            double e = Error(g * step);
            if (e < bestError) { bestError = e; best = g; }
        }
        double lo = Math.Max(0, (best - 1) * step), hi = Math.Min(upper, (best + 1) * step);
        const double InvPhi = 0.6180339887498949;
        double x1 = hi - InvPhi * (hi - lo), x2 = lo + InvPhi * (hi - lo), f1 = Error(x1), f2 = Error(x2);
        int steps = 0;
        while (hi - lo > 1e-12 && steps < 200)
        {
            steps++;
            if (f1 <= f2) { hi = x2; x2 = x1; f2 = f1; x1 = hi - InvPhi * (hi - lo); f1 = Error(x1); }
            else { lo = x1; x1 = x2; f1 = f2; x2 = lo + InvPhi * (hi - lo); f2 = Error(x2); }
        }
        double shared = (lo + hi) / 2;
        if (Error(shared) > bestError) shared = best * step;

        for (int j = 0; j < joined.Length; j++)
        {
            int i = joined[j];
            var curve = new LearningCurve(shared, ScaledB(j, shared) * Math.Pow(top[j], shared));
            var (rSquared, rmse) = Quality(xs[j], ys[j], ws[j], curve);
            fits[i] = shared <= options.MinExponent
                ? new CurveFit(CurveFitStatus.NotDecreasing,
                    string.Create(CultureInfo.InvariantCulture, $"the losses of the {joined.Length} slices with falling losses are flat together (shared exponent a = {shared:G4} <= {options.MinExponent:G4}), so the curve predicts no gain from new data."),
                    fits[i].Points, curve, rSquared, rmse, null, steps, CurveFitMode.SharedExponent)
                : new CurveFit(CurveFitStatus.Fitted,
                    string.Create(CultureInfo.InvariantCulture, $"exponent a = {shared:G6} shared by {joined.Length} slices ({steps} golden-section steps), b from this slice's points."),
                    fits[i].Points, curve, rSquared, rmse, null, steps, CurveFitMode.SharedExponent);
        }
        return fits;
    }

    /// <summary>Weighted R² (1 − SSE_w / SST_w) and the root of the weighted mean squared residual of a curve on points.</summary>
    private static (double RSquared, double Rmse) Quality(double[] x, double[] y, double[] w, LearningCurve curve)
    {
        int m = x.Length;
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
        return (rSquared, Math.Sqrt(sse / w.Sum()));
    }

    private static CurveFit WithMessage(CurveFit fit, string message) =>
        new(fit.Status, message, fit.Points, fit.Parameters, fit.RSquared, fit.WeightedRmse, fit.ReasonForExit, fit.Iterations, fit.Mode);

    private static CurveFit Unfitted(CurveFitStatus status, string message, IReadOnlyList<CurvePoint> points) =>
        new(status, message, points, null, double.NaN, double.NaN, null, 0);
}
