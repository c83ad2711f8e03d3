using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SliceLearning.Discovery;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.SliceTuner;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Workflow;

/// <summary>Entry point of the diagnose → train → plan workflow.</summary>
public static class SliceWorkflow
{
    /// <summary>Creates a workflow over <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">Invalid options (all problems listed).</exception>
    public static SliceWorkflow<T> Create<T>(SliceWorkflowData<T> data, SliceWorkflowOptions? options = null, ILoggerFactory? loggerFactory = null) =>
        new(data, options, loggerFactory);
}

/// <summary>
/// One workflow from diagnosis to data. (1) Diagnose: train a vanilla model, measure every slice
/// on the test set with bootstrap intervals, rank slices by their gap to overall, and discover
/// candidate slices in the model's validation errors. (2) Train: SRAM on the weakest slices, with
/// the lift over vanilla and paired intervals. (3) Plan: per-slice learning curves, Slice Tuner's
/// one-shot plan for a budget, acquisition from a held-back pool, retraining, and loss and EER
/// before and after (with the uniform plan beside it). One seed drives everything; bit-identical
/// on the CPU with one torch thread.
/// </summary>
/// <typeparam name="T">The example type.</typeparam>
public sealed class SliceWorkflow<T>
{
    private readonly SliceWorkflowData<T> _data;
    private readonly SliceWorkflowOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;

    internal SliceWorkflow(SliceWorkflowData<T> data, SliceWorkflowOptions? options, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(data);
        _options = (options ?? new SliceWorkflowOptions()).Clone();
        _options.Validate();
        _data = data;
        CheckData(data);
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<SliceWorkflow<T>>();
    }

    /// <summary>A copy of the options in use.</summary>
    public SliceWorkflowOptions Options => _options.Clone();

    /// <summary>Runs the steps the options ask for and returns the report.</summary>
    /// <param name="progress">Stage progress (trainings and curve points).</param>
    /// <param name="cancellationToken">Cancels between and inside trainings (<see cref="OperationCanceledException"/>).</param>
    public WorkflowReport Run(IProgress<WorkflowProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var diagnosis = Diagnose(progress, cancellationToken, out var discovered);
        TrainingStepResult? training = null;
        if (_options.Train)
        {
            var weak = diagnosis.WeakSlices;
            var discoveredSfs = discovered?.Candidates.Take(_options.DiscoveredSlicesForTraining).Select(c => c.ToSlicingFunction()).ToArray() ?? [];
            if (weak.Count + discoveredSfs.Length > 0) training = TrainSram(weak, discoveredSfs, progress, cancellationToken);
            else Log.NoWeakSlices(_logger);
        }
        PlanningResult? planning = null;
        if (_options.Plan && _data.AcquisitionPool is { Count: > 0 }) planning = PlanAndAcquire(progress, cancellationToken);
        return new WorkflowReport(diagnosis.Result, training, planning, clock.Elapsed, _options.Seed);
    }

    private sealed record Diagnosis(DiagnosisResult Result, IReadOnlyList<ISlicingFunction<T>> WeakSlices);

