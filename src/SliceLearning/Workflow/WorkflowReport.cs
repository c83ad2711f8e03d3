using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SliceLearning.Discovery;
using SliceLearning.Evaluation;
using SliceLearning.SliceTuner;
using SliceLearning.Training;

namespace SliceLearning.Workflow;

/// <summary>A slice ranked by its gap to the overall value of the ranking metric.</summary>
/// <param name="Name">The slice.</param>
/// <param name="Support">Member rows.</param>
/// <param name="Value">The slice's value of the ranking metric.</param>
/// <param name="Interval">Its bootstrap interval, or null when intervals are off.</param>
/// <param name="Gap">Value − overall value (negative: worse than overall).</param>
/// <param name="ClearlyBelow">True when the whole interval lies below the overall value.</param>
public sealed record RankedSlice(string Name, int Support, double Value, ConfidenceInterval? Interval, double Gap, bool ClearlyBelow);

/// <summary>A discovered candidate slice, as reported (see <see cref="CandidateSlice{T}"/>).</summary>
/// <param name="Name">SF name.</param>
/// <param name="Description">The conditions, e.g. "SEX = F AND AGE = 65+".</param>
/// <param name="Support">Member rows in the validation set.</param>
/// <param name="ErrorRate">The vanilla model's error rate on them.</param>
/// <param name="ErrorInterval">Wilson interval of the error rate.</param>
/// <param name="Gap">Error rate − overall error rate.</param>
/// <param name="AdjustedPValue">Multiple-testing-corrected p-value.</param>
/// <param name="IsSignificant">Adjusted p-value at most alpha.</param>
/// <param name="Code">The pasteable <c>.Add(...)</c> line.</param>
public sealed record DiscoveredSlice(string Name, string Description, int Support, double ErrorRate, ConfidenceInterval ErrorInterval, double Gap, double AdjustedPValue, bool IsSignificant, string Code);

/// <summary>Step 1: the vanilla model's per-slice report, the ranking and the discovered slices.</summary>
public sealed class DiagnosisResult
{
    internal DiagnosisResult(SliceReport report, Metric metric, IReadOnlyList<RankedSlice> ranking, TrainingResult training,
        IReadOnlyList<DiscoveredSlice> discovered, string? discoveryTable, string? discoveryCode)
    {
        Report = report;
        RankingMetric = metric;
        Ranking = ranking;
        Training = training;
        Discovered = discovered;
        DiscoveryTable = discoveryTable;
        DiscoveryCode = discoveryCode;
    }

    /// <summary>The vanilla model on the test set, every slice, with intervals.</summary>
    public SliceReport Report { get; }

    /// <summary>The metric of <see cref="Ranking"/>.</summary>
    public Metric RankingMetric { get; }

    /// <summary>Non-empty slices, the largest negative gap first.</summary>
    public IReadOnlyList<RankedSlice> Ranking { get; }

    /// <summary>How the vanilla model trained.</summary>
    public TrainingResult Training { get; }

    /// <summary>Discovered candidates, best first (empty when discovery was skipped).</summary>
    public IReadOnlyList<DiscoveredSlice> Discovered { get; }

    /// <summary>The discovery table, or null when discovery was skipped.</summary>
    public string? DiscoveryTable { get; }

    /// <summary>The discovered slices as pasteable C#, or null when discovery was skipped.</summary>
    public string? DiscoveryCode { get; }
}

/// <summary>Step 2: SRAM on the weak slices against the vanilla model.</summary>
public sealed class TrainingStepResult
{
    internal TrainingStepResult(IReadOnlyList<string> slices, SliceReport vanilla, SliceReport sram, SliceComparison comparison, TrainingResult training)
    {
        Slices = slices;
        Vanilla = vanilla;
        Sram = sram;
        Comparison = comparison;
        Training = training;
    }

    /// <summary>SRAM's slices (the weak slices, then any discovered ones), without the base slice.</summary>
    public IReadOnlyList<string> Slices { get; }

    /// <summary>The vanilla model on the test set, on SRAM's slices.</summary>
    public SliceReport Vanilla { get; }

    /// <summary>SRAM on the test set.</summary>
    public SliceReport Sram { get; }

    /// <summary>Per-slice lift of SRAM over vanilla with paired-bootstrap intervals.</summary>
    public SliceComparison Comparison { get; }

