using SliceLearning.Runtime;

namespace RealDataSlices.Tests;

/// <summary>
/// Each data set end to end on a tiny subset (the first rows of each split, 2 epochs, 1 seed):
/// the installed data loads, the slices apply, both models train and the results are written.
/// Needs the data: bash scripts/get-data.sh modeldata credit-g.
/// </summary>
public class EndToEndTests
{
    [Theory]
    [InlineData("churn", 120)]
    [InlineData("attrition", 120)]
    [InlineData("credit", 120)]
    [InlineData("foods", 24)]
    public async Task RunsOnATinySubset(string dataset, int limit)
    {
        ComputeDevice.SetCpuThreads(1);
        var output = new DirectoryInfo(Path.Combine(Path.GetTempPath(), $"realdata-{dataset}-{Guid.NewGuid():N}"));
        var console = new StringWriter();
        try
        {
            int code = await Runner.Run(new[] { dataset }, new[] { 1, 2 }, new[] { Protocol.Fixed, Protocol.Early }, Experiment.Models,
                new RunSettings(Epochs: 2, MaxEpochs: 3, Patience: 1), limit, Tasks.DataDirectory(null), output, new[] { "--dataset", dataset }, console);
            Assert.Equal(0, code);
            string md = File.ReadAllText(Path.Combine(output.FullName, "results.md"));
            Assert.Contains($"## {dataset}", md);
            Assert.Contains("| overall |", md);
            Assert.Contains("fixed 2 epochs", md);
            Assert.Contains("early stopping", md);
            var csv = File.ReadAllLines(Path.Combine(output.FullName, "runs.csv"));
            var task = Tasks.Load(dataset, Tasks.DataDirectory(null), limit);
            // 2 protocols x 2 models x 2 seeds, one line per slice (base included), plus the header.
            Assert.Equal(1 + 8 * (task.Slices.Count + 1), csv.Length);
            Assert.All(csv.Skip(1), line => Assert.StartsWith(dataset + ",", line));
        }
        finally
        {
            if (output.Exists) output.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TrainCurveScoresEveryTenthEpoch_AndItsLastLineIsTheScoredModel()
    {
        ComputeDevice.SetCpuThreads(1);
        var output = new DirectoryInfo(Path.Combine(Path.GetTempPath(), $"realdata-curve-{Guid.NewGuid():N}"));
        string curve = Path.Combine(output.FullName, "curve.csv");
        output.Create();
        try
        {
            int code = await Runner.Run(new[] { "credit" }, new[] { 1 }, new[] { Protocol.Fixed }, Experiment.Models,
                new RunSettings(Epochs: 20, TrainCurvePath: curve), 120, Tasks.DataDirectory(null), output, new[] { "--dataset", "credit" }, new StringWriter());
            Assert.Equal(0, code);
            var lines = File.ReadAllLines(curve).Select(l => l.Split(',')).ToArray();
            // 2 models x epochs 10 and 20.
            Assert.Equal(new[] { "vanilla/10", "vanilla/20", "sram/10", "sram/20" }, lines.Select(f => f[2] + "/" + f[4]));
            Assert.All(lines, f =>
            {
                Assert.Equal(9, f.Length);
                Assert.Equal(("credit", "fixed", "1"), (f[0], f[1], f[3]));
                Assert.All(f[5..], v => Assert.InRange(double.Parse(v, System.Globalization.CultureInfo.InvariantCulture), 0.0, 1.0));
            });
            // The epoch-20 test F1 is the score of the model the fixed protocol reports.
            var runs = File.ReadAllLines(Path.Combine(output.FullName, "runs.csv")).Skip(1).Select(l => l.Split(','))
                .Where(f => f[4] == "base").ToDictionary(f => f[2], f => double.Parse(f[6], System.Globalization.CultureInfo.InvariantCulture));
            foreach (var f in lines.Where(f => f[4] == "20"))
                Assert.InRange(double.Parse(f[6], System.Globalization.CultureInfo.InvariantCulture), runs[f[2]] - 1e-4, runs[f[2]] + 1e-4);
        }
        finally
        {
            if (output.Exists) output.Delete(recursive: true);
        }
    }

    [Fact]
    public void TasksHaveTheDocumentedShapes()
    {
        var dir = Tasks.DataDirectory(null);
        var churn = Tasks.Churn(dir);
        Assert.Equal(5000, churn.Train.Count + churn.Validation.Count + churn.Test.Count);
        Assert.Equal(6, churn.Slices.Count);
        var attrition = Tasks.Attrition(dir);
        Assert.Equal(1470, attrition.Train.Count + attrition.Validation.Count + attrition.Test.Count);
        Assert.Equal(237, attrition.Train.Concat(attrition.Validation).Concat(attrition.Test).Count(r => attrition.Label(r) == 1));
        var credit = Tasks.Credit(dir);
        Assert.Equal(1000, credit.Train.Count + credit.Validation.Count + credit.Test.Count);
        Assert.Equal(300, credit.Train.Concat(credit.Validation).Concat(credit.Test).Count(r => credit.Label(r) == 1));
        Assert.Equal(61, credit.FeatureWidth);
    }
}