    private Diagnosis Diagnose(IProgress<WorkflowProgress>? progress, CancellationToken ct, out SliceDiscoveryResult<T>? discovered)
    {
        var o = _options;
        progress?.Report(new WorkflowProgress(WorkflowStage.Diagnose, 0, 1, "training the vanilla model"));
        using var train = SliceDataset.From(_data.Train, _data.Featurize, _data.Label, _data.Slices);
        using var valid = SliceDataset.From(_data.Validation, _data.Featurize, _data.Label, _data.Slices);
        using var test = SliceDataset.From(_data.Test, _data.Featurize, _data.Label, _data.Slices);
        using var vanilla = CreateVanilla(train.Features.shape[1], o.Seed);
        var result = Fit(vanilla, train, valid, o.Seed, WorkflowStage.Diagnose, progress, ct, earlyStopping: true);
        var report = vanilla.Evaluate(test, ReportOptions());
        var ranking = Rank(report, o.RankingMetric);
        Log.Diagnosed(_logger, report.Overall.Metrics.Get(o.RankingMetric), ranking.Count > 0 ? ranking[0].Name : "-", ranking.Count > 0 ? ranking[0].Gap : double.NaN);

        // Weak slices are chosen on the validation set, so the test-set lift is not selected on itself.
        var validReport = vanilla.Evaluate(valid, new SliceReportOptions { BootstrapResamples = 0 });
        var weak = Rank(validReport, o.RankingMetric).Where(r => r.Gap < 0).Take(o.WeakSliceCount)
            .Select(r => _data.Slices.First(f => f.Name == r.Name)).ToArray();

        discovered = null;
        var list = new List<DiscoveredSlice>();
        string? table = null, code = null;
        if (_data.DiscoveryAttributes is { Count: > 0 } attributes)
        {
            ct.ThrowIfCancellationRequested();
            progress?.Report(new WorkflowProgress(WorkflowStage.Discover, 0, 1, "searching the vanilla model's errors"));
            var (probabilities, classes) = vanilla.Predict(valid.Features);
            probabilities.Dispose();
            var labels = valid.Labels.data<long>().ToArray();
            var errors = classes.Select((c, i) => c != labels[i]).ToArray();
            discovered = SliceDiscovery.Discover(_data.Validation, errors, attributes, o.Discovery, ct);
            list.AddRange(discovered.Candidates.Select(c => new DiscoveredSlice(c.Name, c.ToString(), c.Support, c.ErrorRate, c.ErrorInterval, c.Gap, c.AdjustedPValue, c.IsSignificant, c.ToCode())));
            table = discovered.ToTable();
            code = discovered.ToCode(typeof(T).Name);
            progress?.Report(new WorkflowProgress(WorkflowStage.Discover, 1, 1, $"{discovered.Candidates.Count} candidates of {discovered.TestedCount} tested"));
        }
        return new Diagnosis(new DiagnosisResult(report, o.RankingMetric, ranking, result, list, table, code), weak);
    }

    private TrainingStepResult TrainSram(IReadOnlyList<ISlicingFunction<T>> weak, IReadOnlyList<ISlicingFunction<T>> discovered, IProgress<WorkflowProgress>? progress, CancellationToken ct)
    {
        var o = _options;
        var names = new HashSet<string>(weak.Select(w => w.Name), StringComparer.OrdinalIgnoreCase);
        var sfs = weak.Concat(discovered.Where(d => names.Add(d.Name))).ToArray();
        var slices = SliceSet.For<T>().AddRange(sfs).Build();
        progress?.Report(new WorkflowProgress(WorkflowStage.Train, 0, 1, $"training SRAM on {string.Join(", ", sfs.Select(s => s.Name))}"));
        using var train = SliceDataset.From(_data.Train, _data.Featurize, _data.Label, slices);
        using var valid = SliceDataset.From(_data.Validation, _data.Featurize, _data.Label, slices);
        using var test = SliceDataset.From(_data.Test, _data.Featurize, _data.Label, slices);
        long inputWidth = train.Features.shape[1];
        using var vanilla = CreateVanilla(inputWidth, o.Seed);
        Fit(vanilla, train, valid, o.Seed, WorkflowStage.Train, null, ct, earlyStopping: true);
        manual_seed(o.Seed);
        var (backbone, width) = CreateBackbone(inputWidth);
        using var sram = SliceAwareModel.Create(backbone, width, _data.NumClasses, slices.SliceNames, m => m.ExpertSize = o.ExpertSize);
        var result = Fit(sram, train, valid, o.Seed, WorkflowStage.Train, progress, ct, earlyStopping: true);
        var vanillaReport = vanilla.Evaluate(test, ReportOptions());
        var sramReport = sram.Evaluate(test, ReportOptions());
        var comparison = SliceReport.Compare(vanillaReport, sramReport);
        foreach (var s in comparison.Slices.Skip(1)) Log.SliceLift(_logger, s.Name, s.Baseline.Get(o.RankingMetric), s.Candidate.Get(o.RankingMetric));
        return new TrainingStepResult(sfs.Select(s => s.Name).ToArray(), vanillaReport, sramReport, comparison, result);
    }

