using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SliceLearning.SliceTuner;

/// <summary>How the imbalance-ratio change limit T grows per iteration (paper section 5.2).</summary>
public enum LimitStrategy
{
    /// <summary>T stays constant: many small steps.</summary>
    Conservative = 0,

    /// <summary>T grows by a constant c per iteration (the paper's default, c = 1).</summary>
    Moderate,

    /// <summary>T is multiplied by a constant c &gt; 1 per iteration (the paper uses c = 2).</summary>
    Aggressive,
}

/// <summary>What the iterative algorithm does with a slice whose learning curve is not usable.</summary>
public enum UnusableCurvePolicy
{
    /// <summary>Stop with an <see cref="InvalidOperationException"/> naming the slices.</summary>
    Throw = 0,

    /// <summary>
    /// Treat the slice as flat at its last measured loss (so it gets no data this iteration), log a
    /// warning and record it in <see cref="IterationRecord.FallbackSlices"/>.
    /// </summary>
    AcquireNothing,

    /// <summary>
    /// Give the slice the mean exponent of the usable curves, anchored at its loss measured at its
    /// largest size (loss(n) = loss_last * (n / n_last)^(-a_mean)): "it learns like a typical slice
    /// from where it is now". Logged and recorded in <see cref="IterationRecord.FallbackSlices"/>.
    /// Falls back to <see cref="AcquireNothing"/> when no curve is usable.
    /// </summary>
    PooledExponent,
}

/// <summary>Options of <see cref="IterativeAcquisition"/>.</summary>
public sealed class IterativeOptions
{
    /// <summary>The minimum slice size L; smaller slices are topped up first. <value>The default value is 1.</value></summary>
    public int MinSliceSize { get; set; } = 1;

    /// <summary>The initial limit T on the absolute change of the imbalance ratio per iteration. <value>The default value is 1.</value></summary>
    public double InitialLimit { get; set; } = 1;

    /// <summary>How T grows. <value>The default value is <see cref="LimitStrategy.Moderate"/>.</value></summary>
    public LimitStrategy Strategy { get; set; } = LimitStrategy.Moderate;

    /// <summary>The constant c of Moderate (T += c) and Aggressive (T *= c); null for the paper's 1 and 2. <value>The default value is null.</value></summary>
    public double? LimitStep { get; set; }

    /// <summary>The unfairness weight lambda of the one-shot objective. <value>The default value is 1.</value></summary>
    public double Lambda { get; set; } = 1;

    /// <summary>A safety cap on iterations. <value>The default value is 100.</value></summary>
    public int MaxIterations { get; set; } = 100;

    /// <summary>What to do with unusable curves. <value>The default value is <see cref="UnusableCurvePolicy.Throw"/>.</value></summary>
    public UnusableCurvePolicy UnusableCurves { get; set; } = UnusableCurvePolicy.Throw;

    /// <summary>The effective c.</summary>
    public double EffectiveLimitStep => LimitStep ?? (Strategy == LimitStrategy.Aggressive ? 2 : 1);

    /// <summary>Throws an <see cref="ArgumentException"/> listing every invalid option with its value.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (MinSliceSize < 1) errors.Add($"MinSliceSize must be at least 1 (a slice needs data for a loss). Got {MinSliceSize}.");
        if (!double.IsFinite(InitialLimit) || InitialLimit <= 0) errors.Add(string.Create(CultureInfo.InvariantCulture, $"InitialLimit must be finite and > 0. Got {InitialLimit}."));
        if (!Enum.IsDefined(Strategy)) errors.Add($"Strategy must be Conservative, Moderate or Aggressive. Got {Strategy}.");
        if (LimitStep is double c)
        {
            if (!double.IsFinite(c)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"LimitStep must be finite. Got {c}."));
            else if (Strategy == LimitStrategy.Moderate && c < 0) errors.Add(string.Create(CultureInfo.InvariantCulture, $"LimitStep must be >= 0 for Moderate. Got {c}."));
            else if (Strategy == LimitStrategy.Aggressive && c <= 1) errors.Add(string.Create(CultureInfo.InvariantCulture, $"LimitStep must be > 1 for Aggressive. Got {c}."));
        }
        if (!double.IsFinite(Lambda) || Lambda < 0) errors.Add(string.Create(CultureInfo.InvariantCulture, $"Lambda must be finite and >= 0. Got {Lambda}."));
        if (MaxIterations < 1) errors.Add($"MaxIterations must be at least 1. Got {MaxIterations}.");
        if (!Enum.IsDefined(UnusableCurves)) errors.Add($"UnusableCurves must be Throw, AcquireNothing or PooledExponent. Got {UnusableCurves}.");
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid {nameof(IterativeOptions)}:{Environment.NewLine}" + string.Join(Environment.NewLine, errors.Select(e => "- " + e)));
    }

    /// <summary>The limit after one more iteration.</summary>
    public double Increase(double limit) => Strategy switch
    {
        LimitStrategy.Conservative => limit,
        LimitStrategy.Moderate => limit + EffectiveLimitStep,
        _ => limit * EffectiveLimitStep,
    };
}

