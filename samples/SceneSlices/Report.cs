using System.Globalization;
using SliceLearning.Slicing;

namespace SceneSlices;

/// <summary>The result tables of a run.</summary>
public static class Report
{
    private static readonly double[] T95 = { double.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228 };

    /// <summary>Mean and 95% t-interval half-width of paired differences.</summary>
    public static (double Mean, double HalfWidth) PairedCi(IReadOnlyList<double> differences)
    {
        var d = differences.Where(double.IsFinite).ToArray();
        if (d.Length == 0) return (double.NaN, double.NaN);
        double mean = d.Average();
        if (d.Length == 1) return (mean, double.NaN);
        double sd = Math.Sqrt(d.Sum(x => (x - mean) * (x - mean)) / (d.Length - 1));
        double t = d.Length - 1 < T95.Length ? T95[d.Length - 1] : 1.96;
        return (mean, t * sd / Math.Sqrt(d.Length));
    }

    private static string Pts(double v) => double.IsNaN(v) ? "n/a" : (100 * v).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);

    /// <summary>Mean slice lift over VANILLA (same seed) for one method, per slice.</summary>
    public static Dictionary<string, double> MeanLift(IReadOnlyList<TrialResult> results, string method, IReadOnlyList<string> slices)
    {
        var vanilla = results.Where(r => r.Method == "VANILLA").ToDictionary(r => r.Seed);
        var rows = results.Where(r => r.Method == method && vanilla.ContainsKey(r.Seed)).ToArray();
        return slices.ToDictionary(s => s, s => rows.Length == 0 ? double.NaN : rows.Select(r => r.SliceF1[s] - vanilla[r.Seed].SliceF1[s]).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average());
    }

    public static ResultTable Methods(IReadOnlyList<TrialResult> results, IReadOnlyList<string> slices, IReadOnlyList<string> methods)
    {
        var table = new ResultTable("Methods (test set, true slices; F1 in points, mean ± std over seeds)",
            "Method", "Params", "Param inc.", "Overall F1", "Slice lift max", "Slice lift avg", "Δ overall [95% CI]", "s / run");
        var vanilla = results.Where(r => r.Method == "VANILLA").ToArray();
        long vanillaParams = vanilla.Length > 0 ? vanilla[0].Parameters : 0;
        var vanillaBySeed = vanilla.ToDictionary(r => r.Seed);
        foreach (var method in methods)
        {
            var rows = results.Where(r => r.Method == method).ToArray();
            if (rows.Length == 0) continue;
            var overall = MeanStd.Of(rows.Select(r => r.OverallF1));
            string inc = vanillaParams == 0 || method == "VANILLA" ? "-" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * (rows[0].Parameters - vanillaParams) / vanillaParams:0.#}%");
            string max = "", avg = "", delta = "";
            if (method != "VANILLA" && vanilla.Length > 0)
            {
                var lift = MeanLift(results, method, slices).Values.Where(double.IsFinite).ToArray();
                max = lift.Length > 0 ? Pts(lift.Max()) : "n/a";
                avg = lift.Length > 0 ? Pts(lift.Average()) : "n/a";
                var (m, h) = PairedCi(rows.Where(r => vanillaBySeed.ContainsKey(r.Seed)).Select(r => r.OverallF1 - vanillaBySeed[r.Seed].OverallF1).ToArray());
                delta = $"{Pts(m)} [{Pts(m - h)}, {Pts(m + h)}]";
            }
            table.Add(method, rows[0].Parameters.ToString("N0", CultureInfo.InvariantCulture), inc,
                string.Create(CultureInfo.InvariantCulture, $"{100 * overall.Mean:F1} ± {100 * overall.Std:F1}"), max, avg, delta,
                rows.Average(r => r.Seconds).ToString("F1", CultureInfo.InvariantCulture));
        }
        table.Notes.Add("Param inc.: parameters relative to VANILLA (pretrained ResNet-18 included). Slice lift: per slice, the mean over seeds of (method F1 − VANILLA F1 of the same seed); max and average over the 10 slices (the paper's Table 1 columns). Δ overall: paired by seed, t-interval.");
        return table;
    }

    public static ResultTable Slices(IReadOnlyList<TrialResult> results, IReadOnlyList<string> slices, IReadOnlyList<string> methods, SceneData data)
    {
        var headers = new List<string> { "Slice", "Test support", "Positives", "SF precision", "SF recall" };
        headers.AddRange(methods.Select(m => $"{m} F1"));
        headers.Add("SRAM − VANILLA [95% CI]");
        var table = new ResultTable("Per slice (test set, true slices; F1 in points, mean ± std over seeds)", headers.ToArray());
        var agreement = SliceStatistics.Agreement(data.Test.SfSlices, data.Test.TrueSlices).ToDictionary(a => a.Name);
        var vanilla = results.Where(r => r.Method == "VANILLA").ToDictionary(r => r.Seed);
        var truth = data.Test.TrueSlices;
        foreach (var s in new[] { "base" }.Concat(slices))
        {
            int col = truth.IndexOf(s);
            var members = truth.Members(col);
            int positives = members.Count(i => data.Test.Scenes[i].HasCyclist);
            var cells = new List<string> { s, members.Length.ToString(CultureInfo.InvariantCulture), positives.ToString(CultureInfo.InvariantCulture) };
            if (s == "base") cells.AddRange(new[] { "", "" });
            else
            {
                var a = agreement[s];
                cells.Add(a.Precision is { } p ? p.ToString("F2", CultureInfo.InvariantCulture) : "n/a");
                cells.Add(a.Recall is { } r ? r.ToString("F2", CultureInfo.InvariantCulture) : "n/a");
            }
            double F(TrialResult r) => s == "base" ? r.OverallF1 : r.SliceF1[s];
            foreach (var m in methods)
            {
                var rows = results.Where(r => r.Method == m).ToArray();
                var ms = MeanStd.Of(rows.Select(F));
                cells.Add(rows.Length == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"{100 * ms.Mean:F1} ± {100 * ms.Std:F1}"));
            }
            var sram = results.Where(r => r.Method == "SRAM" && vanilla.ContainsKey(r.Seed)).ToArray();
            if (sram.Length == 0) cells.Add("");
            else
            {
                var (mean, h) = PairedCi(sram.Select(r => F(r) - F(vanilla[r.Seed])).ToArray());
                bool sig = double.IsFinite(h) && (mean - h > 0 || mean + h < 0);
                cells.Add($"{Pts(mean)} [{Pts(mean - h)}, {Pts(mean + h)}]{(sig ? " *" : "")}");
            }
            table.Add(cells.ToArray());
        }
        table.Notes.Add("SF precision/recall: the SF (noisy detector, or mean luma for night) against the true slice on the test set. Last column: paired by seed, 95% t-interval; * = excludes 0.");
        return table;
    }
}
