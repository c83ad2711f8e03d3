using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;
using SliceLearning.Evaluation;
using Spectre.Console;

namespace TextSamples;

/// <summary>Prints the tables and writes the results folder (CSV, JSON, Markdown, PNG).</summary>
public static class Reporting
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static string F(double v, string format = "F1") => double.IsFinite(v) ? v.ToString(format, Inv) : "–";

    private static string Signed(double v) => double.IsFinite(v) ? (v >= 0 ? "+" : "") + v.ToString("F1", Inv) : "–";

    /// <summary>The paper's Table 1 shape as Markdown.</summary>
    public static string SummaryMarkdown(ExperimentResult r)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| Method | Param inc. | Overall {r.MetricName} (± std) | Slice lift max | Slice lift avg | train examples/s | s/step |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in r.Summary)
        {
            string inc = row.Method == "VANILLA" ? "–" : (row.ParamIncrease * 100).ToString("F0", Inv) + "%";
            string max = double.IsFinite(row.MaxLift) ? $"{Signed(row.MaxLift)} ({row.MaxLiftSlice})" : "–";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {row.Method} | {inc} | {F(row.OverallMean)} (± {F(row.OverallStd)}) | {max} | {Signed(row.AvgLift)} | {F(row.ExamplesPerSecond)} | {F(row.SecondsPerStep, "F3")} |");
        }
        return sb.ToString();
    }

    /// <summary>Per slice: support, mean score of every method, and SRAM − VANILLA with the paired bootstrap CI of the first seed.</summary>
    public static string SliceMarkdown(ExperimentResult r)
    {
        var methods = r.Summary.Select(s => s.Method).ToArray();
        var sb = new StringBuilder();
        var first = r.SramVsVanilla.OrderBy(kv => kv.Key).Select(kv => kv.Value).FirstOrDefault();
        Metric metric = Enum.Parse<Metric>(r.MetricName);
        int pairedSeeds = r.Trials.Where(t => t.Method == "SRAM").Select(t => t.Seed).Intersect(r.Trials.Where(t => t.Method == "VANILLA").Select(t => t.Seed)).Count();
        bool overSeeds = pairedSeeds >= 2;
        string seedColumn = overSeeds ? $" SRAM − VANILLA, mean over {pairedSeeds} seeds [95% t-interval] |" : "";
        sb.AppendLine($"| Slice | Test support | {string.Join(" | ", methods)} | SRAM − VANILLA (seed {r.SramVsVanilla.Keys.DefaultIfEmpty(0).Min()}), 95% paired CI |{seedColumn}");
        sb.AppendLine($"| --- | ---: | {string.Join(" | ", methods.Select(_ => "---:"))} | --- |{(overSeeds ? " --- |" : "")}");
        foreach (var name in r.SliceNames)
        {
            var cells = methods.Select(m => F(r.Trials.Where(t => t.Method == m).Select(t => t.Slice[name] * 100).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average()));
            string ci = "–";
            if (first is not null && first.Slices.FirstOrDefault(x => x.Name == name) is { } lift && !lift.IsEmpty)
            {
                ci = Signed(lift.Lift(metric) * 100);
                if (lift.LiftIntervals is { } iv)
                {
                    var c = iv.Get(metric);
                    ci += $" [{Signed(c.Lower * 100)}, {Signed(c.Upper * 100)}]{(lift.IsSignificant(metric) ? " *" : "")}";
                }
            }
            string seeds = "";
            if (overSeeds)
            {
                var d = SeedDifference(r, name);
                seeds = d is { } x ? $" {Signed(x.Mean)} [{Signed(x.Lower)}, {Signed(x.Upper)}]{(x.Lower > 0 || x.Upper < 0 ? " *" : "")} |" : " – |";
            }
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {r.TestSupport[name]} | {string.Join(" | ", cells)} | {ci} |{seeds}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// SRAM − VANILLA on <paramref name="slice"/> × 100, paired by seed: the mean over the seeds both ran and
    /// its 95% Student-t interval (n − 1 degrees of freedom); null with fewer than 2 finite pairs.
    /// </summary>
    public static (double Mean, double Lower, double Upper)? SeedDifference(ExperimentResult r, string slice)
    {
        ArgumentNullException.ThrowIfNull(r);
        var vanilla = r.Trials.Where(t => t.Method == "VANILLA").ToDictionary(t => t.Seed);
        var d = r.Trials.Where(t => t.Method == "SRAM" && vanilla.ContainsKey(t.Seed))
            .Select(t => (t.Slice[slice] - vanilla[t.Seed].Slice[slice]) * 100).Where(double.IsFinite).ToArray();
        if (d.Length < 2) return null;
        double mean = d.Average();
        double sd = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (d.Length - 1));
        double half = StudentT975(d.Length - 1) * sd / Math.Sqrt(d.Length);
        return (mean, mean - half, mean + half);
    }

    /// <summary>The 0.975 quantile of Student's t with <paramref name="df"/> degrees of freedom (1.96 beyond 30).</summary>
    public static double StudentT975(int df)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(df, 1);
        double[] table = { 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042 };
        return df <= table.Length ? table[df - 1] : 1.96;
    }

    public static void Print(ExperimentResult r, IAnsiConsole console)
    {
        var table = new Table().Title($"{r.Task}: overall {r.MetricName} × 100 (mean ± std over seeds), slice lift over VANILLA in points").Border(TableBorder.Rounded);
        table.AddColumns("Method", "Param inc.", "Overall (± std)", "Lift max", "Lift avg", "ex/s", "s/step");
        foreach (var row in r.Summary)
            table.AddRow(row.Method, row.Method == "VANILLA" ? "–" : (row.ParamIncrease * 100).ToString("F0", Inv) + "%", $"{F(row.OverallMean)} (± {F(row.OverallStd)})",
                double.IsFinite(row.MaxLift) ? Markup.Escape($"{Signed(row.MaxLift)} ({row.MaxLiftSlice})") : "–", Signed(row.AvgLift), F(row.ExamplesPerSecond), F(row.SecondsPerStep, "F3"));
        console.Write(table);
        console.WriteLine();
        console.WriteLine(SliceMarkdown(r));
        foreach (var t in r.Trials.Where(t => t.Note is not null)) console.MarkupLine(Markup.Escape($"{t.Method} seed {t.Seed}: {t.Note}"));
    }

    public static void Write(ExperimentResult r, string folder, bool plots)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "table.md"), SummaryMarkdown(r) + Environment.NewLine + SliceMarkdown(r));
        var summary = new StringBuilder("method,param_increase,overall_mean,overall_std,max_lift,max_lift_slice,avg_lift,examples_per_second,seconds_per_step,parameters\n");
        foreach (var s in r.Summary)
            summary.AppendLine(string.Join(',', s.Method, F(s.ParamIncrease, "F4"), F(s.OverallMean, "F2"), F(s.OverallStd, "F2"), F(s.MaxLift, "F2"), s.MaxLiftSlice, F(s.AvgLift, "F2"),
                F(s.ExamplesPerSecond, "F2"), F(s.SecondsPerStep, "F4"), s.Parameters.ToString(Inv)));
        File.WriteAllText(Path.Combine(folder, "summary.csv"), summary.ToString());
        var slices = new StringBuilder($"method,seed,slice,support,{r.MetricName.ToLowerInvariant()}\n");
        foreach (var t in r.Trials)
            foreach (var n in r.SliceNames)
                slices.AppendLine(string.Join(',', t.Method, t.Seed.ToString(Inv), n, r.TestSupport[n].ToString(Inv), F(t.Slice[n], "F4")));
        File.WriteAllText(Path.Combine(folder, "slices.csv"), slices.ToString());
        foreach (var (seed, cmp) in r.SramVsVanilla) File.WriteAllText(Path.Combine(folder, $"sram-vs-vanilla-seed{seed}.csv"), cmp.ToCsv());
        var json = new
        {
            r.Task,
            r.MetricName,
            r.CacheSeconds,
            r.FullModelParameters,
            Summary = r.Summary,
            Trials = r.Trials.Select(t => new { t.Method, t.Seed, t.Parameters, t.Overall, t.OverallF1, t.OverallMcc, Slices = t.Slice.ToDictionary(kv => kv.Key, kv => double.IsFinite(kv.Value) ? kv.Value : (double?)null), t.TrainSeconds, t.WarmStartSeconds, t.ExamplesPerSecond, t.SecondsPerStep, t.Note, t.Sram, t.Trace }),
            SramMinusVanillaOverSeeds = r.SliceNames.Select(n => (Name: n, D: SeedDifference(r, n))).Where(x => x.D is not null)
                .ToDictionary(x => x.Name, x => new { x.D!.Value.Mean, x.D.Value.Lower, x.D.Value.Upper }),
            TestSupport = r.TestSupport,
        };
        File.WriteAllText(Path.Combine(folder, "results.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        if (plots) WritePlots(r, folder);
    }

    private static void WritePlots(ExperimentResult r, string folder)
    {
        var overall = new Plot();
        var rows = r.Summary.ToArray();
        var bars = overall.Add.Bars(rows.Select(x => x.OverallMean).ToArray());
        overall.Add.ErrorBar(Enumerable.Range(0, rows.Length).Select(i => (double)i).ToArray(), rows.Select(x => x.OverallMean).ToArray(), rows.Select(x => x.OverallStd).ToArray());
        overall.Axes.Bottom.SetTicks(Enumerable.Range(0, rows.Length).Select(i => (double)i).ToArray(), rows.Select(x => x.Method).ToArray());
        overall.Title($"{r.Task}: overall {r.MetricName} × 100");
        overall.SavePng(Path.Combine(folder, "overall.png"), 640, 420);

        var first = r.SramVsVanilla.OrderBy(kv => kv.Key).Select(kv => kv.Value).FirstOrDefault();
        if (first is null) return;
        Metric metric = Enum.Parse<Metric>(r.MetricName);
        var lifts = first.Slices.Where(x => !x.IsEmpty).ToArray();
        var lift = new Plot();
        var ys = lifts.Select(x => x.Lift(metric) * 100).ToArray();
        lift.Add.Bars(ys);
        var lo = lifts.Select((x, i) => x.LiftIntervals is { } iv ? ys[i] - iv.Get(metric).Lower * 100 : 0).ToArray();
        var hi = lifts.Select((x, i) => x.LiftIntervals is { } iv ? iv.Get(metric).Upper * 100 - ys[i] : 0).ToArray();
        var err = new ScottPlot.Plottables.ErrorBar(Enumerable.Range(0, ys.Length).Select(i => (double)i).ToArray(), ys, null, null, lo, hi);
        lift.Add.Plottable(err);
        err.Color = Colors.Black;
        lift.Axes.Bottom.SetTicks(Enumerable.Range(0, ys.Length).Select(i => (double)i).ToArray(), lifts.Select(x => x.Name).ToArray());
        lift.Axes.Bottom.TickLabelStyle.Rotation = 45;
        lift.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        lift.Axes.Bottom.MinimumSize = 120;
        lift.Title($"{r.Task}: SRAM − VANILLA {r.MetricName} × 100 per slice (95% paired bootstrap CI)");
        lift.SavePng(Path.Combine(folder, "slice-lift.png"), 900, 520);
    }
}
