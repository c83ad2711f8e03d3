using System.Globalization;
using SliceLearning.Data.Synthetic;
using SliceLearning.Models;
using SliceLearning.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SyntheticSlices;

/// <summary>The paper's synthetic experiments (section 3.3, Figures 1, 3, 4, 5) and the many-slices stress test.</summary>
internal sealed class Experiments(Lab lab, Action<string> step)
{
    private static readonly string[] TwoSlices = { "s1", "s2" };
    private const long PaperWidth = 13;

    private RunSettings S => lab.Settings;
    private IEnumerable<int> Seeds => Enumerable.Range(S.FirstSeed, S.Seeds);
    private string Png(string name) => Path.Combine(S.Output.FullName, name);

    public static int Trials(RunSettings s, char experiment) => experiment switch
    {
        'a' => s.Seeds * 5,
        'b' => s.Seeds * 6,
        'c' => s.Seeds * 3,
        'd' => s.Seeds * s.Widths.Count * 3,
        'e' => s.Seeds * (SliceCounts(s).Count + 1),
        _ => 0,
    };

    public static IReadOnlyList<int> SliceCounts(RunSettings s) =>
        new[] { 2, 16, 64, 256 }.Where(k => k <= s.ManySlicesMax).Append(Math.Max(2, s.ManySlicesMax)).Distinct().Order().ToArray();

    private static ITrainableModel Vanilla(long width) => VanillaModel.Create(Lab.Backbone(width), width, 2);

    /// <summary>SRAM with the library's default options (h = d), or with the given attention variant (the paper's formula: Full, trained end to end).</summary>
    private static ITrainableModel Sram(long width, IReadOnlyList<string> slices, AttentionVariant? attention = null) =>
        SliceAwareModel.Create(Lab.Backbone(width), width, 2, slices, o =>
        {
            o.ExpertSize = width;
            if (attention is AttentionVariant variant && variant != AttentionVariant.LearnedOdds)
            {
                o.UsePaperAttention();
                o.Attention = variant;
            }
        });

    /// <summary>Cache key of a run on the default 2-slice task.</summary>
    private static string Key(string method, long width, int seed) => $"{method}|two-slice|d={width}|seed={seed}";

