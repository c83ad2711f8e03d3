using SliceLearning.Data.Tabular;
using SliceLearning.Evaluation;
using SliceLearning.Runtime;
using SliceLearning.Workflow;
using Xunit.Abstractions;

namespace SliceLearning.Tests.Workflow;

/// <summary>Runs the whole workflow once on the planted table; the tests check each step.</summary>
public sealed class PlantedWorkflowFixture
{
    public PlantedWorkflowFixture()
    {
        ComputeDevice.SetCpuThreads(1);
        var train = PlantedTable.Generate(2000, seed: 1);
        var featurizer = PlantedTable.Featurizer(train);
        Data = new SliceWorkflowData<TabularRow>
        {
            Train = train.Rows,
            Validation = PlantedTable.Generate(1500, seed: 2).Rows,
            Test = PlantedTable.Generate(1500, seed: 3).Rows,
            AcquisitionPool = PlantedTable.Generate(3000, seed: 4).Rows,
            Featurize = featurizer.Featurize,
            Label = PlantedTable.Label,
            Slices = PlantedTable.Slices(),
            PlanningSlices = PlantedTable.PlanningSlices(),
            DiscoveryAttributes = PlantedTable.Attributes(),
        };
        Options = new SliceWorkflowOptions
        {
            Seed = 7, HiddenWidth = 8, Epochs = 10, BatchSize = 32, BootstrapResamples = 200, WeakSliceCount = 1,
            Optimizer = SliceLearning.Training.OptimizerOptions.Adam(3e-3),
            Budget = 150, CurvePoints = 4, CurveRepeats = 1, EvaluationRepeats = 1,
        };
        var progress = new List<WorkflowProgress>();
        Report = SliceWorkflow.Create(Data, Options).Run(new SyncProgress(progress.Add));
        Progress = progress;
    }

    public SliceWorkflowData<TabularRow> Data { get; }
    public SliceWorkflowOptions Options { get; }
    public WorkflowReport Report { get; }
    public IReadOnlyList<WorkflowProgress> Progress { get; }

    private sealed class SyncProgress(Action<WorkflowProgress> report) : IProgress<WorkflowProgress>
    {
        public void Report(WorkflowProgress value) => report(value);
    }
}

[Collection("Sequential")]
public sealed class SliceWorkflowTests(PlantedWorkflowFixture fixture, ITestOutputHelper output) : IClassFixture<PlantedWorkflowFixture>
{
    private WorkflowReport Report => fixture.Report;

    [Fact]
    public void Diagnosis_RanksThePlantedSliceFirst_BelowOverall()
    {
        output.WriteLine(Report.ToText());
        var first = Report.Diagnosis.Ranking[0];
        Assert.Equal(PlantedTable.PlantedName, first.Name);
        Assert.True(first.ClearlyBelow, $"the planted slice's interval {first.Interval} should lie below overall");
        Assert.True(first.Gap < -0.2, $"gap {first.Gap}");
    }

    [Fact]
    public void Discovery_RanksThePlantedConjunctionFirst_WithPasteableCode()
    {
        var top = Report.Diagnosis.Discovered[0];
        Assert.Equal("A = a1 AND B = b2", top.Description);
        Assert.Equal("A_a1__B_b2", top.Name);
        Assert.True(top.IsSignificant);
        Assert.Equal(".Add(\"A_a1__B_b2\", r => r[\"A\"] == \"a1\" && r[\"B\"] == \"b2\")", top.Code);
        Assert.True(top.ErrorInterval.Lower > Report.Diagnosis.Report.Overall.Metrics.Accuracy - 1 + top.Gap / 2);
    }