    /// <summary>How SRAM trained.</summary>
    public TrainingResult Training { get; }
}

/// <summary>The test-set outcome of retraining with one acquisition.</summary>
/// <param name="Method">"original" (no acquisition), "Slice Tuner" or "uniform".</param>
/// <param name="Acquired">Examples actually acquired per planning slice (the pool may run short).</param>
/// <param name="Metrics">Loss, average and maximum EER and per-slice losses, averaged over the evaluation seeds.</param>
/// <param name="PerSeed">The same for each seed.</param>
public sealed record AcquisitionOutcome(string Method, IReadOnlyList<int> Acquired, SliceLossMetrics Metrics, IReadOnlyList<SliceLossMetrics> PerSeed);

/// <summary>Step 3: learning curves, the plan for the budget, and loss and EER before and after acquiring.</summary>
public sealed class PlanningResult
{
    internal PlanningResult(IReadOnlyList<string> slices, IReadOnlyList<int> sizes, IReadOnlyList<int> poolSizes, CurveEstimate estimate,
        IReadOnlyList<LearningCurve> curves, IReadOnlyList<int> replacedCurves, AcquisitionPlan plan, AcquisitionPlan uniform,
        IReadOnlyList<AcquisitionOutcome> outcomes, double lambda)
    {
        PlanWithinPool = outcomes.Single(o => o.Method == "Slice Tuner").Acquired;
        UniformWithinPool = outcomes.Single(o => o.Method == "uniform").Acquired;
        Slices = slices;
        TrainSizes = sizes;
        PoolSizes = poolSizes;
        Estimate = estimate;
        Curves = curves;
        ReplacedCurves = replacedCurves;
        Plan = plan;
        Uniform = uniform;
        Outcomes = outcomes;
        Lambda = lambda;
    }

    /// <summary>The planning slices.</summary>
    public IReadOnlyList<string> Slices { get; }

    /// <summary>Training examples per planning slice before acquisition.</summary>
    public IReadOnlyList<int> TrainSizes { get; }

    /// <summary>Pool examples per planning slice.</summary>
    public IReadOnlyList<int> PoolSizes { get; }

    /// <summary>The measured learning curves (points and fits, with R² and status).</summary>
    public CurveEstimate Estimate { get; }

    /// <summary>The curves the planner used (unusable fits replaced by a pooled exponent).</summary>
    public IReadOnlyList<LearningCurve> Curves { get; }

    /// <summary>Slices whose fit was unusable and replaced.</summary>
    public IReadOnlyList<int> ReplacedCurves { get; }

    /// <summary>Slice Tuner's one-shot plan.</summary>
    public AcquisitionPlan Plan { get; }

    /// <summary>The uniform plan of the same budget.</summary>
    public AcquisitionPlan Uniform { get; }

    /// <summary>What was acquired for Slice Tuner: the plan, with a slice whose pool is too small taking its whole pool and the rest of the budget planned again over the others.</summary>
    public IReadOnlyList<int> PlanWithinPool { get; }

    /// <summary>What was acquired for uniform, capped at the pools the same way.</summary>
    public IReadOnlyList<int> UniformWithinPool { get; }

    /// <summary>original, Slice Tuner and uniform, retrained and measured on the test set.</summary>
    public IReadOnlyList<AcquisitionOutcome> Outcomes { get; }

    /// <summary>The λ used.</summary>
    public double Lambda { get; }
}

/// <summary>The one report of a <see cref="SliceWorkflow{T}"/>: diagnosis, training and planning, as text or JSON.</summary>
public sealed class WorkflowReport
{
    internal WorkflowReport(DiagnosisResult diagnosis, TrainingStepResult? training, PlanningResult? planning, TimeSpan elapsed, int seed)
    {
        Diagnosis = diagnosis;
        Training = training;
        Planning = planning;
        Elapsed = elapsed;
        Seed = seed;
    }

    /// <summary>Step 1.</summary>
    public DiagnosisResult Diagnosis { get; }

    /// <summary>Step 2, or null when it did not run.</summary>
    public TrainingStepResult? Training { get; }

    /// <summary>Step 3, or null when it did not run.</summary>
    public PlanningResult? Planning { get; }

