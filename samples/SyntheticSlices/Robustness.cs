using System.Diagnostics;
using System.Globalization;
using SliceLearning.Data.Synthetic;
using SliceLearning.Models;
using SliceLearning.Modules;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SyntheticSlices;

/// <summary>Settings of the robustness suite (<c>--suite robustness</c>).</summary>
internal sealed record RobustnessSettings(
    int Seeds,
    int FirstSeed,
    int Epochs,
    int BatchSize,
    double LearningRate,
    int TrainSize,
    int TestSize,
    IReadOnlyList<string> Tasks,
    IReadOnlyList<int> Ks,
    IReadOnlyList<string> Methods,
    DirectoryInfo Output,
    int BootstrapResamples = 1000,
    bool EpochCurve = false,
    string LearningRateSchedule = "constant");

/// <summary>
/// One method of the suite: VANILLA, HPS, or SRAM with options. "SRAM" is the library's defaults;
/// "SRAM-paper" the paper's attention; "SRAM[key=value,...]" sets attention=, backprop=, T=, h=,
/// ind=, head=, pred=, headnorm=, members= (SliceHeadMembership), bgrad= (SliceGradientScale), indnorm= (IndicatorLossNormalization), igrad= (IndicatorGradientScale), iweight= (IndicatorGradientWeighting), balance= (LossBalancing),
/// form= (ExpertForm), rank= (ExpertRank), ewd= (ExpertWeightDecay), edrop= (ExpertDropout), clip= (trainer gradient clipping) on top of the defaults.
/// "HPS[key=value;...]" sets weight= (SliceLossWeight), norm= (SliceLossNormalization), clip=, and score= (which
/// head's prediction scores a real slice's test members: base = the model's prediction, own = the slice's own head
/// for every true member, sf = the slice's own head where the slice's SF fires on the test point, the base head elsewhere).
/// "VANILLA[input=truth|sf]" is VANILLA with the real slices' membership as extra input columns, at training and test
/// time: the true membership (an oracle) or the SFs' outputs.
/// </summary>
internal sealed record MethodSpec(string Name, string Kind, Action<SliceAwareOptions>? Configure, double? Clip,
    Action<HardParameterSharingOptions>? ConfigureHps = null, HpsScoring Scoring = HpsScoring.Base, MembershipInput Input = MembershipInput.None)
{
    public static MethodSpec Parse(string text)
    {
        text = text.Trim();
        if (text.Equals("VANILLA", StringComparison.OrdinalIgnoreCase)) return new("VANILLA", "VANILLA", null, null);
        if (text.StartsWith("VANILLA[", StringComparison.OrdinalIgnoreCase) && text.EndsWith(']')) return ParseVanilla(text);
        if (text.Equals("HPS", StringComparison.OrdinalIgnoreCase)) return new("HPS", "HPS", null, null);
        if (text.StartsWith("HPS[", StringComparison.OrdinalIgnoreCase) && text.EndsWith(']')) return ParseHps(text);
        if (text.Equals("SRAM", StringComparison.OrdinalIgnoreCase)) return new("SRAM", "SRAM", null, null);
        if (text.Equals("SRAM-paper", StringComparison.OrdinalIgnoreCase)) return new("SRAM-paper", "SRAM", o => o.UsePaperAttention(), null);
        if (!text.StartsWith("SRAM[", StringComparison.OrdinalIgnoreCase) || !text.EndsWith(']'))
            throw new FormatException($"Unknown method '{text}': use VANILLA, VANILLA[input=truth|sf], HPS, HPS[key=value;...], SRAM, SRAM-paper or SRAM[key=value;...].");
        Action<SliceAwareOptions> configure = _ => { };
        double? clip = null;
        foreach (var (key, value) in Settings(text, "SRAM[".Length))
        {
            double Number() => double.Parse(value, CultureInfo.InvariantCulture);
            var previous = configure;
            Action<SliceAwareOptions> step = key switch
            {
                "attention" => o => o.Attention = Enum.Parse<AttentionVariant>(value, ignoreCase: true),
                "backprop" => o => o.Backpropagation = Enum.Parse<AttentionBackpropagation>(value, ignoreCase: true),
                "t" => o => o.Temperature = Number(),
                "h" => o => o.ExpertSize = (long)Number(),
                "ind" => o => o.IndicatorLossWeight = Number(),
                "head" => o => o.SliceHeadLossWeight = Number(),
                "pred" => o => o.PredictionLossWeight = Number(),
                "headnorm" => o => o.SliceHeadNormalization = Enum.Parse<SliceHeadNormalization>(value, ignoreCase: true),
                "members" => o => o.SliceHeadMembership = Enum.Parse<SliceHeadMembership>(value, ignoreCase: true),
                "bgrad" => o => o.SliceGradientScale = Number(),
                "indnorm" => o => o.IndicatorLossNormalization = Enum.Parse<IndicatorLossNormalization>(value, ignoreCase: true),
                "igrad" => o => o.IndicatorGradientScale = Number(),
                "iweight" => o => o.IndicatorGradientWeighting = Enum.Parse<IndicatorGradientWeighting>(value, ignoreCase: true),
                "balance" => o => o.LossBalancing = Enum.Parse<LossBalancing>(value, ignoreCase: true),
                "form" => o => o.ExpertForm = Enum.Parse<ExpertForm>(value, ignoreCase: true),
                "rank" => o => o.ExpertRank = (long)Number(),
                "ewd" => o => o.ExpertWeightDecay = Number(),
                "edrop" => o => o.ExpertDropout = Number(),
                "clip" => _ => { },
                _ => throw new FormatException($"Unknown key '{key}' in method '{text}' (attention, backprop, t, h, ind, head, pred, headnorm, members, bgrad, indnorm, igrad, iweight, balance, form, rank, ewd, edrop, clip)."),
            };
            if (key == "clip") clip = Number();
            configure = o => { previous(o); step(o); };
        }
        return new(text, "SRAM", configure, clip);
    }

    /// <summary>The key=value settings between "NAME[" (<paramref name="prefixLength"/> characters) and the closing "]", keys in lower case.</summary>
    private static IEnumerable<(string Key, string Value)> Settings(string text, int prefixLength)
    {
        foreach (var part in text[prefixLength..^1].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2) throw new FormatException($"'{part}' in method '{text}' is not key=value.");
            yield return (kv[0].ToLowerInvariant(), kv[1]);
        }
    }

    private static MethodSpec ParseVanilla(string text)
    {
        var input = MembershipInput.None;
        foreach (var (key, value) in Settings(text, "VANILLA[".Length))
        {
            if (key != "input") throw new FormatException($"Unknown key '{key}' in method '{text}' (input).");
            input = value.ToLowerInvariant() switch
            {
                "truth" => MembershipInput.Truth,
                "sf" => MembershipInput.Sf,
                _ => throw new FormatException($"'input={value}' in method '{text}': use input=truth or input=sf."),
            };
        }
        if (input == MembershipInput.None) throw new FormatException($"Method '{text}' sets no input: use VANILLA[input=truth] or VANILLA[input=sf].");
        return new(text, "VANILLA", null, null, Input: input);
    }

    private static MethodSpec ParseHps(string text)
    {
        Action<HardParameterSharingOptions> configure = _ => { };
        double? clip = null;
        var scoring = HpsScoring.Base;
        foreach (var (key, value) in Settings(text, "HPS[".Length))
        {
            double Number() => double.Parse(value, CultureInfo.InvariantCulture);
            var previous = configure;
            Action<HardParameterSharingOptions> step = key switch
            {
                "weight" => o => o.SliceLossWeight = Number(),
                "norm" => o => o.SliceLossNormalization = Enum.Parse<SliceLossNormalization>(value, ignoreCase: true),
                "score" or "clip" => _ => { },
                _ => throw new FormatException($"Unknown key '{key}' in method '{text}' (weight, norm, score, clip)."),
            };
            if (key == "clip") clip = Number();
            if (key == "score") scoring = Enum.Parse<HpsScoring>(value, ignoreCase: true);
            configure = o => { previous(o); step(o); };
        }
        return new(text, "HPS", null, clip, configure, scoring);
    }
}