    private PlanningResult PlanAndAcquire(IProgress<WorkflowProgress>? progress, CancellationToken ct)
    {
        var o = _options;
        var pool = _data.AcquisitionPool!;
        var slices = PlanningSliceSet();
        int k = slices.Count;
        var sliceNames = slices.Select(s => s.Name).ToArray();

        // All candidate training rows: the training set, then the pool. Each row belongs to its first member slice.
        var all = _data.Train.Concat(pool).ToArray();
        using var data = SliceDataset.From(all, _data.Featurize, _data.Label, slices);
        using var valid = SliceDataset.From(_data.Validation, _data.Featurize, _data.Label, slices);
        using var test = SliceDataset.From(_data.Test, _data.Featurize, _data.Label, slices);
        int nTrain = _data.Train.Count;
        var owner = FirstMemberSlice(data.Slices);
        var training = Enumerable.Range(0, k).Select(i => (IReadOnlyList<int>)Enumerable.Range(0, nTrain).Where(r => owner[r] == i).ToArray()).ToArray();
        var pools = Enumerable.Range(0, k).Select(i => Enumerable.Range(nTrain, pool.Count).Where(r => owner[r] == i).ToArray()).ToArray();
        var sizes = training.Select(t => t.Count).ToArray();
        for (int i = 0; i < k; i++)
        {
            if (sizes[i] < 2 * o.CurvePoints)
                throw new SliceDataException($"Planning slice '{sliceNames[i]}' has {sizes[i]} training examples (as its first slice); at least {2 * o.CurvePoints} are needed to measure its learning curve.", nameof(SliceWorkflowData<T>.PlanningSlices), sliceName: sliceNames[i]);
            if (valid.Slices.MemberCount(i + 1) == 0)
                throw new SliceDataException($"Planning slice '{sliceNames[i]}' has no validation examples, so its loss cannot be measured.", nameof(SliceWorkflowData<T>.Validation), sliceName: sliceNames[i]);
            if (test.Slices.MemberCount(i + 1) == 0)
                throw new SliceDataException($"Planning slice '{sliceNames[i]}' has no test examples, so its loss cannot be measured.", nameof(SliceWorkflowData<T>.Test), sliceName: sliceNames[i]);
        }
        long inputWidth = data.Features.shape[1];

        // Learning curves on the validation set: each training is a fresh vanilla model through SliceTrainer.
        var evaluator = SliceLossEvaluator.FromTrainer(() => CreateVanillaUnseeded(inputWidth), data, training, valid,
            t => t.WithEpochs(o.CurveEpochs ?? o.Epochs).WithBatchSize(o.BatchSize).WithOptimizer(o.Optimizer).WithLogging(_loggerFactory));
        var estimator = new CurveEstimator(evaluator, new CurveEstimationOptions { Points = o.CurvePoints, Repeats = o.CurveRepeats, Seed = o.Seed },
            _loggerFactory.CreateLogger<CurveEstimator>());
        var estimate = estimator.Estimate(sizes,
            progress is null ? null : new InlineProgress<EstimationProgress>(p => progress.Report(new WorkflowProgress(WorkflowStage.EstimateCurves, p.CompletedTrainings, p.TotalTrainings, $"curve training {p.CompletedTrainings}/{p.TotalTrainings}"))),
            ct);
        var curves = estimate.Curves(UnusableCurvePolicy.PooledExponent, out var replaced);
        var plan = AcquisitionPlanner.OneShot(new AcquisitionProblem(sizes, curves), o.Budget, o.Lambda);
        var uniform = AcquisitionBaselines.Uniform(k, o.Budget);
        var poolSizes = pools.Select(p => p.Length).ToArray();
        // A pool can hold fewer examples than a plan asks for: take all of it and plan the rest of the budget over the other slices.
        var planWithinPool = WithinPool(poolSizes, o.Budget, (active, budget) =>
            AcquisitionPlanner.OneShot(new AcquisitionProblem(active.Select(i => sizes[i]).ToArray(), active.Select(i => curves[i]).ToArray()), budget, o.Lambda).Amounts);
        var uniformWithinPool = WithinPool(poolSizes, o.Budget, (active, budget) => AcquisitionBaselines.Uniform(active.Length, budget).Amounts);
        Log.Planned(_logger, string.Join(", ", planWithinPool), string.Join(", ", uniformWithinPool));

        // Acquire (seeded order within each slice's pool), retrain, measure on the test set.
        var outcomes = new List<AcquisitionOutcome>();
        var methods = new (string Name, IReadOnlyList<int> Amounts)[] { ("original", new int[k]), ("Slice Tuner", planWithinPool), ("uniform", uniformWithinPool) };
        int step = 0, steps = methods.Length * o.EvaluationRepeats;
        foreach (var (name, amounts) in methods)
        {
            var acquired = new int[k];
            var rows = new List<int>();
            for (int i = 0; i < k; i++)
            {
                rows.AddRange(training[i]);
                var shuffled = pools[i].ToArray();
                new Random(HashCode.Combine(o.Seed, i, 7919)).Shuffle(shuffled);
                acquired[i] = Math.Min(amounts[i], shuffled.Length);
                rows.AddRange(shuffled.Take(acquired[i]));
            }
            var perSeed = new List<SliceLossMetrics>();
            for (int r = 0; r < o.EvaluationRepeats; r++)
            {
                progress?.Report(new WorkflowProgress(WorkflowStage.Acquire, step++, steps, $"retraining with the {name} data, seed {r + 1}/{o.EvaluationRepeats}"));
                var losses = evaluator.TrainAndMeasure(rows, o.Seed + 1000 * (r + 1), test, ct);
                perSeed.Add(SliceLossMetrics.From(losses[1..], losses[0]));
            }
            var mean = new SliceLossMetrics(perSeed.Average(m => m.Loss), perSeed.Average(m => m.AverageEer), perSeed.Average(m => m.MaxEer),
                Enumerable.Range(0, k).Select(i => perSeed.Average(m => m.SliceLosses[i])).ToArray());
            outcomes.Add(new AcquisitionOutcome(name, acquired, mean, perSeed));
        }
        progress?.Report(new WorkflowProgress(WorkflowStage.Acquire, steps, steps, "done"));
        return new PlanningResult(sliceNames, sizes, poolSizes, estimate, curves, replaced, plan, uniform, outcomes, o.Lambda);
    }

