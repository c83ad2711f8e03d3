using System.Text.Json;
using SliceLearning.Evaluation;
using SliceLearning.Slicing;

namespace SliceLearning.Tests.Evaluation;

public sealed class SliceReportTests
{
    // 8 rows. Slice "a" = rows 0..3, slice "b" = rows 2..7, slice "never" = no row.
    private static readonly int[] Labels = { 1, 1, 0, 0, 1, 0, 1, 0 };
    private static readonly int[] Model1 = { 1, 0, 0, 1, 1, 0, 1, 0 };
    private static readonly int[] Model2 = { 1, 1, 0, 0, 1, 0, 0, 0 };

    private static SliceMatrix Matrix()
    {
        var rows = new bool[8, 4];
        for (int r = 0; r < 8; r++)
        {
            rows[r, 0] = true;
            rows[r, 1] = r < 4;
            rows[r, 2] = r >= 2;
        }
        return SliceMatrix.FromRows(new[] { "base", "a", "b", "never" }, rows);
    }

    [Fact]
    public void Create_MatchesMetricsOfEachSlicesRows()
    {
        var report = SliceReport.Create(Matrix(), Labels, Model1, 2, new SliceReportOptions { BootstrapResamples = 200 });
        Assert.Equal(new[] { "base", "a", "b", "never" }, report.Slices.Select(s => s.Name));
        Assert.Equal(8, report.RowCount);
        Assert.Equal(ClassificationMetrics.Compute(Labels, Model1, 2), report.Overall.Metrics);
        Assert.Same(report.Overall, report["base"]);

        // Slice a: labels 1,1,0,0 vs 1,0,0,1: TP 1, FN 1, TN 1, FP 1.
        var a = report["a"];
        Assert.Equal(4, a.Support);
        Assert.Equal(0.5, a.Coverage);
        Assert.Equal(0.5, a.Metrics.Accuracy, 12);
        Assert.Equal(0.5, a.Metrics.F1, 12);
        Assert.Equal(0.0, a.Metrics.Mcc, 12);
        Assert.Equal(ClassificationMetrics.Compute(Labels[2..], Model1[2..], 2), report["b"].Metrics);
    }

    [Fact]
    public void EmptySlice_IsReportedAsEmpty_WithoutIntervalsOrNumbers()
    {
        var report = SliceReport.Create(Matrix(), Labels, Model1, 2, new SliceReportOptions { BootstrapResamples = 100 });
        var never = report["never"];
        Assert.True(never.IsEmpty);
        Assert.Equal(0, never.Support);
        Assert.Equal(0.0, never.Coverage);
        Assert.Null(never.Intervals);
        Assert.Equal(new[] { "never" }, report.EmptySlices);

        string neverLine = report.ToTable().Split('\n').Single(l => l.StartsWith("never", StringComparison.Ordinal));
        Assert.Matches(@"^never\s+0\s+0\.0%\s+empty$", neverLine);
        Assert.DoesNotContain("NaN", report.ToTable());
        Assert.DoesNotContain("NaN", report.ToCsv());
        Assert.DoesNotContain("NaN", report.ToJson());
        Assert.Contains("never,0,0,true,,,,,,,,,,,,,,,", report.ToCsv());
    }

    [Fact]
    public void Intervals_AreSeeded_ContainTheEstimate_AndDependOnTheSeed()
    {
        var rng = new Random(3);
        int n = 400;
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(2)).ToArray();
        var predictions = labels.Select(y => rng.NextDouble() < 0.8 ? y : 1 - y).ToArray();
        var rows = new bool[n, 2];
        for (int r = 0; r < n; r++) { rows[r, 0] = true; rows[r, 1] = r % 3 == 0; }
        var matrix = SliceMatrix.FromRows(new[] { "base", "third" }, rows);

