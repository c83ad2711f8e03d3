using System.Globalization;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SliceLearning.Training.DataParallel;

namespace SliceLearning.SliceTuner;

/// <summary>How the points of the learning curves are measured (paper section 4).</summary>
public enum EstimationMethod
{
    /// <summary>
    /// One training per point and repeat on the same fraction of every slice (nested subsets of the
    /// whole training set); every run gives a point for every slice. points x repeats trainings.
    /// </summary>
    Amortized = 0,

    /// <summary>
    /// Per slice, trainings on subsets of that slice with all other slices whole; each run gives a
    /// point for one slice. slices x points x repeats trainings.
    /// </summary>
    Exhaustive,
}

/// <summary>Options of <see cref="CurveEstimator"/>.</summary>
public sealed class CurveEstimationOptions
{
    /// <summary>Amortized or exhaustive. <value>The default value is <see cref="EstimationMethod.Amortized"/>.</value></summary>
    public EstimationMethod Method { get; set; } = EstimationMethod.Amortized;

    /// <summary>Points per curve, K (subset sizes, evenly spaced fractions from <see cref="MinFraction"/> to 1). <value>The default value is 10.</value></summary>
    public int Points { get; set; } = 10;

    /// <summary>Repeats per point with fresh random subsets; their losses are averaged. <value>The default value is 5.</value></summary>
    public int Repeats { get; set; } = 5;

    /// <summary>The smallest subset as a fraction of the slice, in (0, 1]. <value>The default value is 0.2.</value></summary>
    public double MinFraction { get; set; } = 0.2;

    /// <summary>The smallest subset of a slice, in examples (when the slice has that many). <value>The default value is 1.</value></summary>
    public int MinSubsetSize { get; set; } = 1;

    /// <summary>Seed of the random subsets and of the training seeds handed to the evaluator; together with the slice sizes it decides them (no other state does). <value>The default value is 0.</value></summary>
    public int Seed { get; set; }

    /// <summary>
    /// How many trainings run at once (at least 1). With more than one, the evaluator is called from
    /// several threads at once, so it must be thread-safe; the subsets, seeds and the order in which
    /// losses are averaged do not change, so a deterministic evaluator gives the same curves as with 1.
    /// Give each worker one torch thread (<c>ComputeDevice.SetCpuThreads(1)</c>) and use at most as
    /// many workers as cores. <value>The default value is 1 (sequential).</value>
    /// </summary>
    public int MaxDegreeOfParallelism { get; set; } = 1;

    /// <summary>Curve fit options. <value>The default value is <c>new CurveFitOptions()</c>.</value></summary>
    public CurveFitOptions Fit { get; set; } = new();

    /// <summary>
    /// How the slices' curves are fitted: <see cref="CurveFitMode.Independent"/> (the paper: a and b per slice) or
    /// <see cref="CurveFitMode.SharedExponent"/> (one a for all slices whose losses fall, b per slice;
    /// <see cref="LearningCurveFitter.FitSharedExponent"/>), which trades the per-slice exponent for a much less
    /// noisy fit when every slice has only a few noisy points. <value>The default value is <see cref="CurveFitMode.Independent"/>.</value>
    /// </summary>
    public CurveFitMode FitMode { get; set; } = CurveFitMode.Independent;

    /// <summary>Throws an <see cref="ArgumentException"/> listing every invalid option with its value.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Method)) errors.Add($"Method must be Amortized or Exhaustive. Got {Method}.");
        if (Points < 2) errors.Add($"Points must be at least 2. Got {Points}.");
        if (Repeats < 1) errors.Add($"Repeats must be at least 1. Got {Repeats}.");
        if (!(MinFraction > 0 && MinFraction <= 1)) errors.Add($"MinFraction must be in (0, 1]. Got {MinFraction}.");
        if (MaxDegreeOfParallelism < 1) errors.Add($"MaxDegreeOfParallelism must be at least 1. Got {MaxDegreeOfParallelism}.");
        if (MinSubsetSize < 1) errors.Add($"MinSubsetSize must be at least 1. Got {MinSubsetSize}.");
        if (Fit is null) errors.Add("Fit must not be null.");
        if (!Enum.IsDefined(FitMode)) errors.Add($"FitMode must be Independent or SharedExponent. Got {FitMode}.");
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid {nameof(CurveEstimationOptions)}:{Environment.NewLine}" + string.Join(Environment.NewLine, errors.Select(e => "- " + e)));
        Fit!.Validate();
    }
}

/// <summary>Progress of an estimation: trainings done out of the total.</summary>
/// <param name="CompletedTrainings">Trainings finished.</param>
/// <param name="TotalTrainings">Trainings this estimation needs.</param>
/// <param name="Method">The estimation method.</param>
public readonly record struct EstimationProgress(int CompletedTrainings, int TotalTrainings, EstimationMethod Method);

