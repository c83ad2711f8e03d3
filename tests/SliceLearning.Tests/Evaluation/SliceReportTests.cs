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
        // Seeded: the exact percentile bounds of the 400 paired resamples, and the same bounds from a
        // naive bootstrap that draws the rows of slice a one by one from the same per-resample streams.
        var lift = cmp["a"].LiftIntervals!;
        // On a, model 2 gains exactly on rows 1 and 3: a resample's lift is (draws of rows 1 or 3) / 4,
        // Binomial(4, 1/2) / 4, whose 2.5% and 97.5% quantiles are 0 and 1 (P(0) = P(4) = 1/16 > 2.5%).
        Assert.Equal(new ConfidenceInterval(0, 1), lift.Accuracy);
        Assert.Equal(new ConfidenceInterval(0, 1), lift.F1);
        Assert.Equal(new ConfidenceInterval(-0.25, 0.625), cmp["base"].LiftIntervals!.Accuracy);
        Assert.Equal(-1, cmp["b"].LiftIntervals!.Mcc.Lower, 12);
        Assert.Equal(0.683772233983162, cmp["b"].LiftIntervals!.Mcc.Upper, 12);
        var naive = NaivePairedAccuracyLift(rows: [0, 1, 2, 3], column: 1, resamples: 400, seed: 42);
        Assert.Equal(naive.Lower, lift.Accuracy.Lower, 12);
        Assert.Equal(naive.Upper, lift.Accuracy.Upper, 12);
        var naiveBase = NaivePairedAccuracyLift(rows: [0, 1, 2, 3, 4, 5, 6, 7], column: 0, resamples: 400, seed: 42);
        Assert.Equal(naiveBase, cmp["base"].LiftIntervals!.Accuracy);

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
        // Slice a: model 1's accuracy interval is [0, 1] (4 rows, 2 right), model 2's is [1, 1] (always
        // right), so the lift 0.5 gets z · sqrt((1 / 2z)² + 0²) = 0.5 on each side: [0, 1].
        Assert.Equal(new ConfidenceInterval(0, 1), r1["a"].Intervals!.Accuracy);
        Assert.Equal(new ConfidenceInterval(1, 1), r2["a"].Intervals!.Accuracy);
        Assert.Equal(0.0, cmp["a"].LiftIntervals!.Accuracy.Lower, 12);
        Assert.Equal(1.0, cmp["a"].LiftIntervals!.Accuracy.Upper, 12);
        // Overall F1: 0.75 (model 1) and 6/7 (model 2), a lift of 3/28 inside the seeded bounds.
        Assert.Equal(-0.4937823554344746, cmp["base"].LiftIntervals!.F1.Lower, 12);
        Assert.Equal(0.7080680697201888, cmp["base"].LiftIntervals!.F1.Upper, 12);
        Assert.Equal(3.0 / 28, cmp["base"].F1Lift, 12);
        // Independent intervals ignore that the two models err on the same rows: wider than paired.
        var paired = SliceReport.Compare(SliceReport.Create(Matrix(), Labels, Model1, 2, options), r2);
        Assert.True(cmp["base"].LiftIntervals!.F1.Width > paired["base"].LiftIntervals!.F1.Width);
    }

    /// <summary>
    /// A percentile bootstrap of the accuracy lift (Model2 − Model1) written out: resample b draws
    /// |rows| rows with replacement from the stream (SliceSeed(seed ^ 0x2a2a, column), b).
    /// </summary>
    private static ConfidenceInterval NaivePairedAccuracyLift(int[] rows, int column, int resamples, int seed)
    {
        var lifts = new double[resamples];
        int streamSeed = Bootstrap.SliceSeed(seed ^ 0x2a2a, column);
        for (int b = 0; b < resamples; b++)
        {
            var random = new Bootstrap.SplitMix64(streamSeed, b);
            int right1 = 0, right2 = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                int r = rows[random.Below(rows.Length)];
                if (Model1[r] == Labels[r]) right1++;
                if (Model2[r] == Labels[r]) right2++;
            }
            lifts[b] = (right2 - right1) / (double)rows.Length;
        }
        Array.Sort(lifts);
        // Central 95%: linear interpolation between order statistics at 0.025 (n - 1) and 0.975 (n - 1).
        double Quantile(double q)
        {
            double position = q * (resamples - 1);
            int lower = (int)Math.Floor(position);
            return lifts[lower] + (lifts[Math.Min(lower + 1, resamples - 1)] - lifts[lower]) * (position - lower);
        }
        return new ConfidenceInterval(Quantile(0.025), Quantile(0.975));
    }

    [Fact]
    public void IsSignificant_ExactlyWhenTheLiftIntervalExcludesZero()
    {
        // 40 rows: model 2 is right on every row, model 1 wrong on the 20 rows of slice "fixed" and
        // right elsewhere; slice "same" holds 20 rows where both are right.
        int n = 40;
        var labels = Enumerable.Range(0, n).Select(i => i % 2).ToArray();
        var better = labels.ToArray();
        var worse = labels.Select((l, i) => i < 20 ? 1 - l : l).ToArray();
        var rows = new bool[n, 3];
        for (int r = 0; r < n; r++) { rows[r, 0] = true; rows[r, 1] = r < 20; rows[r, 2] = r >= 20; }
        var matrix = SliceMatrix.FromRows(new[] { "base", "fixed", "same" }, rows);
        var options = new SliceReportOptions { BootstrapResamples = 200 };
        var cmp = SliceReport.Compare(SliceReport.Create(matrix, labels, worse, 2, options), SliceReport.Create(matrix, labels, better, 2, options));
        // fixed: every resample has lift 1; same: every resample 0; base: 20 of 40 rows gain 1, and
        // Binomial(40, 1/2) / 40 is far from 0 at the 2.5% quantile.
        Assert.Equal(new ConfidenceInterval(1, 1), cmp["fixed"].LiftIntervals!.Accuracy);
        Assert.True(cmp["fixed"].IsSignificant(Metric.Accuracy));
        Assert.Equal(new ConfidenceInterval(0, 0), cmp["same"].LiftIntervals!.Accuracy);
        Assert.False(cmp["same"].IsSignificant(Metric.Accuracy));
        Assert.True(cmp["base"].LiftIntervals!.Accuracy.Lower > 0.25);
        Assert.True(cmp["base"].IsSignificant(Metric.Accuracy));
        // The table marks significant lifts with '*'.
        var table = cmp.ToTable(Metric.Accuracy).Split('\n');
        Assert.EndsWith("*", table.Single(l => l.StartsWith("fixed", StringComparison.Ordinal)).TrimEnd());
        Assert.DoesNotContain("*", table.Single(l => l.StartsWith("same", StringComparison.Ordinal)));
        // Without intervals nothing is significant, however large the lift.
        var none = new SliceReportOptions { BootstrapResamples = 0 };
        var noIntervals = SliceReport.Compare(SliceReport.Create(matrix, labels, worse, 2, none), SliceReport.Create(matrix, labels, better, 2, none));
        Assert.Equal(1.0, noIntervals["fixed"].AccuracyLift);
        Assert.Null(noIntervals["fixed"].LiftIntervals);
        Assert.False(noIntervals["fixed"].IsSignificant(Metric.Accuracy));
    }

    [Fact]
    public void Compare_OtherLabels_FallsBackToIndependentIntervals()
    {
        // Same rows and slices, but other labels: the rows are not the same evaluation set, so no pairing.
        var options = new SliceReportOptions { BootstrapResamples = 400 };
        var otherLabels = Labels.Select(l => 1 - l).ToArray();
        var r1 = SliceReport.Create(Matrix(), Labels, Model1, 2, options);
        var r2 = SliceReport.Create(Matrix(), otherLabels, Model2, 2, options);
        var cmp = SliceReport.Compare(r1, r2);
        Assert.Equal(ComparisonMethod.IndependentNormal, cmp.Method);
        var fromJson = SliceReport.Compare(SliceReport.FromJson(r1.ToJson()), r2);
        Assert.Equal(fromJson["a"].LiftIntervals, cmp["a"].LiftIntervals);
        Assert.Equal(fromJson["base"].LiftIntervals, cmp["base"].LiftIntervals);
    }

    [Fact]
    public void Compare_RejectsReportsWithNoSliceInCommon()
    {
        var r1 = SliceReport.Create(Matrix(), Labels, Model1, 2, new SliceReportOptions { BootstrapResamples = 0 });
        string renamed = r1.ToJson();
        foreach (var name in new[] { "base", "a", "b", "never" })
            renamed = renamed.Replace($"\"name\": \"{name}\"", $"\"name\": \"other-{name}\"", StringComparison.Ordinal);
        var r2 = SliceReport.FromJson(renamed);
        Assert.Equal(new[] { "other-base", "other-a", "other-b", "other-never" }, r2.Slices.Select(s => s.Name));
        var ex = Assert.Throws<ArgumentException>(() => SliceReport.Compare(r1, r2));
        Assert.StartsWith("The two reports have no slice in common.", ex.Message);
        Assert.Equal("candidate", ex.ParamName);
        // One common slice is enough; the comparison holds only the common ones, in the baseline's order.
        var partly = SliceReport.FromJson(renamed.Replace("\"name\": \"other-a\"", "\"name\": \"a\"", StringComparison.Ordinal));
        Assert.Equal(new[] { "a" }, SliceReport.Compare(r1, partly).Slices.Select(s => s.Name));
    }

    [Fact]
    public void Compare_RejectsDifferentClassCounts()
    {
        var r1 = SliceReport.Create(Matrix(), Labels, Model1, 2);
        var r2 = SliceReport.Create(Matrix(), Labels, Model1, 3);
        var ex = Assert.Throws<ArgumentException>(() => SliceReport.Compare(r1, r2));
        Assert.StartsWith("The baseline has 2 classes but the candidate has 3.", ex.Message);
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