    /// <summary>Wall-clock time of the whole workflow.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>The whole report as plain text: tables for each step.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        var d = Diagnosis;
        b.AppendLine("== 1. Diagnose: vanilla model, test set");
        b.AppendLine(d.Report.ToTable());
        b.AppendLine();
        b.AppendLine(string.Create(c, $"Slices ranked by {d.RankingMetric} gap to overall ({d.Report.Overall.Metrics.Get(d.RankingMetric):F3}):"));
        var rows = new List<string[]> { new[] { "rank", "slice", "support", d.RankingMetric.ToString().ToLowerInvariant(), "CI", "gap", "" } };
        for (int i = 0; i < d.Ranking.Count; i++)
        {
            var r = d.Ranking[i];
            rows.Add(new[] { (i + 1).ToString(c), r.Name, r.Support.ToString(c), TextTable.Number(r.Value), TextTable.Interval(r.Interval), TextTable.Signed(r.Gap), r.ClearlyBelow ? "below" : "" });
        }
        b.AppendLine(TextTable.Render(rows));
        b.AppendLine("(below: the slice's whole interval lies under the overall value)");
        if (d.DiscoveryTable is not null)
        {
            b.AppendLine();
            b.AppendLine("Discovered slices (validation set, vanilla model's errors):");
            b.AppendLine(d.DiscoveryTable);
            b.AppendLine();
            b.AppendLine(d.DiscoveryCode);
        }
        if (Training is { } t)
        {
            b.AppendLine();
            b.AppendLine($"== 2. Train: SRAM on {string.Join(", ", t.Slices)} (test set)");
            b.AppendLine("vanilla:");
            b.AppendLine(t.Vanilla.ToTable());
            b.AppendLine("SRAM:");
            b.AppendLine(t.Sram.ToTable());
            b.AppendLine("lift, accuracy:");
            b.AppendLine(t.Comparison.ToTable(Metric.Accuracy));
            b.AppendLine("lift, F1:");
            b.AppendLine(t.Comparison.ToTable(Metric.F1));
        }
        if (Planning is { } p)
        {
            b.AppendLine();
            b.AppendLine(string.Create(c, $"== 3. Plan: Slice Tuner, budget {p.Plan.Budget:G6}, lambda {p.Lambda:G4}; {p.Estimate.Trainings} curve trainings in {p.Estimate.Elapsed.TotalSeconds:F1} s"));
            var header = new List<string> { "slice", "train", "pool", "curve b*n^-a", "R^2", "fit", "plan", "acquired", "uniform acquired" };
            var prow = new List<string[]> { header.ToArray() };
            for (int i = 0; i < p.Slices.Count; i++)
            {
                var fit = p.Estimate.Fits[i];
                prow.Add(new[]
                {
                    p.Slices[i], p.TrainSizes[i].ToString(c), p.PoolSizes[i].ToString(c),
                    string.Create(c, $"{p.Curves[i].B:G4}*n^-{p.Curves[i].A:G3}"),
                    fit.IsUsable ? fit.RSquared.ToString("F3", c) : "-",
                    p.ReplacedCurves.Contains(i) ? "replaced: " + fit.Status : fit.Status.ToString(),
                    p.Plan.Amounts[i].ToString(c), p.PlanWithinPool[i].ToString(c), p.UniformWithinPool[i].ToString(c),
                });
            }
            b.AppendLine(TextTable.Render(prow));
            b.AppendLine("(plan: Slice Tuner's one-shot plan; acquired: capped at the pool, the rest of the budget planned again over the other slices)");
            b.AppendLine();
            b.AppendLine("Retrained on the acquired data (test set, mean over seeds; lower is better):");
            var orow = new List<string[]> { new[] { "method", "acquired", "loss", "avg EER", "max EER" }.Concat(p.Slices.Select(s => "loss " + s)).ToArray() };
            foreach (var o in p.Outcomes)
            {
                orow.Add(new[] { o.Method, o.Acquired.Sum().ToString(c), o.Metrics.Loss.ToString("F4", c), o.Metrics.AverageEer.ToString("F4", c), o.Metrics.MaxEer.ToString("F4", c) }
                    .Concat(o.Metrics.SliceLosses.Select(l => l.ToString("F4", c))).ToArray());
            }
            b.AppendLine(TextTable.Render(orow));
        }
        b.AppendLine();
        b.Append(string.Create(c, $"seed {Seed}, {Elapsed.TotalSeconds:F1} s"));
        return b.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => ToText();

