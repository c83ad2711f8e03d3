using System.Globalization;
using MathNet.Numerics.Optimization;

namespace SliceLearning.SliceTuner;

/// <summary>
/// A power-law learning curve, loss(n) = B * n^(-A): the validation loss of a slice predicted
/// for a model trained with n examples of that slice (paper section 4). Both parameters are
/// non-negative; A = 0 is a flat curve (more data does not help).
/// </summary>
/// <param name="A">The exponent a (&gt;= 0): how fast the loss falls with more data.</param>
/// <param name="B">The scale b (&gt;= 0): the loss at n = 1.</param>
public sealed record LearningCurve(double A, double B)
{
    /// <summary>The predicted loss with <paramref name="size"/> examples (size &gt; 0).</summary>
    public double Loss(double size) => B * Math.Pow(size, -A);

    /// <summary>The derivative of <see cref="Loss"/> with respect to the size (&lt;= 0).</summary>
    public double Slope(double size) => -A * B * Math.Pow(size, -A - 1);

    /// <summary>Checks the parameters; throws naming the value when one is negative or not finite.</summary>
    internal void Validate(int slice)
    {
        if (!double.IsFinite(A) || A < 0)
            throw new SliceDataException(string.Create(CultureInfo.InvariantCulture, $"The learning curve of slice #{slice} has exponent a = {A}; it must be finite and >= 0."), "curves", sliceName: $"#{slice}");
        if (!double.IsFinite(B) || B < 0)
            throw new SliceDataException(string.Create(CultureInfo.InvariantCulture, $"The learning curve of slice #{slice} has scale b = {B}; it must be finite and >= 0."), "curves", sliceName: $"#{slice}");
    }

    /// <inheritdoc />
    public override string ToString() => $"loss(n) = {B:G6} * n^-{A:G6}";
}

/// <summary>One measured point of a learning curve: the validation loss after training with <see cref="Size"/> examples of the slice.</summary>
/// <param name="Size">The number of training examples of the slice (&gt; 0).</param>
/// <param name="Loss">The slice's validation loss (finite, &gt;= 0).</param>
public readonly record struct CurvePoint(double Size, double Loss);

/// <summary>Whether a learning curve could be fitted, and if not, why.</summary>
public enum CurveFitStatus
{
    /// <summary>The fit succeeded and the curve decreases (a &gt; <see cref="CurveFitOptions.MinExponent"/>).</summary>
    Fitted = 0,

    /// <summary>Fewer points (or distinct sizes) than <see cref="CurveFitOptions.MinPoints"/>.</summary>
    TooFewPoints,

    /// <summary>A size was not positive or a loss was negative, zero or not finite.</summary>
    InvalidPoints,

    /// <summary>The losses are flat or rise with more data: the fitted exponent is at most <see cref="CurveFitOptions.MinExponent"/>.</summary>
    NotDecreasing,

    /// <summary>The optimizer failed (an exception or non-finite parameters).</summary>
    FitFailed,
}

/// <summary>
/// How the curves of the slices are fitted: each slice on its own (the paper), or with one exponent
/// shared by all slices (partial pooling, <see cref="LearningCurveFitter.FitSharedExponent"/>).
/// </summary>
public enum CurveFitMode
{
    /// <summary>
    /// Every slice gets its own a and b from its own points (<see cref="LearningCurveFitter.Fit"/>), as in the paper.
    /// Two free parameters per slice; with few noisy points the exponent is poorly determined.
    /// </summary>
    Independent = 0,

    /// <summary>
    /// One exponent a for all slices whose own losses fall, and a scale b_i per slice, fitted jointly by
    /// weighted least squares (<see cref="LearningCurveFitter.FitSharedExponent"/>). One parameter per slice
    /// plus one in total: the curves differ in level, not in how fast they fall. A slice whose own losses are
    /// flat or rise keeps its own status (<see cref="CurveFitStatus.NotDecreasing"/>) and goes to the
    /// <see cref="UnusableCurvePolicy"/> as with independent fits.
    /// </summary>
    SharedExponent,
}

/// <summary>Options of <see cref="LearningCurveFitter"/>.</summary>
public sealed class CurveFitOptions
{
    /// <summary>The fewest points with distinct sizes a fit needs. <value>The default value is 3.</value></summary>
    public int MinPoints { get; set; } = 3;

    /// <summary>
    /// The exponent at or below which a curve counts as flat (<see cref="CurveFitStatus.NotDecreasing"/>).
    /// <value>The default value is 1e-4.</value>
    /// </summary>
    public double MinExponent { get; set; } = 1e-4;