    // ---------------------------------------------------------------- (a)
    public IReadOnlyList<ResultTable> MethodsOnTwoSlices()
    {
        var results = new List<TrialResult>();
        foreach (int seed in Seeds)
        {
            using var data = lab.Data(new SyntheticSliceOptions(), seed);
            bool plot = S.Plots && seed == S.FirstSeed;
            var vanillaValidation = default(SliceLearning.Evaluation.SliceReport);
            double[]? vanillaGrid = null;
            step($"(a) seed {seed}: VANILLA");
            results.Add(lab.CachedTrial(Key("VANILLA", PaperWidth, seed), "VANILLA", () => Vanilla(PaperWidth), data, seed, TwoSlices, m =>
            {
                vanillaValidation = Lab.Evaluate(m, data.Validation);
                if (plot) vanillaGrid = GridProbability(m);
            }));
            step($"(a) seed {seed}: HPS");
            results.Add(lab.CachedTrial(Key("HPS", PaperWidth, seed), "HPS", () => HardParameterSharingModel.Create(Lab.Backbone(PaperWidth), PaperWidth, 2, data.SliceNames), data, seed, TwoSlices));
            step($"(a) seed {seed}: MANUAL (4 values of α)");
            results.Add(lab.Manual(data, seed, PaperWidth, vanillaValidation!, TwoSlices));
            step($"(a) seed {seed}: MoE");
            results.Add(lab.CachedTrial(Key("MoE", PaperWidth, seed), "MoE", () => MixtureOfExpertsModel.Create(() => Lab.Backbone(PaperWidth), PaperWidth, 2, data.SliceNames), data, seed, TwoSlices));
            step($"(a) seed {seed}: SRAM");
            results.Add(lab.CachedTrial(Key("SRAM", PaperWidth, seed), "SRAM", () => Sram(PaperWidth, data.SliceNames), data, seed, TwoSlices, m =>
            {
                if (!plot) return;
                Plots.Data(Png("data.png"), data.Generator, data.Splits.Train);
                Plots.Heatmaps(Png("regions.png"), data.Generator.Regions, new[]
                {
                    ("VANILLA: P(class 1)", (IReadOnlyList<double>)vanillaGrid!),
                    ("SRAM: P(class 1)", GridProbability(m)),
                });
                var attention = GridSram((SliceAwareModel)m, o => o.AttentionWeights);
                Plots.Heatmaps(Png("attention.png"), data.Generator.Regions, data.SliceNames.Select((name, c) =>
                    ($"SRAM attention on the '{name}' expert", (IReadOnlyList<double>)attention.Select(row => row[c]).ToArray())).ToArray());
            }));
        }

        var table = MethodTable("(a) Methods on the 2-slice task (test set, true slices; mean ± std over seeds)", results, TwoSlices);
        var sram = results.Where(r => r.Method == "SRAM").ToArray();
        var vanilla = results.Where(r => r.Method == "VANILLA").ToArray();
        var s1 = MeanStd.Of(sram.Select(r => r.SliceF1["s1"]));
        var s2 = MeanStd.Of(sram.Select(r => r.SliceF1["s2"]));
        var overall = MeanStd.Of(sram.Zip(vanilla, (a, b) => a.OverallF1 - b.OverallF1));
        bool met = s1.Mean >= 0.87 && s2.Mean >= 0.87 && s1.Std <= 0.03 && s2.Std <= 0.03 && overall.Mean >= 0;
        table.Notes.Add($"Goal (SRAM slice F1 >= 0.87 on both slices with std <= 0.03, overall not below VANILLA): s1 {s1.Score}, s2 {s2.Score}, overall lift {overall.Points} -> {(met ? "met" : "MISSED")}.");
        table.Notes.Add("MANUAL choices per seed: " + string.Join("; ", results.Where(r => r.Method == "MANUAL").Select(r => $"seed {r.Seed}: {r.Note}")) + ".");
        return new[] { table };
    }

    /// <summary>Rows per method: parameters, overall and per-slice F1, and lifts over the same seed's VANILLA.</summary>
    private static ResultTable MethodTable(string title, List<TrialResult> results, IReadOnlyList<string> slices, string? settingHeader = null, Func<TrialResult, string>? setting = null)
    {
        var headers = new List<string> { "Method" };
        if (settingHeader is not null) headers.Add(settingHeader);
        headers.AddRange(new[] { "Params", "Overall F1" });
        headers.AddRange(slices.Select(s => $"{s} F1"));
        var vanilla = results.Where(r => r.Method == "VANILLA").ToDictionary(r => r.Seed);
        if (vanilla.Count > 0) headers.AddRange(new[] { "Δ overall (pts)", "Δ slice avg (pts)" });
        headers.Add("s / run");
        var table = new ResultTable(title, headers.ToArray());
        foreach (var group in results.GroupBy(r => (r.Method, Setting: setting?.Invoke(r) ?? "")))
        {
            var rows = group.ToArray();
            var cells = new List<string> { group.Key.Method };
            if (settingHeader is not null) cells.Add(group.Key.Setting);
            cells.Add(rows[0].Parameters.ToString("N0", CultureInfo.InvariantCulture));
            cells.Add(MeanStd.Of(rows.Select(r => r.OverallF1)).Score);
            cells.AddRange(slices.Select(s => MeanStd.Of(rows.Select(r => r.SliceF1[s])).Score));
            if (vanilla.Count > 0)
            {
                bool paired = rows.All(r => vanilla.ContainsKey(r.Seed));
                cells.Add(paired ? MeanStd.Of(rows.Select(r => r.OverallF1 - vanilla[r.Seed].OverallF1)).Points : "");
                cells.Add(paired ? MeanStd.Of(rows.Select(r => slices.Average(s => r.SliceF1[s] - vanilla[r.Seed].SliceF1[s]))).Points : "");
            }
            cells.Add(rows.Average(r => r.Seconds).ToString("F1", CultureInfo.InvariantCulture));
            table.Add(cells.ToArray());
        }
        return table;
    }