/// <summary>Which head's prediction scores a real slice's test members in an HPS run.</summary>
internal enum HpsScoring
{
    /// <summary>The model's prediction (the base head) for every row.</summary>
    Base,
    /// <summary>The slice's own head for every true member of the slice.</summary>
    Own,
    /// <summary>The slice's own head where the slice's SF fires on the test point, the base head elsewhere.</summary>
    Sf,
}

/// <summary>What a VANILLA model gets besides the two coordinates: nothing, or one 0/1 column per real slice.</summary>
internal enum MembershipInput
{
    /// <summary>The coordinates only.</summary>
    None,
    /// <summary>The real slices' true membership, at training and test time (an oracle).</summary>
    Truth,
    /// <summary>The real slices' SF outputs, at training and test time (the SFs applied to the test points).</summary>
    Sf,
}

/// <summary>One trained model's test predictions and SRAM routing measurements.</summary>
/// <remarks><c>SlicePredictions</c>, when set, holds per real slice the predictions that slice was scored with (HPS scored with its slice heads).
/// <c>EpochSliceF1</c>, when set (<c>--epoch-curve</c>), holds per epoch the real slices' test F1 after that epoch.</remarks>
internal sealed record RobustRun(string Task, int K, string Method, int Seed, double OverallF1, double[] SliceF1, int[] Predictions, Routing? Routing, double Seconds, int[][]? SlicePredictions = null, double[][]? EpochSliceF1 = null);