/// <summary>The learning curves of all slices, with what it cost to measure them.</summary>
public sealed class CurveEstimate
{
    internal CurveEstimate(IReadOnlyList<int> sizes, IReadOnlyList<CurveFit> fits, int trainings, TimeSpan elapsed, EstimationMethod method,
        CurveFitMode fitMode = CurveFitMode.Independent)
    {
        FitMode = fitMode;
        SliceSizes = sizes;
        Fits = fits;
        Trainings = trainings;
        Elapsed = elapsed;
        Method = method;
    }

    /// <summary>The slice sizes the curves were measured at.</summary>
    public IReadOnlyList<int> SliceSizes { get; }

    /// <summary>One fit per slice (check <see cref="CurveFit.Status"/>).</summary>
    public IReadOnlyList<CurveFit> Fits { get; }

    /// <summary>The number of model trainings the estimation ran.</summary>
    public int Trainings { get; }

    /// <summary>Wall-clock time of the estimation.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The method used.</summary>
    public EstimationMethod Method { get; }

    /// <summary>How the curves were fitted (<see cref="CurveEstimationOptions.FitMode"/>).</summary>
    public CurveFitMode FitMode { get; }

    /// <summary>True when every slice's curve is usable.</summary>
    public bool AllUsable => Fits.All(f => f.IsUsable);

    /// <summary>The curves; throws an <see cref="InvalidOperationException"/> naming every slice whose curve is not usable.</summary>
    public IReadOnlyList<LearningCurve> RequireCurves()
    {
        var bad = Fits.Select((f, i) => (f, i)).Where(t => !t.f.IsUsable).Select(t => $"- slice #{t.i}: {t.f.Status}: {t.f.Message}").ToArray();
        if (bad.Length > 0)
            throw new InvalidOperationException("Some learning curves are not usable:" + Environment.NewLine + string.Join(Environment.NewLine, bad));
        return Fits.Select(f => f.Curve!).ToArray();
    }

    /// <summary>
    /// The curves, with every unusable one replaced as <paramref name="policy"/> says (or an
    /// <see cref="InvalidOperationException"/> naming the slices for <see cref="UnusableCurvePolicy.Throw"/>).
    /// </summary>
    /// <param name="policy">What to do with unusable curves.</param>
    /// <param name="replaced">The slices whose curve was replaced.</param>
    public IReadOnlyList<LearningCurve> Curves(UnusableCurvePolicy policy, out IReadOnlyList<int> replaced)
    {
        if (policy == UnusableCurvePolicy.Throw) { replaced = []; return RequireCurves(); }
        var usable = Fits.Where(f => f.IsUsable).Select(f => f.Curve!.A).ToArray();
        double pooled = usable.Length > 0 ? usable.Average() : 0;
        var curves = new LearningCurve[Fits.Count];
        var list = new List<int>();
        for (int i = 0; i < curves.Length; i++)
        {
            var fit = Fits[i];
            if (fit.IsUsable) { curves[i] = fit.Curve!; continue; }
            var valid = fit.Points.Where(p => double.IsFinite(p.Loss) && p.Loss > 0 && p.Size > 0).ToArray();
            if (valid.Length == 0)
                throw new InvalidOperationException($"The learning curve of slice #{i} is not usable ({fit.Status}: {fit.Message}) and it has no valid measured loss to replace it from.");
            var last = valid.MaxBy(p => p.Size);
            double a = policy == UnusableCurvePolicy.PooledExponent ? pooled : 0;
            curves[i] = new LearningCurve(a, last.Loss * Math.Pow(last.Size, a));
            list.Add(i);
        }
        replaced = list;
        return curves;
    }
}