    /// <summary>
    /// Amounts that never exceed a pool: plan the budget over all slices; every slice asked for
    /// more than its pool gets the whole pool and leaves the plan; the rest of the budget is planned
    /// again over the remaining slices, until no request exceeds its pool.
    /// </summary>
    internal static int[] WithinPool(IReadOnlyList<int> poolSizes, double budget, Func<int[], double, IReadOnlyList<int>> planFor)
    {
        int k = poolSizes.Count;
        var result = new int[k];
        var active = Enumerable.Range(0, k).ToList();
        double remaining = budget;
        while (active.Count > 0 && remaining >= 1)
        {
            var amounts = planFor(active.ToArray(), remaining);
            var over = active.Where((slice, j) => amounts[j] > poolSizes[slice]).ToArray();
            if (over.Length == 0)
            {
                for (int j = 0; j < active.Count; j++) result[active[j]] = amounts[j];
                break;
            }
            foreach (int slice in over)
            {
                result[slice] = poolSizes[slice];
                remaining -= poolSizes[slice];
                active.Remove(slice);
            }
        }
        return result;
    }

    private static int[] FirstMemberSlice(SliceMatrix m)
    {
        var owner = new int[m.RowCount];
        for (int r = 0; r < m.RowCount; r++)
        {
            owner[r] = -1;
            for (int c = 1; c < m.ColumnCount; c++)
            {
                if (m[r, c]) { owner[r] = c - 1; break; }
            }
        }
        return owner;
    }

    private static List<RankedSlice> Rank(SliceReport report, Metric metric)
    {
        double overall = report.Overall.Metrics.Get(metric);
        return report.Slices.Skip(1).Where(s => !s.IsEmpty)
            .Select(s =>
            {
                double v = s.Metrics.Get(metric);
                var ci = s.Intervals?.Get(metric);
                return new RankedSlice(s.Name, s.Support, v, ci, v - overall, ci is { } c && c.Upper < overall);
            })
            .OrderBy(r => double.IsNaN(r.Gap) ? double.MaxValue : r.Gap).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
    }

    private SliceReportOptions ReportOptions() => new()
    {
        BootstrapResamples = _options.BootstrapResamples,
        ConfidenceLevel = _options.ConfidenceLevel,
        Seed = _options.Seed,
    };

    private VanillaModel CreateVanilla(long inputWidth, int seed)
    {
        manual_seed(seed);
        return CreateVanillaUnseeded(inputWidth);
    }

    private VanillaModel CreateVanillaUnseeded(long inputWidth)
    {
        var (backbone, width) = CreateBackbone(inputWidth);
        return VanillaModel.Create(backbone, width, _data.NumClasses);
    }