/// <summary>Why the iterative algorithm stopped.</summary>
public enum IterativeStopReason
{
    /// <summary>The budget is spent, or what is left cannot buy one example of any slice.</summary>
    BudgetSpent = 0,

    /// <summary>The curves predict no gain from any acquisition (every curve flat).</summary>
    NoPredictedGain,

    /// <summary>The acquirer delivered nothing of a non-empty request (pools exhausted).</summary>
    AcquirerExhausted,

    /// <summary>The budget could not bring every slice to at least one example.</summary>
    TopUpIncomplete,

    /// <summary><see cref="IterativeOptions.MaxIterations"/> was reached.</summary>
    MaxIterations,
}

/// <summary>One iteration of Algorithm 2.</summary>
/// <param name="Iteration">1-based.</param>
/// <param name="SizesBefore">Slice sizes at the start of the iteration.</param>
/// <param name="BudgetBefore">Budget left at the start.</param>
/// <param name="Limit">The limit T used.</param>
/// <param name="ImbalanceBefore">The imbalance ratio at the start.</param>
/// <param name="Curves">The learning curve estimate of this iteration.</param>
/// <param name="FallbackSlices">Slices whose unusable curve was replaced under <see cref="IterativeOptions.UnusableCurves"/>.</param>
/// <param name="OneShot">The one-shot plan for the whole remaining budget.</param>
/// <param name="ChangeRatio">The scale applied to the one-shot plan (1 when the limit was not hit).</param>
/// <param name="Requested">What was asked of the acquirer.</param>
/// <param name="Acquired">What the acquirer delivered.</param>
/// <param name="Cost">The cost of <paramref name="Acquired"/>.</param>
/// <param name="ImbalanceAfter">The imbalance ratio after acquiring.</param>
public sealed record IterationRecord(
    int Iteration, IReadOnlyList<int> SizesBefore, double BudgetBefore, double Limit, double ImbalanceBefore,
    CurveEstimate Curves, IReadOnlyList<int> FallbackSlices, AcquisitionPlan OneShot, double ChangeRatio,
    IReadOnlyList<int> Requested, IReadOnlyList<int> Acquired, double Cost, double ImbalanceAfter);

/// <summary>The outcome of <see cref="IterativeAcquisition.RunAsync"/>.</summary>
/// <param name="InitialSizes">Sizes before anything was acquired.</param>
/// <param name="TopUp">Examples acquired to reach the minimum size L.</param>
/// <param name="Iterations">The iterations, in order.</param>
/// <param name="FinalSizes">Sizes at the end.</param>
/// <param name="Spent">Total cost spent (top-up included).</param>
/// <param name="BudgetLeft">Budget not spent.</param>
/// <param name="StopReason">Why the loop stopped.</param>
public sealed record IterativeResult(
    IReadOnlyList<int> InitialSizes, IReadOnlyList<int> TopUp, IReadOnlyList<IterationRecord> Iterations,
    IReadOnlyList<int> FinalSizes, double Spent, double BudgetLeft, IterativeStopReason StopReason)
{
    /// <summary>Examples acquired per slice, top-up included.</summary>
    public IReadOnlyList<int> TotalAcquired => FinalSizes.Select((s, i) => s - InitialSizes[i]).ToArray();

    /// <summary>Model trainings spent on curve estimation over all iterations.</summary>
    public int Trainings => Iterations.Sum(r => r.Curves.Trainings);
}