/// <summary>Something that gives learning curves for the current slice sizes (a <see cref="CurveEstimator"/>, or fixed curves in tests).</summary>
public interface ICurveProvider
{
    /// <summary>Measures (or returns) the learning curve of every slice at the given sizes.</summary>
    CurveEstimate Estimate(IReadOnlyList<int> sliceSizes, IProgress<EstimationProgress>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// Measures learning curves by training the user's model (through an <see cref="ISliceLossEvaluator"/>)
/// on random subsets, then fits b * n^(-a) per slice with <see cref="LearningCurveFitter"/> (each slice on its own, or with one
/// shared exponent: <see cref="CurveEstimationOptions.FitMode"/>).
/// </summary>
public sealed class CurveEstimator : ICurveProvider
{
    private readonly ISliceLossEvaluator _evaluator;
    private readonly CurveEstimationOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates an estimator.</summary>
    /// <param name="evaluator">Trains the user's model and returns per-slice validation losses.</param>
    /// <param name="options">Estimation options; null for the defaults.</param>
    /// <param name="logger">Logger; null for none.</param>
    public CurveEstimator(ISliceLossEvaluator evaluator, CurveEstimationOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        _evaluator = evaluator;
        _options = options ?? new CurveEstimationOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The options in use.</summary>
    public CurveEstimationOptions Options => _options;

    /// <summary>The number of trainings an estimation needs.</summary>
    public static int TrainingCount(EstimationMethod method, int slices, int points, int repeats) =>
        method == EstimationMethod.Amortized ? points * repeats : slices * points * repeats;

    /// <summary>The subset size of a slice of <paramref name="size"/> examples at point <paramref name="point"/>.</summary>
    internal static int SubsetSize(int size, int point, CurveEstimationOptions o)
    {
        if (size == 0) return 0;
        double fraction = o.MinFraction + (1 - o.MinFraction) * point / (o.Points - 1);
        int n = (int)Math.Round(fraction * size, MidpointRounding.AwayFromZero);
        return Math.Clamp(n, Math.Min(o.MinSubsetSize, size), size);
    }

    /// <inheritdoc />
    /// <exception cref="SliceDataException">A size is negative.</exception>
    /// <exception cref="ContractViolationException">The evaluator returned null or the wrong number of losses.</exception>
    public CurveEstimate Estimate(IReadOnlyList<int> sliceSizes, IProgress<EstimationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Estimate(sliceSizes, group: null, progress, cancellationToken);

    /// <summary>
    /// Estimates the curves with the trainings spread over the ranks of <paramref name="group"/>
    /// (training t runs on rank t mod N, with <see cref="CurveEstimationOptions.MaxDegreeOfParallelism"/>
    /// workers on each) and the losses gathered: every rank gets the same estimate, equal to the
    /// sequential one for the same seed. Collective: every rank calls it with the same sizes and
    /// options. A failing training on one rank stops every rank.
    /// </summary>
    /// <param name="sliceSizes">Number of training examples available per slice.</param>
    /// <param name="group">The ranks to spread the trainings over (e.g. <c>SliceLearning.Distributed.MpiSession</c>).</param>
    /// <param name="progress">Receives this rank's completed trainings.</param>
    /// <param name="cancellationToken">Cancels the estimation on this rank.</param>
    public CurveEstimate Estimate(IReadOnlyList<int> sliceSizes, IDataParallelCoordinator? group, IProgress<EstimationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (group is null || group.WorldSize == 1) return EstimateCore(sliceSizes, null, progress, cancellationToken);
        try
        {
            return EstimateCore(sliceSizes, group, progress, cancellationToken);
        }
        catch (Exception e)
        {
            // The other ranks wait for this rank's losses: stop them rather than leave them hanging.
            group.Fail(e);
            throw;
        }
    }

    private CurveEstimate EstimateCore(IReadOnlyList<int> sliceSizes, IDataParallelCoordinator? group, IProgress<EstimationProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sliceSizes);
        if (sliceSizes.Count == 0) throw new ArgumentException("At least one slice is needed.", nameof(sliceSizes));
        for (int i = 0; i < sliceSizes.Count; i++)
        {
            if (sliceSizes[i] < 0)
                throw new SliceDataException($"Slice #{i} has size {sliceSizes[i]}; sizes must be >= 0.", nameof(sliceSizes), sliceName: $"#{i}");
        }
        var o = _options;
        int slices = sliceSizes.Count;
        int total = TrainingCount(o.Method, slices, o.Points, o.Repeats);
        var clock = Stopwatch.StartNew();
        var sizes = sliceSizes.ToArray();
        // The subsets and seeds depend only on the options' seed and the slice sizes (no hidden state):
        // estimating the same sizes twice gives the same trainings.
        int sizeKey = SeedMixer.Mix(sizes);
        var jobs = new List<SliceSample>(total);
        for (int r = 0; r < o.Repeats; r++)
        {
            // One permutation per slice and repeat; prefixes give nested subsets.
            var perms = new int[slices][];
            for (int i = 0; i < slices; i++)
            {
                var rng = new Random(SeedMixer.Mix(o.Seed, sizeKey, r, i));
                perms[i] = Enumerable.Range(0, sizes[i]).ToArray();
                rng.Shuffle(perms[i]);
            }
            if (o.Method == EstimationMethod.Amortized)
            {
                for (int k = 0; k < o.Points; k++)
                {
                    var idx = new int[slices][];
                    for (int i = 0; i < slices; i++) idx[i] = perms[i][..SubsetSize(sizes[i], k, o)];
                    jobs.Add(new SliceSample(idx, Seed(o.Seed, sizeKey, r, k, -1), o.Method, r, k, null));
                }
            }
            else
            {
                for (int j = 0; j < slices; j++)
                {
                    for (int k = 0; k < o.Points; k++)
                    {
                        var idx = new int[slices][];
                        for (int i = 0; i < slices; i++) idx[i] = i == j ? perms[i][..SubsetSize(sizes[i], k, o)] : perms[i];
                        jobs.Add(new SliceSample(idx, Seed(o.Seed, sizeKey, r, k, j), o.Method, r, k, j));
                    }
                }
            }
        }

        progress?.Report(new EstimationProgress(0, total, o.Method));
        SliceTunerLog.EstimationStarted(_logger, o.Method, slices, total);
        var results = new IReadOnlyList<double>[jobs.Count];
        int done = 0;
        // Across ranks, training t belongs to rank t mod N; this rank runs only its own.
        var mine = group is null
            ? Enumerable.Range(0, jobs.Count).ToArray()
            : Enumerable.Range(0, jobs.Count).Where(t => t % group.WorldSize == group.Rank).ToArray();
        if (o.MaxDegreeOfParallelism == 1)
        {
            foreach (int t in mine)
            {
                cancellationToken.ThrowIfCancellationRequested();
                results[t] = Run(jobs[t], slices, cancellationToken);
                progress?.Report(new EstimationProgress(++done, total, o.Method));
            }
        }
        else
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
            try
            {
                Parallel.ForEach(mine, parallel, t =>
                {
                    results[t] = Run(jobs[t], slices, cancellationToken);
                    progress?.Report(new EstimationProgress(Interlocked.Increment(ref done), total, o.Method));
                });
            }
            catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
                throw;
            }
        }

        if (group is not null) GatherLosses(group, results, slices);

        // losses[slice][point] summed over repeats in job order (the same order as a sequential run,
        // so the sums are bit-identical whatever the parallelism); a point's subset size is the same in every repeat.
        var sum = new double[slices][];
        for (int i = 0; i < slices; i++) sum[i] = new double[o.Points];
        for (int t = 0; t < jobs.Count; t++)
        {
            var job = jobs[t];
            if (job.TargetSlice is int j) sum[j][job.Point] += results[t][j];
            else for (int i = 0; i < slices; i++) sum[i][job.Point] += results[t][i];
        }

        // Average the repeats; points that share a size (small slices) are averaged together.
        var points = Enumerable.Range(0, slices).Select(i => (IReadOnlyList<CurvePoint>)Enumerable.Range(0, o.Points)
                .Select(k => (Size: SubsetSize(sizes[i], k, o), Loss: sum[i][k] / o.Repeats))
                .Where(p => p.Size > 0)
                .GroupBy(p => p.Size)
                .Select(g => new CurvePoint(g.Key, g.Average(p => p.Loss)))
                .ToArray()).ToArray();
        var fits = o.FitMode == CurveFitMode.SharedExponent
            ? LearningCurveFitter.FitSharedExponent(points, o.Fit)
            : points.Select(p => LearningCurveFitter.Fit(p, o.Fit)).ToArray();
        for (int i = 0; i < slices; i++)
        {
            if (!fits[i].IsUsable) SliceTunerLog.CurveNotUsable(_logger, i, fits[i].Status, fits[i].Message);
        }
        clock.Stop();
        SliceTunerLog.EstimationFinished(_logger, total, clock.Elapsed.TotalSeconds);
        return new CurveEstimate(sizes, fits, total, clock.Elapsed, o.Method, o.FitMode);
    }

    /// <summary>
    /// Fills in the other ranks' losses. Each loss is summed with zeros from the ranks that did not
    /// run its training, which is exact: every rank ends with the sequential run's numbers.
    /// </summary>
    private static void GatherLosses(IDataParallelCoordinator group, IReadOnlyList<double>[] results, int slices)
    {
        var flat = new double[results.Length * slices];
        for (int t = 0; t < results.Length; t++)
        {
            if (results[t] is not { } losses) continue;
            for (int i = 0; i < slices; i++) flat[t * slices + i] = losses[i];
        }
        group.SumInPlace(flat);
        for (int t = 0; t < results.Length; t++) results[t] = flat.AsSpan(t * slices, slices).ToArray();
    }

    private static int Seed(int seed, int sizeKey, int repeat, int point, int slice) => SeedMixer.Mix(seed, sizeKey, repeat, point, slice, 17);

    private IReadOnlyList<double> Run(SliceSample sample, int slices, CancellationToken cancellationToken)
    {
        var losses = _evaluator.TrainAndEvaluate(sample, cancellationToken)
            ?? throw new ContractViolationException($"The evaluator {_evaluator.GetType().Name} returned null instead of one loss per slice.");
        if (losses.Count != slices)
            throw new ContractViolationException(string.Create(CultureInfo.InvariantCulture, $"The evaluator {_evaluator.GetType().Name} returned {losses.Count} losses for {slices} slices."));
        return losses;
    }
}
