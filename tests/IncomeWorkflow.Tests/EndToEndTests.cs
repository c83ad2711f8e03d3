using System.Text.Json;

namespace IncomeWorkflow.Tests;

/// <summary>
/// The sample on a tiny subset of the real income survey (installed by scripts/data/income.sh,
/// which CI runs): every step runs and every output is written. Never skipped: without the data
/// it fails with the install command.
/// </summary>
[Collection("Sequential")]
public sealed class EndToEndTests
{
    [Fact]
    public void TinyRun_DiagnosesTrainsPlans_AndWritesTheReport()
    {
        string data = IncomeData.DefaultPath();
        Assert.True(File.Exists(data), $"The income survey is not installed at {data}; run `bash scripts/get-data.sh income`.");
        var output = Directory.CreateTempSubdirectory("income-workflow-test");
        try
        {
            var settings = new IncomeRunSettings
            {
                Data = data, Output = output.FullName, Rows = 1200, Epochs = 2, CurveEpochs = 2, Hidden = 16, Budget = 60,
                CurvePoints = 3, CurveRepeats = 1, EvaluationRepeats = 1, Bootstrap = 50, Discovered = 1,
            };
            var report = IncomeRun.Run(settings, TextWriter.Null);

            Assert.Equal(IncomeData.DiagnosisSlices().SliceNames, report.Diagnosis.Report.Slices.Select(s => s.Name));
            Assert.NotEmpty(report.Diagnosis.Ranking);
            Assert.NotNull(report.Diagnosis.DiscoveryCode);
            var training = Assert.IsType<SliceLearning.Workflow.TrainingStepResult>(report.Training);
            Assert.NotEmpty(training.Slices);
            var planning = Assert.IsType<SliceLearning.Workflow.PlanningResult>(report.Planning);
            Assert.Equal(60, planning.PlanWithinPool.Sum());
            Assert.Equal(new[] { "original", "Slice Tuner", "uniform" }, planning.Outcomes.Select(o => o.Method));

            foreach (var file in new[] { "diagnosis.png", "sram-lift.png", "learning-curves.png", "acquisition.png" })
                Assert.True(new FileInfo(Path.Combine(output.FullName, file)).Length > 1000, file);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.FullName, "report.json")));
            Assert.Equal(42, json.RootElement.GetProperty("seed").GetInt32());
            Assert.Contains("== 3. Plan", File.ReadAllText(Path.Combine(output.FullName, "report.txt")));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact]
    public void MissingData_SaysHowToInstallIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => IncomeData.Load("/nonexistent/income.csv"));
        Assert.Contains("bash scripts/get-data.sh income", e.Message);
    }

    [Fact]
    public void Arguments_AreParsed_AndUnknownOnesRejected()
    {
        var s = IncomeRunSettings.Parse(new[] { "--rows", "100", "--lambda", "0.5" })!;
        Assert.Equal(100, s.Rows);
        Assert.Equal(0.5, s.Lambda);
        Assert.Null(IncomeRunSettings.Parse(new[] { "--help" }));
        var e = Assert.Throws<ArgumentException>(() => IncomeRunSettings.Parse(new[] { "--bogus", "1" }));
        Assert.Contains("Unknown option '--bogus'", e.Message);
    }
}