/// <summary>
/// Routing measurements of a slice-aware model per real slice j (test set, true membership): the mean
/// attention on slice j's expert for its members and for non-members; the learned indicator's AUC
/// against true membership; the accuracy of slice j's expert on its members; how often slice j is
/// Explain's top slice for its members; and the three loss terms on 2,000 training rows after the first
/// and the last epoch.
/// </summary>
internal sealed record Routing(double[] OwnMembers, double[] OwnOthers, double[] Auc, double[] ExpertAccuracy, double[] TopShare, double[] LossFirst, double[] LossLast, string?[] ScoreParts);

/// <summary>The robustness suite: hard slice tasks × k × seeds × methods, with the fixed protocol.</summary>
internal sealed class Robustness(RobustnessSettings settings, Action<string> step)
{
    public static readonly string[] AllTasks = { "constant", "flipped3", "flipped3-exact", "flipped2" };
    private static readonly string[] RealSlices = { "s1", "s2" };
    private const long Width = 13;

    public static string Describe(string task) => task switch
    {
        "constant" => "constant-label: two 3% discs on the boundary, all class 1; SF P/R .85; benign 3% SFs with the same noise",
        "flipped3" => "flipped-straddling 3%: two 3% discs straddling the boundary, labels flipped (30% / 70% class 1 inside); SF P/R .85, false positives from a ring to 1.5 radii; benign 1-5% SFs exact",
        "flipped3-exact" => "flipped3 with exact SFs for the two real slices (P = R = 1): the same points, labels and benign SFs",
        "flipped2" => "flipped-straddling 2%, noisy: two 2% straddling discs (30% / 70% class 1); SF P .75 / R .8 from the ring; benign 1-5% SFs with the same noise",
        _ => throw new ArgumentException($"Unknown task '{task}': use {string.Join(", ", AllTasks)}."),
    };

    /// <summary>The task's generator options for k SFs (2 real slices plus k − 2 benign).</summary>
    public static SyntheticSliceOptions Task(string task, int k)
    {
        var o = new SyntheticSliceOptions { BenignSliceCount = k - 2 };
        switch (task)
        {
            case "constant":
                break;
            case "flipped3":
            case "flipped3-exact":
                o.NoiseNeighborhood = 1.5;
                o.Slices = new List<SyntheticSliceRegion> { o.StraddlingDisc("s1", -0.636, 0.03, 0.3), o.StraddlingDisc("s2", 0.636, 0.03, 0.7) };
                // The exact variant draws no SF noise, so its points and labels are flipped3's for the same seed.
                o.SfRecall = o.SfPrecision = task == "flipped3" ? 0.85 : 1.0;
                o.BenignSfNoise = 0;
                o.BenignSliceFraction = 0.01;
                o.BenignSliceMaxFraction = 0.05;
                break;
            case "flipped2":
                o.NoiseNeighborhood = 1.5;
                o.Slices = new List<SyntheticSliceRegion> { o.StraddlingDisc("s1", -0.636, 0.02, 0.3), o.StraddlingDisc("s2", 0.636, 0.02, 0.7) };
                o.SfRecall = o.BenignSfRecall = 0.8;
                o.SfPrecision = o.BenignSfPrecision = 0.75;
                o.BenignSliceFraction = 0.01;
                o.BenignSliceMaxFraction = 0.05;
                break;
            default:
                throw new ArgumentException($"Unknown task '{task}': use {string.Join(", ", AllTasks)}.");
        }
        return o;
    }

    public static int Trials(RobustnessSettings s) =>
        s.Tasks.Count * s.Seeds * (s.Methods.Count(m => m == "VANILLA") + s.Ks.Count * s.Methods.Count(m => m != "VANILLA"));

    private readonly Dictionary<(string Task, int Seed), int[]> _labels = new();
    private readonly Dictionary<(string Task, int Seed), bool[][]> _members = new();