    // ---------------------------------------------------------------- (b)
    /// <summary>Figure 3's task: four slices of random size (1-4%), shape and place along the boundary, noisy SFs.</summary>
    public static SyntheticSliceOptions FourRandomSlices()
    {
        var rng = new Random(3);
        double[] along = { -0.66, -0.22, 0.22, 0.66 };
        var slices = along.Select((t, i) => new SyntheticSliceRegion(
            $"r{i + 1}", rng.Next(2) == 0 ? SliceShape.Disc : SliceShape.Square, t, t, Math.Round(0.01 + 0.03 * rng.NextDouble(), 3), Label: 1)).ToList();
        return new SyntheticSliceOptions { Slices = slices };
    }

    public IReadOnlyList<ResultTable> AttentionAblation()
    {
        var options = FourRandomSlices();
        var names = options.Slices.Select(s => s.Name).ToArray();
        var results = new List<TrialResult>();
        foreach (int seed in Seeds)
        {
            using var data = lab.Data(options, seed);
            step($"(b) seed {seed}: VANILLA");
            results.Add(lab.Trial("VANILLA", () => Vanilla(PaperWidth), data, seed, names));
            foreach (var variant in new[] { AttentionVariant.Uniform, AttentionVariant.IndicatorOnly, AttentionVariant.ConfidenceOnly, AttentionVariant.Full, AttentionVariant.LearnedOdds })
            {
                step($"(b) seed {seed}: SRAM {variant}");
                results.Add(lab.Trial($"SRAM {variant}", () => Sram(PaperWidth, data.SliceNames, variant), data, seed, names));
            }
        }
        var table = MethodTable("(b) Attention ablation (Figure 3): four random slices, SF noise 0.15", results, names);
        table.Notes.Add("SRAM Uniform, IndicatorOnly, ConfidenceOnly and Full are the paper's ablation, trained end to end (AttentionBackpropagation.IndicatorsAndExperts); SRAM LearnedOdds is the library's default configuration.");
        table.Notes.Add("Slices: " + string.Join(", ", options.Slices.Select(s => $"{s.Name} {s.Shape.ToString().ToLowerInvariant()} {100 * s.Fraction:0.#}% at ({s.CenterX}, {s.CenterY})")) + ".");
        return new[] { table };
    }

    // ---------------------------------------------------------------- (c)
    public IReadOnlyList<ResultTable> NoisySfs()
    {
        var table = new ResultTable("(c) Noisy SFs (Figure 5): SF noise on s1 (s2 stays at 0.15), SRAM",
            "s1 SF noise", "Overall F1", "s1 F1", "s2 F1", "P(s1) true members", "P(s1) SF false positives", "P(s1) elsewhere", "attn s1 (members)", "attn s1 (elsewhere)");
        var panels = new List<(string, IReadOnlyList<double>)>();
        SyntheticSliceGenerator? generator = null;
        foreach (double noise in new[] { 0.15, 0.4, 0.8 })
        {
            var options = new SyntheticSliceOptions
            {
                Slices = new List<SyntheticSliceRegion>
                {
                    new("s1", SliceShape.Disc, -0.45, -0.45, 0.03, SfNoise: noise, Label: 1),
                    new("s2", SliceShape.Disc, 0.45, 0.45, 0.03, Label: 1),
                },
            };
            var rows = new List<(TrialResult Result, double[] Stats)>();
            foreach (int seed in Seeds)
            {
                using var data = lab.Data(options, seed);
                generator = data.Generator;
                double[] stats = Array.Empty<double>();
                step($"(c) s1 noise {noise:0.##}, seed {seed}: SRAM");
                var result = lab.Trial("SRAM", () => Sram(PaperWidth, data.SliceNames), data, seed, TwoSlices, m =>
                {
                    var model = (SliceAwareModel)m;
                    stats = IndicatorStats(model, data);
                    if (S.Plots && seed == S.FirstSeed)
                    {
                        var p = GridSram(model, o => o.IndicatorLogits.sigmoid());
                        panels.Add(($"s1 SF noise {noise:0.##}: P(s1)", p.Select(row => row[1]).ToArray()));
                    }
                });
                rows.Add((result, stats));
            }
            table.Add(noise.ToString("0.##", CultureInfo.InvariantCulture),
                MeanStd.Of(rows.Select(r => r.Result.OverallF1)).Score,
                MeanStd.Of(rows.Select(r => r.Result.SliceF1["s1"])).Score,
                MeanStd.Of(rows.Select(r => r.Result.SliceF1["s2"])).Score,
                MeanStd.Of(rows.Select(r => r.Stats[0])).Score,
                MeanStd.Of(rows.Select(r => r.Stats[1])).Score,
                MeanStd.Of(rows.Select(r => r.Stats[2])).Score,
                MeanStd.Of(rows.Select(r => r.Stats[3])).Score,
                MeanStd.Of(rows.Select(r => r.Stats[4])).Score);
        }
        table.Notes.Add("P(s1): the learned indicator's sigmoid output on test points; SF false positives are the test points the noisy SF marks outside the true disc; 'elsewhere' is every point outside the disc. attn s1: the attention weight on the s1 expert.");
        if (S.Plots && panels.Count > 0) Plots.Heatmaps(Png("noisy-indicator.png"), generator!.Regions, panels);
        return new[] { table };
    }