    /// <summary>The planning slices, with a catch-all slice for training rows in none of them (Slice Tuner's slices partition the data).</summary>
    private SliceSet<T> PlanningSliceSet()
    {
        var slices = _data.PlanningSlices ?? _data.Slices;
        var sfs = slices.ToArray();
        bool uncovered = _data.Train.Concat(_data.AcquisitionPool ?? []).Any(x => !sfs.Any(f => f.IsMember(x)));
        if (!uncovered) return slices;
        string name = "other";
        for (int i = 2; sfs.Any(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)); i++) name = $"other_{i}";
        return SliceSet.For<T>().AddRange(sfs).Add(name, x => !sfs.Any(f => f.IsMember(x))).Build();
    }

    private (nn.Module<Tensor, Tensor> Module, long Width) CreateBackbone(long inputWidth)
    {
        if (_options.BackboneFactory is { } factory)
        {
            var (module, width) = factory(inputWidth);
            if (module is null) throw new InvalidOperationException($"{nameof(SliceWorkflowOptions.BackboneFactory)} returned a null module.");
            if (width < 1) throw new InvalidOperationException($"{nameof(SliceWorkflowOptions.BackboneFactory)} returned width {width}; it must be at least 1.");
            return (module, width);
        }
        int h = _options.HiddenWidth;
        return (nn.Sequential(("fc1", nn.Linear(inputWidth, h)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(h, h)), ("relu2", nn.ReLU())), h);
    }

    private TrainingResult Fit(ITrainableModel model, SliceDataset train, SliceDataset? valid, int seed, WorkflowStage stage,
        IProgress<WorkflowProgress>? progress, CancellationToken ct, bool earlyStopping)
    {
        var o = _options;
        var trainer = SliceTrainer.For(model).WithData(train, valid).WithEpochs(o.Epochs).WithBatchSize(o.BatchSize)
            .WithOptimizer(o.Optimizer).WithSeed(seed).WithLogging(_loggerFactory);
        if (earlyStopping && valid is not null && o.EarlyStoppingPatience > 0)
            trainer.WithEarlyStopping(o.EarlyStoppingPatience, stage == WorkflowStage.Train ? ValidationMetric.MeanSliceF1 : ValidationMetric.OverallF1);
        if (progress is not null)
            trainer.WithProgress(new InlineProgress<TrainingProgress>(p => progress.Report(new WorkflowProgress(stage, p.Epoch, p.TotalEpochs, $"epoch {p.Epoch}/{p.TotalEpochs}, loss {p.TrainingLoss:F4}"))));
        return trainer.Fit(ct);
    }

    private static void CheckData(SliceWorkflowData<T> d)
    {
        var problems = new List<string>();
        if (d.Train is null || d.Train.Count == 0) problems.Add($"{nameof(d.Train)} must hold at least one example.");
        if (d.Validation is null || d.Validation.Count == 0) problems.Add($"{nameof(d.Validation)} must hold at least one example.");
        if (d.Test is null || d.Test.Count == 0) problems.Add($"{nameof(d.Test)} must hold at least one example.");
        if (d.Featurize is null) problems.Add($"{nameof(d.Featurize)} must not be null.");
        if (d.Label is null) problems.Add($"{nameof(d.Label)} must not be null.");
        if (d.Slices is null) problems.Add($"{nameof(d.Slices)} must not be null.");
        if (d.NumClasses < 2) problems.Add($"{nameof(d.NumClasses)} must be at least 2. Got {d.NumClasses}.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(SliceWorkflowData<T>)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)), "data");
    }

    /// <summary>An IProgress that reports on the calling thread (no synchronization context hop).</summary>
    private sealed class InlineProgress<TValue>(Action<TValue> report) : IProgress<TValue>
    {
        public void Report(TValue value) => report(value);
    }
}

internal static partial class Log
{
    [LoggerMessage(EventId = 7001, EventName = "WorkflowDiagnosed", Level = LogLevel.Information,
        Message = "Diagnosis: overall {Overall:F4}; weakest slice {Slice} (gap {Gap:F4})")]
    public static partial void Diagnosed(ILogger logger, double overall, string slice, double gap);

    [LoggerMessage(EventId = 7002, EventName = "WorkflowNoWeakSlices", Level = LogLevel.Warning,
        Message = "No slice is below overall on the validation set and no discovered slice was asked for; SRAM is not trained")]
    public static partial void NoWeakSlices(ILogger logger);

    [LoggerMessage(EventId = 7003, EventName = "WorkflowSliceLift", Level = LogLevel.Information,
        Message = "Slice {Slice}: vanilla {Vanilla:F4}, SRAM {Sram:F4}")]
    public static partial void SliceLift(ILogger logger, string slice, double vanilla, double sram);

    [LoggerMessage(EventId = 7004, EventName = "WorkflowPlanned", Level = LogLevel.Information,
        Message = "Slice Tuner plan [{Plan}], uniform [{Uniform}]")]
    public static partial void Planned(ILogger logger, string plan, string uniform);
}
