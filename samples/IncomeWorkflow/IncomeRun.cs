using System.Globalization;
using SliceLearning.Data.Tabular;
using SliceLearning.Runtime;
using SliceLearning.Workflow;

namespace IncomeWorkflow;

/// <summary>The sample's run: load, split, featurize, run the workflow, write the report and plots.</summary>
internal static class IncomeRun
{
    public static WorkflowReport Run(IncomeRunSettings s, TextWriter log, CancellationToken cancellationToken = default)
    {
        ComputeDevice.SetCpuThreads(s.Threads);
        var table = IncomeData.Load(s.Data);
        if (s.Rows > 0 && s.Rows < table.Count)
        {
            var order = Enumerable.Range(0, table.Count).ToArray();
            new Random(s.Seed).Shuffle(order);
            table = table.Select(order.Take(s.Rows));
        }
        var (train, validation, test, pool) = IncomeData.Split(table, s.Seed, train: 0.40, validation: 0.15, test: 0.20);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"income survey: {table.Count} rows, {table.Rows.Count(r => IncomeData.IsHigh(r) == 1)} with income >= $50k; train {train.Length}, validation {validation.Length}, test {test.Length}, acquisition pool {pool.Length}"));

        // One-hot features for an MLP backbone, fitted on the training rows only.
        var featurizer = TabularFeaturizer.Fit(train, new TabularFeaturizerOptions { Categorical = IncomeData.FeatureColumns(table).ToList() });
        log.WriteLine($"features: {featurizer.Width} (one-hot of {IncomeData.FeatureColumns(table).Length} columns, with missing-value flags)");

        var data = new SliceWorkflowData<TabularRow>
        {
            Train = train,
            Validation = validation,
            Test = test,
            AcquisitionPool = pool,
            Featurize = featurizer.Featurize,
            Label = IncomeData.IsHigh,
            Slices = IncomeData.DiagnosisSlices(),
            PlanningSlices = IncomeData.PlanningSlices(),
            DiscoveryAttributes = IncomeData.DiscoveryAttributes(table),
        };
        var options = new SliceWorkflowOptions
        {
            Seed = s.Seed,
            HiddenWidth = s.Hidden,
            Epochs = s.Epochs,
            CurveEpochs = s.CurveEpochs,
            BootstrapResamples = s.Bootstrap,
            DiscoveredSlicesForTraining = s.Discovered,
            Budget = s.Budget,
            Lambda = s.Lambda,
            CurvePoints = s.CurvePoints,
            CurveRepeats = s.CurveRepeats,
            EvaluationRepeats = s.EvaluationRepeats,
        };
        WorkflowStage? stage = null;
        var progress = new InlineProgress(p =>
        {
            if (p.Stage != stage || p.Stage == WorkflowStage.EstimateCurves && p.Completed > 0 || p.Stage == WorkflowStage.Acquire)
            {
                stage = p.Stage;
                log.WriteLine($"[{p.Stage}] {p.Message}");
            }
        });
        var report = SliceWorkflow.Create(data, options).Run(progress, cancellationToken);

        Directory.CreateDirectory(s.Output);
        File.WriteAllText(Path.Combine(s.Output, "report.txt"), report.ToText() + Environment.NewLine);
        File.WriteAllText(Path.Combine(s.Output, "report.json"), report.ToJson());
        Plots.WriteAll(report, s.Output);
        return report;
    }

    private sealed class InlineProgress(Action<WorkflowProgress> report) : IProgress<WorkflowProgress>
    {
        public void Report(WorkflowProgress value) => report(value);
    }
}