    [Fact]
    public void Sram_LiftsThePlantedSlice()
    {
        var training = Assert.IsType<TrainingStepResult>(Report.Training);
        Assert.Equal(new[] { PlantedTable.PlantedName }, training.Slices);
        var lift = training.Comparison[PlantedTable.PlantedName];
        output.WriteLine($"planted: vanilla {lift.Baseline.Accuracy:F3}, SRAM {lift.Candidate.Accuracy:F3}; overall vanilla {training.Vanilla.Overall.Metrics.Accuracy:F3}, SRAM {training.Sram.Overall.Metrics.Accuracy:F3}; epochs {training.Training.EpochsRun}");
        Assert.True(lift.AccuracyLift > 0.2, $"vanilla {lift.Baseline.Accuracy:F3}, SRAM {lift.Candidate.Accuracy:F3}");
        Assert.True(lift.IsSignificant(Metric.Accuracy));
        Assert.True(training.Sram.Overall.Metrics.Accuracy >= training.Vanilla.Overall.Metrics.Accuracy - 0.02);
    }

    [Fact]
    public void Planner_GivesThePlantedSliceTheMostData_AndLowersItsLoss()
    {
        var planning = Assert.IsType<PlanningResult>(Report.Planning);
        int planted = planning.Slices.ToList().IndexOf(PlantedTable.PlantedName);
        Assert.Equal(planning.Plan.Amounts.Max(), planning.Plan.Amounts[planted]);
        Assert.True(planning.Plan.Amounts[planted] > planning.Uniform.Amounts[planted]);
        Assert.Equal(planning.PoolSizes[planted], planning.PlanWithinPool[planted]);
        Assert.Equal(150, planning.PlanWithinPool.Sum());
        Assert.Equal(150, planning.UniformWithinPool.Sum());
        var before = planning.Outcomes.Single(o => o.Method == "original").Metrics;
        var after = planning.Outcomes.Single(o => o.Method == "Slice Tuner").Metrics;
        Assert.True(after.SliceLosses[planted] < before.SliceLosses[planted]);
        Assert.True(after.AverageEer < before.AverageEer);
    }

    [Fact]
    public void Report_HasProgressForEveryStage_AndJson()
    {
        foreach (var stage in Enum.GetValues<WorkflowStage>())
            Assert.Contains(fixture.Progress, p => p.Stage == stage);
        using var json = System.Text.Json.JsonDocument.Parse(Report.ToJson());
        Assert.Equal("A_a1__B_b2", json.RootElement.GetProperty("diagnosis").GetProperty("discovered")[0].GetProperty("name").GetString());
        Assert.Equal(5, json.RootElement.GetProperty("planning").GetProperty("slices").GetArrayLength());
        Assert.Contains("== 3. Plan", Report.ToText());
    }

    [Fact]
    public void WithinPool_GivesASmallPoolEverything_AndReplansTheRest()
    {
        // Plan 'all to slice 0' while it fits; slice 0's pool holds 40 of 100.
        var amounts = SliceWorkflow<int>.WithinPool(new[] { 40, 500, 500 }, 100, (active, budget) =>
            active.Select((s, j) => j == 0 ? (int)budget : 0).ToArray());
        Assert.Equal(new[] { 40, 60, 0 }, amounts);
        var uniform = SliceWorkflow<int>.WithinPool(new[] { 10, 500, 500 }, 100, (active, budget) =>
            SliceLearning.SliceTuner.AcquisitionBaselines.Uniform(active.Length, budget).Amounts);
        Assert.Equal(new[] { 10, 45, 45 }, uniform);
    }

    [Fact]
    public void Run_IsCancellable()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => SliceWorkflow.Create(fixture.Data, fixture.Options).Run(cancellationToken: cts.Token));
    }

    [Fact]
    public void InvalidOptions_ListEveryProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => SliceWorkflow.Create(fixture.Data, new SliceWorkflowOptions { Epochs = 0, CurvePoints = 2, Lambda = -1 }));
        Assert.Contains("Invalid SliceWorkflowOptions:", e.Message);
        Assert.Contains("- Epochs must be at least 1. Got 0.", e.Message);
        Assert.Contains("- CurvePoints must be at least 3", e.Message);
        Assert.Contains("- Lambda must be", e.Message);
    }
}