/// <summary>
/// The paper's iterative algorithm (Algorithm 2 in the paper's numbering of the published
/// version, section 5.2): top up slices below L, then repeat: re-estimate the curves, solve
/// one-shot for the remaining budget, scale the plan down so the imbalance ratio changes by at most
/// T, acquire, grow T; until the budget is spent.
/// </summary>
/// <remarks>
/// Termination: each iteration either acquires at least one example (so the budget falls by at
/// least the smallest cost) or stops with a reason. A scaled plan that floors to all zeros acquires
/// one example of the slice with the largest scaled amount instead of looping without progress.
/// </remarks>
public sealed class IterativeAcquisition
{
    private readonly ICurveProvider _curves;
    private readonly IDataAcquirer _acquirer;
    private readonly IterativeOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the algorithm.</summary>
    /// <param name="curves">Estimates the curves at the current sizes (usually a <see cref="CurveEstimator"/>).</param>
    /// <param name="acquirer">Acquires the data.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="logger">Logger; null for none.</param>
    public IterativeAcquisition(ICurveProvider curves, IDataAcquirer acquirer, IterativeOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(curves);
        ArgumentNullException.ThrowIfNull(acquirer);
        _curves = curves;
        _acquirer = acquirer;
        _options = options ?? new IterativeOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// The top-up of Algorithm 2: max(L - size, 0) per slice; when that costs more than the budget,
    /// each amount is scaled down by budget / cost and floored (never overspends).
    /// </summary>
    internal static int[] TopUp(IReadOnlyList<int> sizes, int minSliceSize, double budget, IReadOnlyList<double> costs)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(costs);
        var need = sizes.Select(s => Math.Max(minSliceSize - s, 0)).ToArray();
        double cost = need.Select((n, i) => n * costs[i]).Sum();
        if (cost <= budget) return need;
        double scale = budget / cost;
        var scaled = need.Select(n => (int)Math.Floor(n * scale)).ToArray();
        return scaled;
    }