    /// <summary>[P(s1) on true members, on SF false positives, elsewhere, attention on s1 for members, elsewhere] on the test set.</summary>
    private static double[] IndicatorStats(SliceAwareModel model, DataBundle data)
    {
        var test = data.Splits.Test;
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.eval();
        using var output = model.Run(data.Test.Features);
        var p = output.IndicatorLogits.select(1, 1).sigmoid().data<float>().ToArray();
        var a = output.AttentionWeights.select(1, 1).data<float>().ToArray();
        var members = new List<int>(); var falsePositives = new List<int>(); var elsewhere = new List<int>();
        for (int i = 0; i < test.Count; i++)
        {
            if (test.TrueSlices[i, 1]) members.Add(i);
            else
            {
                elsewhere.Add(i);
                if (test.SfSlices[i, 1]) falsePositives.Add(i);
            }
        }
        double Mean(float[] v, List<int> rows) => rows.Count == 0 ? double.NaN : rows.Average(r => (double)v[r]);
        return new[] { Mean(p, members), Mean(p, falsePositives), Mean(p, elsewhere), Mean(a, members), Mean(a, elsewhere) };
    }

    // ---------------------------------------------------------------- (d)
    public IReadOnlyList<ResultTable> HiddenSizeSweep()
    {
        var results = new List<(long Width, TrialResult Result)>();
        foreach (int width in S.Widths)
        {
            foreach (int seed in Seeds)
            {
                using var data = lab.Data(new SyntheticSliceOptions(), seed);
                step($"(d) width {width}, seed {seed}: SRAM");
                results.Add((width, lab.CachedTrial(Key("SRAM", width, seed), "SRAM", () => Sram(width, data.SliceNames), data, seed, TwoSlices)));
                step($"(d) width {width}, seed {seed}: HPS");
                results.Add((width, lab.CachedTrial(Key("HPS", width, seed), "HPS", () => HardParameterSharingModel.Create(Lab.Backbone(width), width, 2, data.SliceNames), data, seed, TwoSlices)));
                step($"(d) width {width}, seed {seed}: MoE");
                results.Add((width, lab.CachedTrial(Key("MoE", width, seed), "MoE", () => MixtureOfExpertsModel.Create(() => Lab.Backbone(width), width, 2, data.SliceNames), data, seed, TwoSlices)));
            }
        }
        var byWidth = results.Select(r => r.Result with { Note = r.Width.ToString(CultureInfo.InvariantCulture) }).ToList();
        var table = MethodTable("(d) Hidden size sweep (Figure 4): backbone width d = expert size h", byWidth, TwoSlices, "d", r => r.Note!);
        if (S.Plots)
        {
            var widths = S.Widths.Select(w => (double)w).ToArray();
            Plots.Lines(Png("hidden-size.png"), "Mean slice F1 (s1, s2) vs hidden size", "hidden size d", "slice F1",
                new[] { "SRAM", "HPS", "MoE" }.Select(method => (method, widths,
                    S.Widths.Select(w => MeanStd.Of(results.Where(r => r.Width == w && r.Result.Method == method).Select(r => r.Result.SliceF1.Values.Average()))).ToArray())).ToArray());
        }
        return new[] { table };
    }