    public List<RobustRun> Run()
    {
        var methods = settings.Methods.Select(MethodSpec.Parse).ToArray();
        var runs = new List<RobustRun>();
        foreach (var task in settings.Tasks)
        {
            foreach (int seed in Enumerable.Range(settings.FirstSeed, settings.Seeds))
            {
                var trainedOnce = new HashSet<string>(StringComparer.Ordinal);
                foreach (int k in settings.Ks)
                {
                    var generator = new SyntheticSliceGenerator(Task(task, k));
                    var train = generator.Generate(settings.TrainSize, unchecked(3 * seed));
                    var test = generator.Generate(settings.TestSize, unchecked(3 * seed + 2));
                    using var trainSet = DataBundle.ToDataset(train, train.SfSlices);
                    using var testSet = DataBundle.ToDataset(test, test.TrueSlices);
                    // The points, labels and real slices do not depend on k.
                    _labels[(task, seed)] = test.Labels.ToArray();
                    _members[(task, seed)] = RealSlices.Select(s => Enumerable.Range(0, test.Count).Select(i => test.TrueSlices[i, IndexOf(generator.SliceNames, s)]).ToArray()).ToArray();
                    foreach (var method in methods)
                    {
                        // VANILLA sees no SFs (its membership columns are the real slices', which do not depend on k), and the
                        // points and labels do not depend on k: train each VANILLA method once per seed.
                        if (method.Kind == "VANILLA" && !trainedOnce.Add(method.Name)) continue;
                        step($"{task} k={k} seed {seed}: {method.Name}");
                        RobustRun run;
                        if (method.Input == MembershipInput.None)
                        {
                            run = Trial(task, method.Kind == "VANILLA" ? 0 : k, method, seed, generator, trainSet, test, testSet);
                        }
                        else
                        {
                            using var trainWith = WithMembership(train, train.SfSlices, method.Input == MembershipInput.Truth ? train.TrueSlices : train.SfSlices, generator.SliceNames);
                            using var testWith = WithMembership(test, test.TrueSlices, method.Input == MembershipInput.Truth ? test.TrueSlices : test.SfSlices, generator.SliceNames);
                            run = Trial(task, 0, method, seed, generator, trainWith, test, testWith);
                        }
                        runs.Add(run);
                        step(Summary(run));
                        if (run.EpochSliceF1 is { } curve) step(CurveSummary(curve));
                    }
                }
            }
        }
        return runs;
    }

    /// <summary>
    /// The data set with one extra 0/1 feature column per real slice after the two coordinates, taken from
    /// <paramref name="inputs"/>; <paramref name="slices"/> is the slice matrix the set carries (SFs to train, truth to score).
    /// </summary>
    public static SliceDataset WithMembership(SyntheticSliceData data, SliceLearning.Slicing.SliceMatrix slices, SliceLearning.Slicing.SliceMatrix inputs, IReadOnlyList<string> names)
    {
        int n = data.Count, extra = RealSlices.Length, width = 2 + extra;
        var coordinates = data.FeatureArray();
        var columns = RealSlices.Select(s => IndexOf(names, s)).ToArray();
        var features = new float[n * width];
        for (int i = 0; i < n; i++)
        {
            features[i * width] = coordinates[2 * i];
            features[i * width + 1] = coordinates[2 * i + 1];
            for (int j = 0; j < extra; j++) features[i * width + 2 + j] = inputs[i, columns[j]] ? 1f : 0f;
        }
        return new SliceDataset(torch.tensor(features, new long[] { n, width }), torch.tensor(data.LabelArray()), slices);
    }