        var r1 = SliceReport.Create(matrix, labels, predictions, 2, new SliceReportOptions { BootstrapResamples = 300, Seed = 1 });
        var r2 = SliceReport.Create(matrix, labels, predictions, 2, new SliceReportOptions { BootstrapResamples = 300, Seed = 1, MaxDegreeOfParallelism = 1 });
        var r3 = SliceReport.Create(matrix, labels, predictions, 2, new SliceReportOptions { BootstrapResamples = 300, Seed = 2 });
        Assert.Equal(r1["third"].Intervals, r2["third"].Intervals);
        Assert.NotEqual(r1["third"].Intervals, r3["third"].Intervals);
        foreach (var s in r1.Slices)
        {
            foreach (Metric m in Enum.GetValues<Metric>())
                Assert.True(s.Intervals!.Get(m).Contains(s.Metrics.Get(m)), $"{s.Name} {m}: {s.Metrics.Get(m)} not in {s.Intervals.Get(m)}");
        }
        // Accuracy ~0.8 on 400 rows: binomial SE ~0.02, so a 95% interval is ~0.08 wide; the
        // 134-row slice's interval is wider (~0.14).
        Assert.InRange(r1.Overall.Intervals!.Accuracy.Width, 0.06, 0.10);
        Assert.InRange(r1["third"].Intervals!.Accuracy.Width, 0.10, 0.18);
    }

    [Fact]
    public void PerfectPredictions_HaveDegenerateIntervals()
    {
        var report = SliceReport.Create(Matrix(), Labels, Labels, 2, new SliceReportOptions { BootstrapResamples = 50 });
        Assert.Equal(new ConfidenceInterval(1, 1), report["b"].Intervals!.Accuracy);
    }

    [Fact]
    public void NoResamples_MeansNoIntervals()
    {
        var report = SliceReport.Create(Matrix(), Labels, Model1, 2, new SliceReportOptions { BootstrapResamples = 0 });
        Assert.All(report.Slices, s => Assert.Null(s.Intervals));
        Assert.DoesNotContain("CI", report.ToTable());
    }

    [Fact]
    public void BadInputs_GiveClearErrors()
    {
        var matrix = Matrix();
        var ex = Assert.Throws<SliceDataException>(() => SliceReport.Create(matrix, Labels[..7], Model1, 2));
        Assert.Contains("7 labels for a slice matrix of 8 rows", ex.Message);
        ex = Assert.Throws<SliceDataException>(() => SliceReport.Create(matrix, Labels, Model1[..5], 2));
        Assert.Contains("5 predictions", ex.Message);
        var bad = (int[])Labels.Clone();
        bad[6] = 2;
        ex = Assert.Throws<SliceDataException>(() => SliceReport.Create(matrix, bad, Model1, 2));
        Assert.Equal(6, ex.Row);
        var options = Assert.Throws<ArgumentException>(() => SliceReport.Create(matrix, Labels, Model1, 2,
            new SliceReportOptions { BootstrapResamples = -1, ConfidenceLevel = 1.5 }));
        Assert.Contains("BootstrapResamples must be 0 (no intervals) or positive. Got -1.", options.Message);
        Assert.Contains("ConfidenceLevel must be in (0, 1). Got 1.5.", options.Message);
        var missing = Assert.Throws<KeyNotFoundException>(() => SliceReport.Create(matrix, Labels, Model1, 2)["nope"]);
        Assert.Contains("Slices: base, a, b, never", missing.Message);
    }

    [Fact]
    public void OptionDefaults_ArePinned()
    {
        var o = new SliceReportOptions();
        Assert.Equal(1000, o.BootstrapResamples);
        Assert.Equal(0.95, o.ConfidenceLevel);
        Assert.Equal(42, o.Seed);
        Assert.Equal(-1, o.MaxDegreeOfParallelism);
    }

    [Fact]
    public void Json_RoundTrips()
    {
        var report = SliceReport.Create(Matrix(), Labels, Model1, 2, new SliceReportOptions { BootstrapResamples = 100, Seed = 9 });
        string json = report.ToJson();
        var back = SliceReport.FromJson(json);
        Assert.False(back.HasRowData);
        Assert.True(report.HasRowData);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(report.Slices, back.Slices);
        Assert.Equal(9, back.Seed);
        Assert.Equal(100, back.BootstrapResamples);
        Assert.True(back["never"].IsEmpty);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("slices")[3].GetProperty("f1").ValueKind);
        Assert.Throws<FormatException>(() => SliceReport.FromJson("{\"numClasses\":2}"));
        Assert.Throws<FormatException>(() => SliceReport.FromJson("not json"));
        var twice = Assert.Throws<FormatException>(() => SliceReport.FromJson(json.Replace("\"name\": \"a\"", "\"name\": \"b\"", StringComparison.Ordinal)));
        Assert.Contains("slice 'b' twice", twice.Message);
    }

    [Fact]
    public void Csv_HasHeaderAndExactValues()
    {
        var report = SliceReport.Create(Matrix(), Labels, Model1, 2, new SliceReportOptions { BootstrapResamples = 0 });
        var lines = report.ToCsv().TrimEnd('\n').Split('\n');
        Assert.Equal("slice,support,coverage,empty,accuracy,accuracy_lower,accuracy_upper,precision,precision_lower,precision_upper,recall,recall_lower,recall_upper,f1,f1_lower,f1_upper,mcc,mcc_lower,mcc_upper", lines[0]);
        Assert.Equal("a,4,0.5,false,0.5,,,0.5,,,0.5,,,0.5,,,0,,", lines[2]);
        Assert.Equal(5, lines.Length);
    }

    [Fact]
    public void Table_IsAligned()
    {
        var report = SliceReport.Create(Matrix(), Labels, Model1, 2, new SliceReportOptions { BootstrapResamples = 100 });
        var lines = report.ToTable().TrimEnd('\n').Split('\n');
        Assert.StartsWith("slice  support  coverage  accuracy", lines[0]);
        Assert.Matches("^-+$", lines[1]);
        // Every non-empty row has the same width as the header (right-aligned numeric columns).
        Assert.All(new[] { lines[2], lines[3], lines[4] }, l => Assert.Equal(lines[0].Length, l.Length));
        int supportEnd = lines[0].IndexOf("support", StringComparison.Ordinal) + "support".Length;
        Assert.Equal("8", lines[2][(supportEnd - 1)..supportEnd]);
        Assert.Equal("4", lines[3][(supportEnd - 1)..supportEnd]);
    }

    [Fact]
    public void Compare_Paired_GivesLiftAndIntervals()
    {
        var options = new SliceReportOptions { BootstrapResamples = 400 };
        var r1 = SliceReport.Create(Matrix(), Labels, Model1, 2, options);
        var r2 = SliceReport.Create(Matrix(), Labels, Model2, 2, options);
        var cmp = SliceReport.Compare(r1, r2);
        Assert.Equal(ComparisonMethod.PairedBootstrap, cmp.Method);
        // Slice a: model 1 is 2/4 correct, model 2 4/4.
        Assert.Equal(0.5, cmp["a"].AccuracyLift, 12);
        // Overall: model 1 6/8, model 2 7/8.
        Assert.Equal(0.125, cmp["base"].AccuracyLift, 12);
        Assert.True(cmp["never"].IsEmpty);
        Assert.Null(cmp["never"].LiftIntervals);
        Assert.True(double.IsNaN(cmp["never"].F1Lift));
        Assert.True(cmp["a"].LiftIntervals!.Accuracy.Contains(0.5));
        Assert.True(cmp["a"].LiftIntervals!.Accuracy.Lower >= 0); // paired: model 2 is never worse on a resample of a

        var self = SliceReport.Compare(r1, r1);
        Assert.All(self.Slices.Where(s => !s.IsEmpty), s => Assert.Equal(new ConfidenceInterval(0, 0), s.LiftIntervals!.F1));
        Assert.Contains("never", cmp.ToTable());
        Assert.Contains("+0.500", cmp.ToTable(Metric.Accuracy));
        Assert.StartsWith("slice,support,empty,accuracy_baseline", cmp.ToCsv());
    }

    [Fact]
    public void Compare_FromJson_UsesIndependentNormalIntervals()
    {
        var options = new SliceReportOptions { BootstrapResamples = 400 };
        var r1 = SliceReport.FromJson(SliceReport.Create(Matrix(), Labels, Model1, 2, options).ToJson());
        var r2 = SliceReport.Create(Matrix(), Labels, Model2, 2, options);
        var cmp = SliceReport.Compare(r1, r2);
        Assert.Equal(ComparisonMethod.IndependentNormal, cmp.Method);
        double z = 1.959963984540054;
        var a1 = r1["a"].Intervals!.Accuracy;
        var a2 = r2["a"].Intervals!.Accuracy;
        double half = z * Math.Sqrt(Math.Pow(a1.Width / (2 * z), 2) + Math.Pow(a2.Width / (2 * z), 2));
        Assert.Equal(0.5 - half, cmp["a"].LiftIntervals!.Accuracy.Lower, 9);
        Assert.Equal(0.5 + half, cmp["a"].LiftIntervals!.Accuracy.Upper, 9);
    }

    [Fact]
    public void Compare_RejectsDifferentClassCounts()
    {
        var r1 = SliceReport.Create(Matrix(), Labels, Model1, 2);
        var r2 = SliceReport.Create(Matrix(), Labels, Model1, 3);
        Assert.Throws<ArgumentException>(() => SliceReport.Compare(r1, r2));
    }

    [Fact]
    public void MultiClass_ReportWorks()
    {
        int[] labels = { 0, 1, 2, 2, 1, 0, 2, 1 };
        int[] predictions = { 0, 1, 1, 2, 1, 2, 2, 0 };
        var report = SliceReport.Create(Matrix(), labels, predictions, 3, new SliceReportOptions { BootstrapResamples = 50 });
        Assert.Equal(ClassificationMetrics.Compute(labels, predictions, 3), report.Overall.Metrics);
        Assert.Equal(ClassificationMetrics.Compute(labels[..4], predictions[..4], 3), report["a"].Metrics);
    }
}