    /// <summary>The whole report as JSON (per-slice reports in <see cref="SliceReport.ToJson"/>'s format).</summary>
    public string ToJson(bool indented = true)
    {
        static JsonNode? Interval(ConfidenceInterval? ci) => ci is { } v ? new JsonArray(v.Lower, v.Upper) : null;
        var d = Diagnosis;
        var root = new JsonObject
        {
            ["seed"] = Seed,
            ["elapsedSeconds"] = Elapsed.TotalSeconds,
            ["diagnosis"] = new JsonObject
            {
                ["rankingMetric"] = d.RankingMetric.ToString(),
                ["report"] = JsonNode.Parse(d.Report.ToJson(false)),
                ["ranking"] = new JsonArray(d.Ranking.Select(r => (JsonNode)new JsonObject
                {
                    ["slice"] = r.Name, ["support"] = r.Support, ["value"] = r.Value, ["interval"] = Interval(r.Interval), ["gap"] = r.Gap, ["clearlyBelow"] = r.ClearlyBelow,
                }).ToArray()),
                ["discovered"] = new JsonArray(d.Discovered.Select(s => (JsonNode)new JsonObject
                {
                    ["name"] = s.Name, ["conditions"] = s.Description, ["support"] = s.Support, ["errorRate"] = s.ErrorRate,
                    ["errorInterval"] = Interval(s.ErrorInterval), ["gap"] = s.Gap, ["adjustedPValue"] = s.AdjustedPValue, ["significant"] = s.IsSignificant, ["code"] = s.Code,
                }).ToArray()),
            },
        };
        if (Training is { } t)
        {
            root["training"] = new JsonObject
            {
                ["slices"] = new JsonArray(t.Slices.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
                ["vanilla"] = JsonNode.Parse(t.Vanilla.ToJson(false)),
                ["sram"] = JsonNode.Parse(t.Sram.ToJson(false)),
                ["lift"] = new JsonArray(t.Comparison.Slices.Select(l => (JsonNode)new JsonObject
                {
                    ["slice"] = l.Name, ["accuracy"] = Num(l.AccuracyLift), ["f1"] = Num(l.F1Lift),
                    ["accuracyInterval"] = Interval(l.LiftIntervals?.Accuracy), ["f1Interval"] = Interval(l.LiftIntervals?.F1),
                }).ToArray()),
            };
        }
        if (Planning is { } p)
        {
            root["planning"] = new JsonObject
            {
                ["lambda"] = p.Lambda,
                ["budget"] = p.Plan.Budget,
                ["curveTrainings"] = p.Estimate.Trainings,
                ["slices"] = new JsonArray(p.Slices.Select((s, i) => (JsonNode)new JsonObject
                {
                    ["slice"] = s, ["train"] = p.TrainSizes[i], ["pool"] = p.PoolSizes[i],
                    ["curve"] = new JsonObject { ["a"] = p.Curves[i].A, ["b"] = p.Curves[i].B },
                    ["fitStatus"] = p.Estimate.Fits[i].Status.ToString(), ["rSquared"] = Num(p.Estimate.Fits[i].RSquared), ["replaced"] = p.ReplacedCurves.Contains(i),
                    ["points"] = new JsonArray(p.Estimate.Fits[i].Points.Select(pt => (JsonNode)new JsonArray(pt.Size, Num(pt.Loss))).ToArray()),
                    ["plan"] = p.Plan.Amounts[i], ["sliceTuner"] = p.PlanWithinPool[i], ["uniform"] = p.UniformWithinPool[i],
                }).ToArray()),
                ["outcomes"] = new JsonArray(p.Outcomes.Select(o => (JsonNode)new JsonObject
                {
                    ["method"] = o.Method, ["acquired"] = new JsonArray(o.Acquired.Select(a => (JsonNode)JsonValue.Create(a)).ToArray()),
                    ["loss"] = o.Metrics.Loss, ["averageEer"] = o.Metrics.AverageEer, ["maxEer"] = o.Metrics.MaxEer,
                    ["sliceLosses"] = new JsonArray(o.Metrics.SliceLosses.Select(l => (JsonNode)JsonValue.Create(l)).ToArray()),
                }).ToArray()),
            };
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });
    }

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}