    // ---------------------------------------------------------------- (e)
    public IReadOnlyList<ResultTable> ManySlices()
    {
        var results = new List<TrialResult>();
        foreach (int seed in Seeds)
        {
            using (var data = lab.Data(new SyntheticSliceOptions(), seed))
            {
                step($"(e) seed {seed}: VANILLA");
                results.Add(lab.CachedTrial(Key("VANILLA", PaperWidth, seed), "VANILLA", () => Vanilla(PaperWidth), data, seed, TwoSlices) with { Note = "-" });
            }
            foreach (int k in SliceCounts(S))
            {
                using var data = lab.Data(new SyntheticSliceOptions { BenignSliceCount = k - 2 }, seed);
                step($"(e) seed {seed}: SRAM with k = {k}");
                var result = k == 2
                    ? lab.CachedTrial(Key("SRAM", PaperWidth, seed), "SRAM", () => Sram(PaperWidth, data.SliceNames), data, seed, TwoSlices)
                    : lab.Trial("SRAM", () => Sram(PaperWidth, data.SliceNames), data, seed, TwoSlices);
                results.Add(result with { Note = k.ToString(CultureInfo.InvariantCulture) });
            }
        }
        var table = MethodTable("(e) Many slices: s1, s2 plus k - 2 benign SFs (3% discs, SF noise 0.15)", results, TwoSlices, "k", r => r.Note!);
        var last = SliceCounts(S).Where(k => k <= 64).Max();
        var atK = results.Where(r => r.Method == "SRAM" && r.Note == last.ToString(CultureInfo.InvariantCulture)).ToArray();
        var s1 = MeanStd.Of(atK.Select(r => r.SliceF1["s1"]));
        var s2 = MeanStd.Of(atK.Select(r => r.SliceF1["s2"]));
        table.Notes.Add($"Goal (both real slices >= 0.85 at k = 64): at k = {last}: s1 {s1.Score}, s2 {s2.Score} -> {(last == 64 && s1.Mean >= 0.85 && s2.Mean >= 0.85 ? "met" : "MISSED")}.");
        if (S.Plots)
        {
            var ks = SliceCounts(S).Select(k => (double)k).ToArray();
            Plots.Lines(Png("many-slices.png"), "SRAM slice F1 as benign SFs are added", "k (SFs)", "F1",
                TwoSlices.Select(s => ($"SRAM {s}", ks, SliceCounts(S).Select(k => MeanStd.Of(results.Where(r => r.Method == "SRAM" && r.Note == k.ToString(CultureInfo.InvariantCulture)).Select(r => r.SliceF1[s]))).ToArray()))
                .Append(("SRAM overall", ks, SliceCounts(S).Select(k => MeanStd.Of(results.Where(r => r.Method == "SRAM" && r.Note == k.ToString(CultureInfo.InvariantCulture)).Select(r => r.OverallF1))).ToArray()))
                .ToArray(), logX: true);
        }
        return new[] { table };
    }

    // ---------------------------------------------------------------- helpers
    private static double[] GridProbability(ITrainableModel model)
    {
        using var grid = torch.tensor(Plots.GridFeatures(), new long[] { Plots.GridSize * Plots.GridSize, 2 });
        var (probabilities, _) = model.Predict(grid);
        using (probabilities)
        {
            using var positive = probabilities.select(1, 1).to_type(ScalarType.Float64);
            return positive.data<double>().ToArray();
        }
    }

    private static double[][] GridSram(SliceAwareModel model, Func<SramOutput, Tensor> pick)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.eval();
        using var grid = torch.tensor(Plots.GridFeatures(), new long[] { Plots.GridSize * Plots.GridSize, 2 });
        using var output = model.Run(grid);
        var values = pick(output).to_type(ScalarType.Float64).contiguous();
        long n = values.shape[0], m = values.shape[1];
        var flat = values.data<double>().ToArray();
        return Enumerable.Range(0, (int)n).Select(i => flat.AsSpan((int)(i * m), (int)m).ToArray()).ToArray();
    }
}
