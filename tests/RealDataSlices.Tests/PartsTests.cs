using SliceLearning.Models;
using SliceLearning.Modules;

namespace RealDataSlices.Tests;

public class PartsTests
{
    private static Table Sample() => new("sample", new[] { "x", "color", "y" }, new List<string[]>
    {
        new[] { "1", "red", "a" }, new[] { "3", "blue", "b" }, new[] { "5", "red", "a" }, new[] { "7", "green", "b" },
    });

    [Fact]
    public void FeaturizerStandardisesNumbersAndOneHotsCategories()
    {
        var table = Sample();
        var featurizer = new TabularFeaturizer(table.Rows, new[] { "x", "color" });
        Assert.Equal(1 + 3, featurizer.Width);   // x, then blue / green / red
        var f = featurizer.Featurize(table.Rows[0]);
        double std = Math.Sqrt(5.0);             // population std of 1, 3, 5, 7
        Assert.Equal((float)((1 - 4) / std), f[0], 5);
        Assert.Equal(new float[] { 0, 0, 1 }, f[1..]);
        var unseen = new Row(table.Columns, new[] { "4", "purple", "a" }, 9);
        Assert.Equal(new float[] { 0, 0, 0 }, featurizer.Featurize(unseen)[1..]);
    }

    [Fact]
    public void StratifiedSplitKeepsLabelSharesAndIsSeeded()
    {
        var header = new[] { "label" };
        var rows = Enumerable.Range(0, 1000).Select(i => new[] { i % 5 == 0 ? "1" : "0" }).ToList();
        var table = new Table("t", header, rows);
        int Label(Row r) => r["label"] == "1" ? 1 : 0;
        var (train, validation, test) = Splits.Stratified(table.Rows, Label, 0.6, 0.2, 7);
        Assert.Equal(600, train.Count);
        Assert.Equal(200, validation.Count);
        Assert.Equal(200, test.Count);
        Assert.Equal(120, train.Count(r => Label(r) == 1));
        Assert.Equal(40, test.Count(r => Label(r) == 1));
        Assert.Empty(train.Select(r => r.Id).Intersect(test.Select(r => r.Id)));
        var again = Splits.Stratified(table.Rows, Label, 0.6, 0.2, 7);
        Assert.Equal(train.Select(r => r.Id), again.Train.Select(r => r.Id));
    }

    [Fact]
    public void ArffReaderTrimsQuotes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"realdata-{Guid.NewGuid():N}.arff");
        File.WriteAllText(path, "% comment\n@relation r\n@attribute a numeric\n@attribute 'b' {x, 'y z'}\n@data\n1,'y z'\n% c\n2,x\n");
        try
        {
            var t = Table.ReadArff(path);
            Assert.Equal(new[] { "a", "b" }, t.Header);
            Assert.Equal("y z", t.Rows[0]["b"]);
            Assert.Equal(2.0, t.Rows[1].Num("a"));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void SramOptionsAreSetByName()
    {
        var options = new SliceAwareOptions();
        Experiment.ApplyOptions(options, Experiment.ParseAssignments(new[] { "ExpertSize=32", "temperature=0.5", "Attention=Uniform" }));
        Assert.Equal(32L, options.ExpertSize);
        Assert.Equal(0.5, options.Temperature);
        Assert.Equal(AttentionVariant.Uniform, options.Attention);
        Experiment.ApplyOptions(options, Experiment.ParseAssignments(new[] { "ExpertSize=null" }));
        Assert.Null(options.ExpertSize);
        var unknown = Assert.Throws<ArgumentException>(() => Experiment.ApplyOptions(options, Experiment.ParseAssignments(new[] { "Bogus=1" })));
        Assert.Contains("Bogus", unknown.Message);
        var bad = Assert.Throws<ArgumentException>(() => Experiment.ApplyOptions(options, Experiment.ParseAssignments(new[] { "Temperature=warm" })));
        Assert.Contains("Temperature", bad.Message);
        Assert.Throws<ArgumentException>(() => Experiment.ParseAssignments(new[] { "ExpertSize" }));
    }

    [Fact]
    public void PairedIntervalIsStudentT()
    {
        var (mean, low, high) = Summary.PairedInterval(new[] { 0.1, 0.2, 0.3 });
        Assert.Equal(0.2, mean, 10);
        // t(0.975, 2) = 4.302653, std = 0.1, n = 3
        Assert.Equal(0.2 - 4.302653 * 0.1 / Math.Sqrt(3), low, 5);
        Assert.Equal(0.2 + 4.302653 * 0.1 / Math.Sqrt(3), high, 5);
    }

    [Fact]
    public void MissingDataNamesTheInstallScript()
    {
        string empty = Path.Combine(Path.GetTempPath(), $"realdata-empty-{Guid.NewGuid():N}");
        var e = Assert.Throws<FileNotFoundException>(() => Tasks.Load("credit", empty));
        Assert.Contains("scripts/get-data.sh credit-g", e.Message);
        var m = Assert.Throws<FileNotFoundException>(() => Tasks.Load("churn", empty));
        Assert.Contains("scripts/get-data.sh modeldata", m.Message);
    }
}
