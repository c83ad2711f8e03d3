using System.Globalization;
using System.Text;
using MathNet.Numerics.Distributions;

namespace RealDataSlices;

/// <summary>Mean ± std over seeds and the seed-paired 95% t interval of SRAM − VANILLA, overall and per slice.</summary>
public static class Summary
{
    private static string F(double v) => double.IsNaN(v) ? "–" : v.ToString("0.000", CultureInfo.InvariantCulture);
    private static string S(double v) => double.IsNaN(v) ? "–" : v.ToString("+0.000;−0.000;0.000", CultureInfo.InvariantCulture);

    public static (double Mean, double Std) MeanStd(IReadOnlyList<double> x)
    {
        var v = x.Where(d => !double.IsNaN(d)).ToArray();
        if (v.Length == 0) return (double.NaN, double.NaN);
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(d => (d - mean) * (d - mean)) / (v.Length - 1)) : 0;
        return (mean, std);
    }

    /// <summary>Mean difference and its two-sided 95% Student-t interval over paired seeds.</summary>
    public static (double Mean, double Low, double High) PairedInterval(IReadOnlyList<double> differences)
    {
        var (mean, std) = MeanStd(differences);
        int n = differences.Count(d => !double.IsNaN(d));
        if (n < 2) return (mean, double.NaN, double.NaN);
        double half = StudentT.InvCDF(0, 1, n - 1, 0.975) * std / Math.Sqrt(n);
        return (mean, mean - half, mean + half);
    }

    /// <summary>A markdown table for one data set and protocol.</summary>
    public static string Table(IReadOnlyList<RunResult> results, IReadOnlyDictionary<string, int> positives, string baseline = "vanilla", string candidate = "sram")
    {
        var b = results.Where(r => r.Model == baseline).OrderBy(r => r.Seed).ToList();
        var c = results.Where(r => r.Model == candidate).OrderBy(r => r.Seed).ToList();
        var sb = new StringBuilder();
        if (b.Count == 0 || c.Count == 0) return "";
        var seeds = b.Select(r => r.Seed).Intersect(c.Select(r => r.Seed)).ToArray();
        var slices = b[0].Report.Slices.Select(s => s.Name).ToArray();
        sb.AppendLine($"| slice | test n | positives | {baseline.ToUpperInvariant()} F1 | {candidate.ToUpperInvariant()} F1 | Δ F1 [95% CI] | {candidate.ToUpperInvariant()} better | own attention |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var name in slices)
        {
            var bf = seeds.Select(s => b.First(r => r.Seed == s).Report[name]).ToArray();
            var cf = seeds.Select(s => c.First(r => r.Seed == s).Report[name]).ToArray();
            var x = bf.Select(m => m.IsEmpty ? double.NaN : m.Metrics.F1).ToArray();
            var y = cf.Select(m => m.IsEmpty ? double.NaN : m.Metrics.F1).ToArray();
            var d = x.Zip(y, (p, q) => q - p).ToArray();
            var (bm, bs) = MeanStd(x);
            var (cm, cs) = MeanStd(y);
            var (dm, lo, hi) = PairedInterval(d);
            bool significant = !double.IsNaN(lo) && (lo > 0 || hi < 0);
            int wins = d.Count(v => v > 0);
            var att = seeds.Select(s => c.First(r => r.Seed == s).Attention).Where(a => a is not null && a.ContainsKey(name)).Select(a => a![name].Own).ToArray();
            string label = name == "base" ? "overall" : name;
            
            sb.AppendLine($"| {label} | {bf[0].Support} | {positives.GetValueOrDefault(name)} | {F(bm)} ± {F(bs)} | {F(cm)} ± {F(cs)} | {S(dm)} [{S(lo)}, {S(hi)}]{(significant ? " *" : "")} | {wins}/{seeds.Length} | {(att.Length == 0 ? "–" : F(att.Average()))} |");
        }
        var bp = b[0].Parameters; var cp = c[0].Parameters;
        sb.AppendLine();
        sb.AppendLine($"Parameters: {baseline.ToUpperInvariant()} {bp:N0}, {candidate.ToUpperInvariant()} {cp:N0}; epochs run (mean): {b.Average(r => r.EpochsRun):0.#} / {c.Average(r => r.EpochsRun):0.#}, " +
            $"scored epoch (mean): {b.Average(r => r.BestEpoch):0.#} / {c.Average(r => r.BestEpoch):0.#}; seconds per fit (mean): {b.Average(r => r.Seconds):0.0} / {c.Average(r => r.Seconds):0.0}.");
        return sb.ToString();
    }

    /// <summary>One CSV line per (run, slice).</summary>
    public static string Csv(IEnumerable<RunResult> results)
    {
        var sb = new StringBuilder("dataset,protocol,model,seed,slice,support,f1,accuracy,mcc,parameters,epochs_run,scored_epoch,seconds,own_attention,base_attention\n");
        foreach (var r in results)
            foreach (var s in r.Report.Slices)
            {
                var (own, bas) = r.Attention is { } a && a.TryGetValue(s.Name, out var v) ? v : (double.NaN, double.NaN);
                sb.AppendLine(string.Join(',', r.Dataset, r.Protocol.ToString().ToLowerInvariant(), r.Model, r.Seed.ToString(CultureInfo.InvariantCulture), s.Name,
                    s.Support.ToString(CultureInfo.InvariantCulture), Inv(s.IsEmpty ? double.NaN : s.Metrics.F1), Inv(s.IsEmpty ? double.NaN : s.Metrics.Accuracy),
                    Inv(s.IsEmpty ? double.NaN : s.Metrics.Mcc), r.Parameters.ToString(CultureInfo.InvariantCulture), r.EpochsRun.ToString(CultureInfo.InvariantCulture),
                    r.BestEpoch.ToString(CultureInfo.InvariantCulture), Inv(r.Seconds), Inv(own), Inv(bas)));
            }
        return sb.ToString();
    }

    private static string Inv(double v) => double.IsNaN(v) ? "" : v.ToString("0.#####", CultureInfo.InvariantCulture);
}