    /// <summary>
    /// The power of the size used as a point's weight in the least squares (1: weights proportional
    /// to the size, as the paper does; 0: unweighted). <value>The default value is 1.</value>
    /// </summary>
    public double WeightPower { get; set; } = 1.0;

    /// <summary>The iteration limit of the Levenberg-Marquardt minimizer. <value>The default value is 200.</value></summary>
    public int MaxIterations { get; set; } = 200;

    /// <summary>Throws an <see cref="ArgumentException"/> listing every invalid option with its value.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (MinPoints < 2) errors.Add($"MinPoints must be at least 2 (two parameters are fitted). Got {MinPoints}.");
        if (!double.IsFinite(MinExponent) || MinExponent < 0) errors.Add($"MinExponent must be finite and >= 0. Got {MinExponent}.");
        if (!double.IsFinite(WeightPower) || WeightPower < 0) errors.Add($"WeightPower must be finite and >= 0. Got {WeightPower}.");
        if (MaxIterations < 1) errors.Add($"MaxIterations must be at least 1. Got {MaxIterations}.");
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid {nameof(CurveFitOptions)}:{Environment.NewLine}" + string.Join(Environment.NewLine, errors.Select(e => "- " + e)));
    }
}

/// <summary>
/// The result of fitting one slice's learning curve: the curve when usable, the parameters found
/// either way, and the fit quality. <see cref="Curve"/> is null unless <see cref="Status"/> is
/// <see cref="CurveFitStatus.Fitted"/>, so an unusable curve is never used silently.
/// </summary>
public sealed class CurveFit
{
    internal CurveFit(CurveFitStatus status, string message, IReadOnlyList<CurvePoint> points, LearningCurve? parameters,
        double rSquared, double weightedRmse, ExitCondition? reasonForExit, int iterations, CurveFitMode mode = CurveFitMode.Independent)
    {
        Mode = mode;
        Status = status;
        Message = message;
        Points = points;
        Parameters = parameters;
        RSquared = rSquared;
        WeightedRmse = weightedRmse;
        ReasonForExit = reasonForExit;
        Iterations = iterations;
    }

    /// <summary>Whether the curve could be fitted.</summary>
    public CurveFitStatus Status { get; }

    /// <summary>
    /// How <see cref="Parameters"/> were fitted: <see cref="CurveFitMode.SharedExponent"/> when the exponent is the
    /// one shared with the other slices, <see cref="CurveFitMode.Independent"/> when the slice's own points alone
    /// decided both parameters (always so for a slice left out of a shared fit).
    /// </summary>
    public CurveFitMode Mode { get; }

    /// <summary>True when <see cref="Status"/> is <see cref="CurveFitStatus.Fitted"/>.</summary>
    public bool IsUsable => Status == CurveFitStatus.Fitted;

    /// <summary>The usable curve, or null when the fit failed or is flat/rising (see <see cref="Message"/>).</summary>
    public LearningCurve? Curve => IsUsable ? Parameters : null;

    /// <summary>The parameters the optimizer returned, also for a flat or rising curve; null when there were none.</summary>
    public LearningCurve? Parameters { get; }

    /// <summary>A one-sentence explanation of <see cref="Status"/>.</summary>
    public string Message { get; }

    /// <summary>The points fitted (after averaging repeats), smallest size first.</summary>
    public IReadOnlyList<CurvePoint> Points { get; }

    /// <summary>
    /// Weighted coefficient of determination, 1 - SSE_w / SST_w, with the fit's weights (1 is a
    /// perfect fit; can be negative for a fit worse than the weighted mean). NaN when not computed.
    /// </summary>
    public double RSquared { get; }

    /// <summary>Root of the weighted mean squared residual, in loss units. NaN when not computed.</summary>
    public double WeightedRmse { get; }

    /// <summary>Why the Levenberg-Marquardt minimizer stopped; null when it did not run (also for a shared-exponent fit, which uses a 1-D search).</summary>
    public ExitCondition? ReasonForExit { get; }

    /// <summary>Iterations the minimizer used (0 when it did not run; for a shared-exponent fit, the golden-section steps of the exponent search).</summary>
    public int Iterations { get; }

    /// <summary>The curve, or an <see cref="InvalidOperationException"/> naming the slice and the reason.</summary>
    /// <param name="sliceLabel">How to name the slice in the message.</param>
    public LearningCurve RequireCurve(string sliceLabel) =>
        Curve ?? throw new InvalidOperationException($"The learning curve of slice {sliceLabel} is not usable ({Status}): {Message}");

    /// <inheritdoc />
    public override string ToString() => IsUsable ? $"{Curve} (R^2 {RSquared:F3})" : $"{Status}: {Message}";
}