    private RobustRun Trial(string task, int k, MethodSpec method, int seed, SyntheticSliceGenerator generator, SliceDataset train, SyntheticSliceData test, SliceDataset testSet)
    {
        torch.manual_seed(seed);
        var names = generator.SliceNames;
        using ITrainableModel model = method.Kind switch
        {
            "VANILLA" => VanillaModel.Create(Lab.Backbone(Width, train.Features.shape[1]), Width, 2),
            "HPS" => HardParameterSharingModel.Create(Lab.Backbone(Width), Width, 2, names, method.ConfigureHps),
            _ => SliceAwareModel.Create(Lab.Backbone(Width), Width, 2, names, method.Configure),
        };
        var sram = model as SliceAwareModel;
        double[]? lossFirst = null, lossLast = null;
        var curve = settings.EpochCurve ? new List<double[]>() : null;
        var trainer = SliceTrainer.For(model).WithData(train).WithEpochs(settings.Epochs).WithBatchSize(settings.BatchSize)
            .WithOptimizer(OptimizerOptions.Adam(settings.LearningRate)).WithSeed(seed);
        if (method.Clip is double clip) trainer = trainer.WithGradientClipping(clip);
        if (settings.LearningRateSchedule == "cosine") trainer = trainer.WithLearningRateSchedule(LearningRateSchedule.Cosine());
        if (sram is not null || curve is not null)
        {
            trainer = trainer.WithProgress(new SyncProgress(p =>
            {
                if (sram is not null && p.Epoch == 1) lossFirst = LossTerms(sram, train);
                if (sram is not null && p.Epoch == p.TotalEpochs) lossLast = LossTerms(sram, train);
                curve?.Add(SliceF1Now(model, testSet, test, names));
            }));
        }
        var clock = Stopwatch.StartNew();
        trainer.Fit();
        double seconds = clock.Elapsed.TotalSeconds;

        var (_, predictions) = model.Predict(testSet.Features);
        var labels = test.Labels;
        double overall = F1(Enumerable.Range(0, test.Count), labels, predictions);
        int[]? headPredictions = method.Scoring == HpsScoring.Base ? null : HeadPredictions((HardParameterSharingModel)model, testSet);
        var slicePredictions = RealSlices.Select(s =>
        {
            if (headPredictions is null) return predictions;
            // Score slice c's members with head c (where its SF fires, for Sf) instead of the base head.
            int c = IndexOf(names, s);
            var scored = (int[])predictions.Clone();
            for (int i = 0; i < test.Count; i++)
                if (test.TrueSlices[i, c] && (method.Scoring == HpsScoring.Own || test.SfSlices[i, c])) scored[i] = headPredictions[i * names.Count + c];
            return scored;
        }).ToArray();
        var sliceF1 = RealSlices.Select((s, j) =>
        {
            int c = IndexOf(names, s);
            return F1(Enumerable.Range(0, test.Count).Where(i => test.TrueSlices[i, c]), labels, slicePredictions[j]);
        }).ToArray();
        var routing = sram is null ? null : Measure(sram, test, testSet, names, lossFirst!, lossLast!);
        return new RobustRun(task, k, method.Name, seed, overall, sliceF1, predictions, routing, seconds, headPredictions is null ? null : slicePredictions, curve?.ToArray());
    }

    /// <summary>The real slices' test F1 with the model as it is now (Predict runs in evaluation mode and restores the mode).</summary>
    private static double[] SliceF1Now(ITrainableModel model, SliceDataset testSet, SyntheticSliceData test, IReadOnlyList<string> names)
    {
        var (probabilities, predictions) = model.Predict(testSet.Features);
        probabilities.Dispose();
        return RealSlices.Select(s =>
        {
            int c = IndexOf(names, s);
            return F1(Enumerable.Range(0, test.Count).Where(i => test.TrueSlices[i, c]), test.Labels, predictions);
        }).ToArray();
    }

    /// <summary>The last ten epochs' slice F1: each epoch's, then mean and range.</summary>
    private static string CurveSummary(double[][] curve)
    {
        var tail = curve.Skip(Math.Max(0, curve.Length - 10)).ToArray();
        return string.Join("; ", Enumerable.Range(0, RealSlices.Length).Select(j => string.Create(CultureInfo.InvariantCulture,
            $"  {RealSlices[j]} F1, epochs {curve.Length - tail.Length + 1}-{curve.Length}: {string.Join(" ", tail.Select(e => e[j].ToString("F3", CultureInfo.InvariantCulture)))} (mean {tail.Average(e => e[j]):F3}, range {tail.Min(e => e[j]):F3}-{tail.Max(e => e[j]):F3})")));
    }