    /// <summary>
    /// Limits a plan so that the imbalance ratio changes by at most <paramref name="limit"/>: returns
    /// the scale (1 when within the limit) and the scaled, floored amounts. A scaled plan that floors
    /// to all zeros keeps one example of the slice with the largest scaled amount, so the caller
    /// always makes progress.
    /// </summary>
    internal static (double ChangeRatio, int[] Amounts) LimitChange(IReadOnlyList<int> sizes, IReadOnlyList<int> plan, double limit)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(plan);
        var s = sizes.Select(v => (double)v).ToArray();
        var d = plan.Select(v => (double)v).ToArray();
        double ir = ImbalanceRatio.Of(s);
        double after = ImbalanceRatio.Of(s.Select((v, i) => v + d[i]).ToArray());
        if (Math.Abs(after - ir) <= limit) return (1, plan.ToArray());
        double target = ir + limit * Math.Sign(after - ir);
        double x = ImbalanceRatio.ChangeRatio(s, d, Math.Max(target, 1));
        var scaled = d.Select(v => (int)Math.Floor(x * v + 1e-9)).ToArray();
        if (scaled.All(v => v == 0) && plan.Any(v => v > 0))
        {
            int best = Enumerable.Range(0, d.Length).MaxBy(i => d[i]);
            scaled[best] = 1;
        }
        return (x, scaled);
    }

    /// <summary>Runs the algorithm.</summary>
    /// <param name="sizes">Current training examples per slice.</param>
    /// <param name="budget">The budget (finite, &gt;= 0).</param>
    /// <param name="costs">Per-example costs; null for all 1.</param>
    /// <param name="progress">Receives each finished iteration.</param>
    /// <param name="cancellationToken">Cancels between and during trainings.</param>
    /// <exception cref="ContractViolationException">The acquirer returned null, the wrong number of counts, or more examples than requested.</exception>
    public async Task<IterativeResult> RunAsync(IReadOnlyList<int> sizes, double budget, IReadOnlyList<double>? costs = null,
        IProgress<IterationRecord>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count == 0) throw new ArgumentException("At least one slice is needed.", nameof(sizes));
        if (!double.IsFinite(budget) || budget < 0) throw new ArgumentOutOfRangeException(nameof(budget), budget, "The budget must be finite and >= 0.");
        for (int i = 0; i < sizes.Count; i++)
        {
            if (sizes[i] < 0) throw new SliceDataException($"Slice #{i} has size {sizes[i]}; sizes must be >= 0.", nameof(sizes), sliceName: $"#{i}");
        }
        var c = AcquisitionProblem.ValidateCosts(costs, sizes.Count);
        var o = _options;
        var initial = sizes.ToArray();
        var current = sizes.ToArray();
        double left = budget;
        double minCost = c.Min();

        // Top up slices below L.
        var topUpPlan = TopUp(current, o.MinSliceSize, left, c);
        var topUp = new int[current.Length];
        if (topUpPlan.Any(v => v > 0))
        {
            var got = await AcquireAsync(topUpPlan, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < current.Length; i++) { topUp[i] = got[i]; current[i] += got[i]; left -= c[i] * got[i]; }
        }
        var records = new List<IterationRecord>();
        if (current.Any(s => s == 0)) return Finish(IterativeStopReason.TopUpIncomplete);

        double limit = o.InitialLimit;
        double ir = ImbalanceRatio.Of(current);
        while (true)
        {
            if (left < minCost) return Finish(IterativeStopReason.BudgetSpent);
            if (records.Count >= o.MaxIterations) return Finish(IterativeStopReason.MaxIterations);
            cancellationToken.ThrowIfCancellationRequested();

            var estimate = _curves.Estimate(current, null, cancellationToken);
            var (curves, fallback) = UsableCurves(estimate);
            var problem = new AcquisitionProblem(current, curves, c);
            var plan = AcquisitionPlanner.OneShot(problem, left, o.Lambda);
            if (plan.TotalAmount == 0) return Finish(IterativeStopReason.NoPredictedGain);

            var (ratio, request) = LimitChange(current, plan.Amounts, limit);
            var got = await AcquireAsync(request, cancellationToken).ConfigureAwait(false);
            var before = current.ToArray();
            double spent = 0;
            for (int i = 0; i < current.Length; i++)
            {
                current[i] += got[i];
                spent += c[i] * got[i];
            }
            left -= spent;
            double irAfter = ImbalanceRatio.Of(current);
            var record = new IterationRecord(records.Count + 1, before, left + spent, limit, ir, estimate, fallback, plan, ratio, request, got.ToArray(), spent, irAfter);
            records.Add(record);
            progress?.Report(record);
            SliceTunerLog.IterationFinished(_logger, record.Iteration, got.Sum(), ratio, limit, left, irAfter);
            if (got.Sum() == 0) return Finish(IterativeStopReason.AcquirerExhausted);
            limit = o.Increase(limit);
            ir = irAfter;
        }

        IterativeResult Finish(IterativeStopReason reason)
        {
            SliceTunerLog.IterativeStopped(_logger, records.Count, reason);
            return new IterativeResult(initial, topUp, records, current.ToArray(), budget - left, left, reason);
        }
    }

    private (LearningCurve[] Curves, int[] Fallback) UsableCurves(CurveEstimate estimate)
    {
        if (estimate.Fits.Count != estimate.SliceSizes.Count)
            throw new SliceDataException($"The curve provider returned {estimate.Fits.Count} fits for {estimate.SliceSizes.Count} slices.", "curves");
        var curves = estimate.Curves(_options.UnusableCurves, out var fallback);
        foreach (int i in fallback)
            SliceTunerLog.CurveReplaced(_logger, i, estimate.Fits[i].Status, _options.UnusableCurves, curves[i].A, curves[i].B);
        return (curves.ToArray(), fallback.ToArray());
    }

    /// <summary>Calls the acquirer and checks its answer: one count per slice, each within [0, requested].</summary>
    private async ValueTask<IReadOnlyList<int>> AcquireAsync(IReadOnlyList<int> request, CancellationToken cancellationToken)
    {
        string who = _acquirer.GetType().Name;
        var got = await _acquirer.AcquireAsync(request, cancellationToken).ConfigureAwait(false)
            ?? throw new ContractViolationException(string.Create(CultureInfo.InvariantCulture,
                $"The acquirer {who} returned null from AcquireAsync; it must return how many examples it acquired per slice ({request.Count} counts)."));
        if (got.Count != request.Count)
            throw new ContractViolationException(string.Create(CultureInfo.InvariantCulture, $"The acquirer {who} returned {got.Count} counts for {request.Count} slices."));
        for (int i = 0; i < request.Count; i++)
        {
            if (got[i] < 0 || got[i] > request[i])
                throw new ContractViolationException(string.Create(CultureInfo.InvariantCulture, $"The acquirer {who} returned {got[i]} examples for slice #{i} after {request[i]} were requested."));
        }
        return got;
    }
}
