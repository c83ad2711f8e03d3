using SliceLearning.Slicing;

namespace SliceLearning.Tests.Slicing;

public sealed class SliceStatisticsTests
{
    // 0..99: "even" 50 rows, "div3" 34 rows, overlap (div 6) 17 rows, "over200" none.
    private static SliceMatrix Matrix() => SliceSet.For<int>()
        .Add("even", i => i % 2 == 0).Add("div3", i => i % 3 == 0).Add("over200", i => i > 200)
        .Build().Apply(Enumerable.Range(0, 100).ToArray());

    [Fact]
    public void Coverage_Overlaps_AndEmptySlices_AreExact()
    {
        var stats = SliceStatistics.Compute(Matrix());
        Assert.Equal(100, stats.RowCount);
        Assert.Equal(new[] { 100, 50, 34, 0 }, stats.Coverage.Select(c => c.Count));
        Assert.Equal(0.34, stats.Coverage[2].Fraction, 12);
        Assert.Equal(17, stats.Overlap("even", "div3"));
        Assert.Equal(50, stats.Overlap("even", "even"));
        Assert.Equal(34, stats.Overlap("base", "div3"));
        Assert.Equal(0, stats.Overlap("over200", "even"));
        Assert.Equal(17.0 / (50 + 34 - 17), stats.Jaccard("even", "div3")!.Value, 12);
        Assert.Null(stats.Jaccard("over200", "over200"));
        Assert.Equal(new[] { "over200" }, stats.EmptySlices);
        // Neither even nor divisible by 3: 100 - 50 - 34 + 17 = 33.
        Assert.Equal(33, stats.RowsInNoSlice);
        var overlap = stats.OverlapMatrix();
        Assert.Equal(17, overlap[1, 2]);
        Assert.Equal(17, overlap[2, 1]);
    }

    [Fact]
    public void Table_ShowsCountsAndEmpty()
    {
        var table = SliceStatistics.Compute(Matrix()).ToTable();
        var lines = table.TrimEnd('\n').Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.Matches(@"^even\s+50\s+50\.0%\s+50\s+17\s+0$", lines[2]);
        Assert.Matches(@"^over200\s+0\s+empty\s+0\s+0\s+0$", lines[4]);
    }

    [Fact]
    public void Agreement_WithGoldColumn_IsExact()
    {
        // SF "even" vs gold "multiple of 4" on 0..99: TP 25, FP 25, FN 0, TN 50.
        var gold = Enumerable.Range(0, 100).Select(i => i % 4 == 0).ToArray();
        var a = SliceStatistics.Agreement(Matrix(), "even", gold);
        Assert.Equal(new SliceAgreement("even", 25, 25, 0, 50), a);
        Assert.Equal(0.5, a.Precision);
        Assert.Equal(1.0, a.Recall);
        Assert.Equal(50.0 / 75, a.F1!.Value, 12);
        Assert.Equal(0.75, a.Accuracy);

        var empty = SliceStatistics.Agreement(Matrix(), "over200", gold);
        Assert.Null(empty.Precision); // the SF marks nobody: undefined, not NaN
        Assert.Equal(0.0, empty.Recall);
    }

    [Fact]
    public void Agreement_BetweenMatrices_MatchesByName()
    {
        var goldRows = new bool[100, 3];
        for (int r = 0; r < 100; r++) { goldRows[r, 0] = true; goldRows[r, 1] = r % 3 == 0 && r < 50; goldRows[r, 2] = r % 10 == 0; }
        var gold = SliceMatrix.FromRows(new[] { "base", "div3", "tens" }, goldRows);
        var result = SliceStatistics.Agreement(Matrix(), gold);
        var div3 = Assert.Single(result);
        // SF div3 has 34 members; gold (div3 and < 50) has 17; all gold members are SF members.
        Assert.Equal(new SliceAgreement("div3", 17, 17, 0, 66), div3);
    }

    [Fact]
    public void Agreement_LengthMismatch_NamesSlice()
    {
        var ex = Assert.Throws<SliceDataException>(() => SliceStatistics.Agreement(Matrix(), "even", new bool[99]));
        Assert.Equal("even", ex.SliceName);
        Assert.Contains("99 rows but the slice matrix has 100", ex.Message);
    }
}