    /// <summary>Every head's predicted class, row-major [N, m].</summary>
    private static int[] HeadPredictions(HardParameterSharingModel model, SliceDataset testSet)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.eval();
        return model.HeadLogits(testSet.Features).argmax(2).to_type(ScalarType.Int32).contiguous().data<int>().ToArray();
    }

    private static string Summary(RobustRun r)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"  {r.Method} k={r.K} seed {r.Seed}: overall {r.OverallF1:F3}, s1 {r.SliceF1[0]:F3}, s2 {r.SliceF1[1]:F3} ({r.Seconds:F0} s)");
        if (r.Routing is { } g)
        {
            text += string.Create(CultureInfo.InvariantCulture, $"; own attn {g.OwnMembers[0]:F2}/{g.OwnMembers[1]:F2}, others {g.OwnOthers[0]:F3}/{g.OwnOthers[1]:F3}, AUC {g.Auc[0]:F2}/{g.Auc[1]:F2}, expert acc {g.ExpertAccuracy[0]:F2}/{g.ExpertAccuracy[1]:F2}, top {g.TopShare[0]:F2}/{g.TopShare[1]:F2}");
            if (g.ScoreParts.All(p => p is not null)) text += $"; scores s1 {g.ScoreParts[0]}, s2 {g.ScoreParts[1]}";
        }
        return text;
    }

    private static Routing Measure(SliceAwareModel model, SyntheticSliceData test, SliceDataset testSet, IReadOnlyList<string> names, double[] lossFirst, double[] lossLast)
    {
        int n = test.Count, m = names.Count;
        float[] attention, indicator, expertCorrect, logConfidence;
        float[]? sliceScores;
        using (var scope = NewDisposeScope())
        using (var noGrad = torch.no_grad())
        {
            model.eval();
            using var output = model.Run(testSet.Features);
            attention = output.AttentionWeights.contiguous().data<float>().ToArray();
            indicator = output.IndicatorLogits.contiguous().data<float>().ToArray();
            var expertClass = output.SlicePredictionLogits.argmax(2);                                     // [N, m]
            logConfidence = SliceAttention.LogConfidence(output.SlicePredictionLogits).contiguous().data<float>().ToArray();
            sliceScores = model.Sram.SliceScores is { } b ? b.detach().contiguous().data<float>().ToArray() : null;
            expertCorrect = expertClass.eq(testSet.Labels.unsqueeze(1)).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        }
        int r = RealSlices.Length;
        var scoreParts = new string[r];
        var own = new double[r]; var others = new double[r]; var auc = new double[r]; var acc = new double[r]; var top = new double[r];
        for (int j = 0; j < r; j++)
        {
            int c = IndexOf(names, RealSlices[j]);
            var members = Enumerable.Range(0, n).Where(i => test.TrueSlices[i, c]).ToArray();
            var rest = Enumerable.Range(0, n).Where(i => !test.TrueSlices[i, c]).ToArray();
            own[j] = members.Average(i => (double)attention[i * m + c]);
            others[j] = rest.Average(i => (double)attention[i * m + c]);
            auc[j] = Auc(members.Select(i => indicator[i * m + c]).ToArray(), rest.Select(i => indicator[i * m + c]).ToArray());
            acc[j] = members.Average(i => (double)expertCorrect[i * m + c]);
            if (sliceScores is not null)
            {
                // The LearnedOdds score parts on the members: indicator logit, log-confidence, learned score, and the best other slice's score.
                double qMean = members.Average(i => (double)indicator[i * m + c]);
                double confMean = members.Average(i => (double)logConfidence[i * m + c]);
                double rival = members.Average(i => Enumerable.Range(1, m - 1).Where(s => s != c).Select(s => (double)(indicator[i * m + s] + logConfidence[i * m + s] + sliceScores[s - 1])).DefaultIfEmpty(double.NegativeInfinity).Max());
                scoreParts[j] = string.Create(CultureInfo.InvariantCulture, $"q {qMean:F2} conf {confMean:F2} b {sliceScores[c - 1]:F2} rival {rival:F2}");
            }
            top[j] = members.Average(i =>
            {
                int best = 0;
                for (int s = 1; s < m; s++) if (attention[i * m + s] > attention[i * m + best]) best = s;
                return best == c ? 1.0 : 0.0;
            });
        }
        return new Routing(own, others, auc, acc, top, lossFirst, lossLast, scoreParts);
    }

    /// <summary>[prediction, slice head, indicator] on the first 2,000 training rows, in evaluation mode.</summary>
    private static double[] LossTerms(SliceAwareModel model, SliceDataset train)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = torch.no_grad();
            int rows = Math.Min(2000, train.Count);
            using var terms = model.LossTerms(train.Features.narrow(0, 0, rows), train.Labels.narrow(0, 0, rows), train.Membership.narrow(0, 0, rows));
            return new[] { terms.Prediction.item<float>(), terms.SliceHead.item<float>(), terms.Indicator.item<float>() }.Select(v => (double)v).ToArray();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Positive-class F1 of the rows.</summary>
    public static double F1(IEnumerable<int> rows, IReadOnlyList<int> labels, int[] predictions)
    {
        int tp = 0, fp = 0, fn = 0;
        foreach (int i in rows)
        {
            if (predictions[i] == 1 && labels[i] == 1) tp++;
            else if (predictions[i] == 1) fp++;
            else if (labels[i] == 1) fn++;
        }
        return tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    /// <summary>Area under the ROC curve of scores for positives against negatives (ties count half).</summary>
    public static double Auc(float[] positives, float[] negatives)
    {
        if (positives.Length == 0 || negatives.Length == 0) return double.NaN;
        var all = positives.Select(v => (Value: v, Positive: true)).Concat(negatives.Select(v => (Value: v, Positive: false))).OrderBy(t => t.Value).ToArray();
        double rankSum = 0;
        for (int i = 0; i < all.Length;)
        {
            int j = i;
            while (j < all.Length && all[j].Value == all[i].Value) j++;
            double rank = (i + j + 1) / 2.0; // average 1-based rank of the tie group
            for (int t = i; t < j; t++) if (all[t].Positive) rankSum += rank;
            i = j;
        }
        double np = positives.Length, nn = negatives.Length;
        return (rankSum - np * (np + 1) / 2) / (np * nn);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        throw new InvalidOperationException($"No slice '{name}'.");
    }

    /// <summary>The result tables: scores with paired-bootstrap CIs of the lift over VANILLA, and SRAM routing.</summary>
    public IReadOnlyList<ResultTable> Tables(List<RobustRun> runs)
    {
        var labels = _labels;
        var members = _members;
        var scores = new ResultTable("Robustness suite: test F1 on true slice members (mean ± std over seeds; lift = paired-bootstrap 95% CI of the slice F1 lift over VANILLA, F1 points)",
            "Task", "k", "Method", "Seeds", "Overall F1", "s1 F1", "s2 F1", "s1 lift CI", "s2 lift CI", "s / run");
        var routing = new ResultTable("Robustness suite: routing of slice-aware models (test set, true members; mean over seeds)",
            "Task", "k", "Method", "own attn s1 / s2 (members)", "own attn s1 / s2 (others)", "indicator AUC s1 / s2", "expert acc s1 / s2", "Explain top s1 / s2", "loss pred / head / ind (epoch 1)", "(last epoch)");
        foreach (var group in runs.GroupBy(r => (r.Task, r.K, r.Method)).OrderBy(g => Array.IndexOf(AllTasks, g.Key.Task)).ThenBy(g => g.Key.K))
        {
            var rows = group.OrderBy(r => r.Seed).ToArray();
            string kText = group.Key.K == 0 ? "-" : group.Key.K.ToString(CultureInfo.InvariantCulture);
            var lifts = new string[RealSlices.Length];
            for (int j = 0; j < RealSlices.Length; j++)
            {
                var pairs = rows.Select(r => (Run: r, Vanilla: runs.FirstOrDefault(v => v.Method == "VANILLA" && v.Task == r.Task && v.Seed == r.Seed))).Where(p => p.Vanilla is not null).ToArray();
                lifts[j] = group.Key.Method == "VANILLA" || pairs.Length == 0 ? "" :
                    BootstrapLift(pairs.Select(p => (labels[(p.Run.Task, p.Run.Seed)], members[(p.Run.Task, p.Run.Seed)][j], p.Run.SlicePredictions?[j] ?? p.Run.Predictions, p.Vanilla!.Predictions)).ToArray(), settings.BootstrapResamples, seed: 17 + j);
            }
            scores.Add(group.Key.Task, kText, group.Key.Method, rows.Length.ToString(CultureInfo.InvariantCulture),
                MeanStd.Of(rows.Select(r => r.OverallF1)).Score, MeanStd.Of(rows.Select(r => r.SliceF1[0])).Score, MeanStd.Of(rows.Select(r => r.SliceF1[1])).Score,
                lifts[0], lifts[1], rows.Average(r => r.Seconds).ToString("F1", CultureInfo.InvariantCulture));
            if (rows.All(r => r.Routing is not null))
            {
                string Pair(Func<Routing, double[]> pick) => string.Join(" / ", Enumerable.Range(0, 2).Select(j => rows.Average(r => pick(r.Routing!)[j]).ToString("F2", CultureInfo.InvariantCulture)));
                string Loss(Func<Routing, double[]> pick) => string.Join(" / ", Enumerable.Range(0, 3).Select(j => rows.Average(r => pick(r.Routing!)[j]).ToString("F3", CultureInfo.InvariantCulture)));
                routing.Add(group.Key.Task, kText, group.Key.Method, Pair(x => x.OwnMembers), Pair(x => x.OwnOthers), Pair(x => x.Auc), Pair(x => x.ExpertAccuracy), Pair(x => x.TopShare), Loss(x => x.LossFirst), Loss(x => x.LossLast));
            }
        }
        var tail = new ResultTable("Robustness suite: real slices' test F1 over the last ten epochs (--epoch-curve; mean ± std over seeds)",
            "Task", "k", "Method", "s1 F1, last epoch", "s1 F1, mean of last 10", "s1 range within a run", "s2 F1, last epoch", "s2 F1, mean of last 10", "s2 range within a run");
        int tailRows = 0;
        foreach (var group in runs.Where(r => r.EpochSliceF1 is { Length: > 0 }).GroupBy(r => (r.Task, r.K, r.Method)).OrderBy(g => Array.IndexOf(AllTasks, g.Key.Task)).ThenBy(g => g.Key.K))
        {
            var rows = group.OrderBy(r => r.Seed).ToArray();
            var cells = new List<string> { group.Key.Task, group.Key.K == 0 ? "-" : group.Key.K.ToString(CultureInfo.InvariantCulture), group.Key.Method };
            for (int j = 0; j < RealSlices.Length; j++)
            {
                var last10 = rows.Select(r => r.EpochSliceF1!.Skip(Math.Max(0, r.EpochSliceF1!.Length - 10)).Select(e => e[j]).ToArray()).ToArray();
                cells.Add(MeanStd.Of(rows.Select(r => r.SliceF1[j])).Score);
                cells.Add(MeanStd.Of(last10.Select(t => t.Average())).Score);
                cells.Add(string.Create(CultureInfo.InvariantCulture, $"{last10.Average(t => t.Max() - t.Min()):F3} (max {last10.Max(t => t.Max() - t.Min()):F3})"));
            }
            tail.Add(cells.ToArray());
            tailRows++;
        }
        if (tailRows > 0) tail.Notes.Add("range within a run: max − min of the slice F1 over the last ten epochs of one run, averaged over the seeds (largest in brackets).");
        foreach (var task in settings.Tasks) scores.Notes.Add($"{task}: {Describe(task)}.");
        if (runs.Any(r => r.SlicePredictions is not null))
            scores.Notes.Add("HPS[score=own]: each real slice's true members scored with that slice's own head (the model's prediction elsewhere); score=sf: with the slice's own head where the slice's SF fires on the test point, the base head elsewhere. Overall F1 is always the base head's.");
        scores.Notes.Add($"Protocol: backbone Linear(2,13)-ReLU-Linear(13,13)-ReLU, h = 13 (the library default h = d), Adam lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}{(settings.LearningRateSchedule == "cosine" ? " with cosine annealing towards 0 over the epochs (every method)" : "")}, batch {settings.BatchSize}, {settings.Epochs} epochs, no validation, last epoch scored; {settings.TrainSize} training and {settings.TestSize} test points per seed; VANILLA does not see SFs, so it is trained once per seed (k = -).");
        routing.Notes.Add("own attn: mean attention weight on slice j's expert, for slice j's true members and for every other test point; expert acc: slice j's expert's own prediction (shared slice head) on its members; Explain top: share of members whose largest attention weight is on slice j; loss terms on the first 2,000 training rows, unweighted.");
        // The routing table has rows only for slice-aware models.
        var tables = new List<ResultTable> { scores };
        if (runs.Any(r => r.Routing is not null)) tables.Add(routing);
        if (tailRows > 0) tables.Add(tail);
        return tables;
    }

    // Paired bootstrap over each seed's test members: resample members, F1(method) − F1(VANILLA) on the same rows, averaged over seeds.
    private static string BootstrapLift((int[] Labels, bool[] Members, int[] Method, int[] Vanilla)[] seeds, int resamples, int seed)
    {
        if (resamples < 1) return "";
        var rng = new Random(seed);
        var rowsPerSeed = seeds.Select(s => Enumerable.Range(0, s.Labels.Length).Where(i => s.Members[i]).ToArray()).ToArray();
        var lifts = new double[resamples];
        var sample = new int[rowsPerSeed.Max(r => r.Length)];
        for (int b = 0; b < resamples; b++)
        {
            double sum = 0;
            for (int s = 0; s < seeds.Length; s++)
            {
                var rows = rowsPerSeed[s];
                for (int i = 0; i < rows.Length; i++) sample[i] = rows[rng.Next(rows.Length)];
                var chosen = sample.AsSpan(0, rows.Length).ToArray();
                sum += F1(chosen, seeds[s].Labels, seeds[s].Method) - F1(chosen, seeds[s].Labels, seeds[s].Vanilla);
            }
            lifts[b] = sum / seeds.Length;
        }
        Array.Sort(lifts);
        double lo = lifts[(int)Math.Floor(0.025 * (resamples - 1))], hi = lifts[(int)Math.Ceiling(0.975 * (resamples - 1))];
        return string.Create(CultureInfo.InvariantCulture, $"[{100 * lo:+0.0;-0.0;0.0}, {100 * hi:+0.0;-0.0;0.0}]");
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
