using SliceLearning.Data.Tabular;

namespace SliceLearning.Tests.Data.Tabular;

public sealed class TabularTests
{
    private static TabularTable Small() => new(new[] { "SEX", "AGE", "N" }, new[]
    {
        new[] { "M", "18-24", "1" },
        new[] { "F", "25-34", "3" },
        new[] { "F", null, "" },
        new[] { "F", "18-24", "5" },
    });

    [Fact]
    public void Featurizer_OneHots_Scales_AndFlagsMissing()
    {
        var t = Small();
        var f = TabularFeaturizer.Fit(t.Rows, new TabularFeaturizerOptions { Categorical = { "SEX", "AGE" }, Numeric = { "N" } });
        Assert.Equal(new[] { "SEX=F", "SEX=M", "AGE=18-24", "AGE=25-34", "AGE=(missing)", "N", "N=(missing)" }, f.FeatureNames);
        Assert.Equal(7, f.Width);
        // N: values 1, 3, 5 -> mean 3, sample sd 2.
        Assert.Equal(new float[] { 0, 1, 1, 0, 0, -1, 0 }, f.Featurize(t.Rows[0]));
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0, 1 }, f.Featurize(t.Rows[2]));
        using var x = f.ToTensor(t.Rows);
        Assert.Equal(new long[] { 4, 7 }, x.shape);
        Assert.Equal(1f, x[3, 5].item<float>());
    }

    [Fact]
    public void Featurizer_UnseenAndRareValues_ShareOther()
    {
        var t = Small();
        var f = TabularFeaturizer.Fit(t.Rows, new TabularFeaturizerOptions { Categorical = { "SEX" }, MinCategoryCount = 2 });
        Assert.Equal(new[] { "SEX=F", "SEX=(other)" }, f.FeatureNames);
        var other = new TabularTable(new[] { "SEX" }, new[] { new[] { "X" } });
        Assert.Equal(new float[] { 0, 1 }, f.Featurize(other.Rows[0]));
    }

    [Fact]
    public void Featurizer_NamesTheBadColumnAndRow()
    {
        var t = new TabularTable(new[] { "N" }, new[] { new[] { "1" }, new[] { "abc" } });
        var e = Assert.Throws<SliceDataException>(() => TabularFeaturizer.Fit(t.Rows, new TabularFeaturizerOptions { Numeric = { "N" } }));
        Assert.Contains("Column 'N' is numeric but row 1 holds 'abc'", e.Message);
        Assert.Equal(1, e.Row);
        var e2 = Assert.Throws<SliceDataException>(() => TabularFeaturizer.Fit(t.Rows, new TabularFeaturizerOptions { Categorical = { "Q" } }));
        Assert.Contains("Column 'Q' is not in the table", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => TabularFeaturizer.Fit(t.Rows, new TabularFeaturizerOptions { Categorical = { "N" }, Numeric = { "N" }, MinCategoryCount = 0 }));
        Assert.Contains("- Column 'N' is in both Categorical and Numeric.", e3.Message);
        Assert.Contains("- MinCategoryCount must be at least 1. Got 0.", e3.Message);
    }

    [Fact]
    public void ReadCsv_ReadsRFields_QuotesAndMissing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tabular-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "\"A\",\"B\"\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",\n");
        try
        {
            var t = TabularTable.ReadCsv(path);
            Assert.Equal(new[] { "A", "B" }, t.Columns);
            Assert.Equal(2, t.Count);
            Assert.Equal("x, y", t.Rows[0]["A"]);
            Assert.Equal("say \"hi\"", t.Rows[0]["B"]);
            Assert.Equal("multi\nline", t.Rows[1]["A"]);
            Assert.Null(t.Rows[1]["B"]);
            Assert.Single(t.WithoutMissing().Rows);
            var e = Assert.Throws<KeyNotFoundException>(() => t.Rows[0]["C"]);
            Assert.Contains("Columns: A, B", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Table_RejectsRaggedRows()
    {
        var e = Assert.Throws<SliceDataException>(() => new TabularTable(new[] { "A", "B" }, new[] { new[] { "1", "2" }, new[] { "1" } }));
        Assert.Contains("Row 1 has 1 cells but the table has 2 columns", e.Message);
        Assert.Throws<FileNotFoundException>(() => TabularTable.ReadCsv("/nonexistent/x.csv"));
    }
}
