using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SliceLearning.Backbones.Text;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.Training;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace TextSamples;

/// <summary>The settings of one run of a text sample.</summary>
public sealed record ExperimentSettings
{
    public int Seeds { get; init; } = 1;
    public int FirstSeed { get; init; } = 1;
    public int Epochs { get; init; } = 2;
    public int BatchSize { get; init; } = 32;
    /// <summary>AdamW learning rate of the fine-tuned MiniLM top layers (the heads train at <see cref="HeadLearningRate"/>).</summary>
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Transformer layers fine-tuned on top of the cached lower layers; 0 freezes the whole encoder (the heads train on its cached pooled output).</summary>
    public int TopLayers { get; init; } = 1;
    /// <summary>Tokens per example, [CLS] and [SEP] included (longer texts are truncated).</summary>
    public int MaxTokens { get; init; } = 64;
    /// <summary>Use at most this many training examples (null: all).</summary>
    public int? TrainLimit { get; init; }
    /// <summary>Use at most this many test examples (null: all).</summary>
    public int? TestLimit { get; init; }
    /// <summary>Fraction of the training examples held out as validation (MANUAL's slice and α choice).</summary>
    public double ValidationFraction { get; init; } = 0.1;
    /// <summary>MANUAL: the paper's α search over {2, 20, 50, 100} (4 trainings) instead of α = 2 alone.</summary>
    public bool ManualSearch { get; init; }
    public int BootstrapResamples { get; init; } = 1000;
    public IReadOnlyList<string> Methods { get; init; } = TextExperiment.AllMethods;
    public string Output { get; init; } = "results";
    public bool Plots { get; init; } = true;
    public int Threads { get; init; } = 1;
    public string? MiniLmPath { get; init; }
    /// <summary>MoE's expert networks: light adapters over the frozen layers (default) or full copies of the fine-tuned top layers.</summary>
    public MoeExperts MoeExperts { get; init; } = MoeExperts.Adapter;
    /// <summary>Folder of the on-disk cache of the frozen layers' outputs (<see cref="FeatureCache"/>); null: no cache.</summary>
    public string? FeatureCacheDirectory { get; init; }
    /// <summary>After every epoch, score the model on the validation split (and, for SRAM, measure <see cref="SramDiagnostics"/>); slows training down.</summary>
    public bool TraceEpochs { get; init; }
    /// <summary>SRAM option assignments "Name=Value" (<see cref="SramSettings"/>); empty keeps the library's defaults.</summary>
    public IReadOnlyList<string> SramOptions { get; init; } = Array.Empty<string>();
    /// <summary>
    /// Epochs of head warm-up before fine-tuning (default 0: none): every method's heads are first trained on
    /// the pretrained encoder's pooled output (the top layers frozen, computed once per run), then
    /// copied into the model whose top layers are fine-tuned. Not for MoE (its experts are not heads
    /// over the pooled output) nor with <see cref="TopLayers"/> = 0.
    /// </summary>
    public int WarmStartEpochs { get; init; }
    /// <summary>AdamW learning rate of the head warm-up.</summary>
    public double WarmStartLearningRate { get; init; } = 1e-3;
    /// <summary>
    /// AdamW learning rate of every parameter that is not a pretrained MiniLM layer (the heads, MoE's adapters);
    /// the fine-tuned top layers train at <see cref="LearningRate"/> in a parameter group of their own
    /// (<see cref="SliceTrainer.WithParameterGroup"/>). With <see cref="TopLayers"/> = 0 every trained parameter is a head.
    /// </summary>
    public double HeadLearningRate { get; init; } = 1e-3;
}

/// <summary>One epoch of a traced trial (<see cref="ExperimentSettings.TraceEpochs"/>).</summary>
public sealed record EpochTrace(int Epoch, double TrainLoss, double Validation, SramDiagnostics? Sram);

/// <summary>What each MoE expert (and its gate) is.</summary>
public enum MoeExperts
{
    /// <summary>Mean-pooled frozen lower-layer states, then Linear(H, H) + GELU: cheap, so k + 2 of them fit in a quick run.</summary>
    Adapter,
    /// <summary>A full copy of the fine-tuned top layers per expert and for the gate: k + 2 times a VANILLA step.</summary>
    TopLayers,
}

/// <summary>MoE's light expert: mean pooling of the cached token states (mask channel last; skipped for pooled [B, H] input), Linear(H, H), GELU.</summary>
internal sealed class PooledAdapter : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear dense;
    private readonly long _hidden;

    public PooledAdapter(long hidden) : base(nameof(PooledAdapter))
    {
        _hidden = hidden;
        dense = nn.Linear(hidden, hidden);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var pooled = input;
        if (input.dim() == 3)
        {
            var mask = input.select(2, _hidden).unsqueeze(-1);
            pooled = (input.narrow(2, 0, _hidden) * mask).sum(1) / mask.sum(1).clamp_min(1e-9);
        }
        return scope.MoveToOuter(nn.functional.gelu(dense.call(pooled)));
    }
}

/// <summary>A text task: the data, its slices, how an example is tokenized and labelled, and the headline metric.</summary>
public sealed record TextTask<T>(string Name, IReadOnlyList<T> Train, IReadOnlyList<T> Test, SliceSet<T> Slices,
    Func<WordPieceTokenizer, T, int, EncodedText> Encode, Func<T, int> Label, Metric Metric);

/// <summary>One trained model's scores.</summary>
public sealed record TrialResult(string Method, int Seed, long Parameters, double Overall, double OverallF1, double OverallMcc,
    IReadOnlyDictionary<string, double> Slice, double TrainSeconds, int TrainExamples, int Epochs, int Steps, string? Note)
{
    /// <summary>SRAM only: its attention, indicators, experts and loss terms on the test set.</summary>
    public SramDiagnostics? Sram { get; init; }
    /// <summary>Seconds spent warming up the heads before fine-tuning (0 without <see cref="ExperimentSettings.WarmStartEpochs"/>).</summary>
    public double WarmStartSeconds { get; init; }
    /// <summary>Per-epoch validation scores (with <see cref="ExperimentSettings.TraceEpochs"/>).</summary>
    public IReadOnlyList<EpochTrace> Trace { get; init; } = Array.Empty<EpochTrace>();

    public double ExamplesPerSecond => TrainExamples * (double)Epochs / TrainSeconds;
    public double SecondsPerStep => TrainSeconds / Steps;
}

/// <summary>One row of the paper's Table 1 shape.</summary>
public sealed record SummaryRow(string Method, double ParamIncrease, double OverallMean, double OverallStd, double MaxLift, string MaxLiftSlice, double AvgLift,
    double ExamplesPerSecond, double SecondsPerStep, long Parameters);

/// <summary>Everything a run produced.</summary>
public sealed record ExperimentResult(string Task, string MetricName, IReadOnlyList<TrialResult> Trials, IReadOnlyList<SummaryRow> Summary,
    IReadOnlyDictionary<int, SliceComparison> SramVsVanilla, IReadOnlyList<string> SliceNames, IReadOnlyDictionary<string, int> TestSupport,
    double CacheSeconds, long FullModelParameters);

/// <summary>
/// Fine-tunes pretrained MiniLM as VANILLA, HPS, MANUAL, MoE and SRAM through the library's trainer on
/// a text task and reports the paper's Table 1 shape. Speed: tokenization runs once per run; the frozen
/// lower layers run once per example (<see cref="BertTopLayers.CacheInputs"/>), so training steps only
/// run the top layers and the heads.
/// </summary>
public static class TextExperiment
{
    public static readonly IReadOnlyList<string> AllMethods = new[] { "VANILLA", "HPS", "MANUAL", "MoE", "SRAM" };

    public static ExperimentResult Run<T>(TextTask<T> task, ExperimentSettings s, IAnsiConsole console, CancellationToken ct = default)
    {
        ComputeDevice.SetCpuThreads(s.Threads);
        var train = s.TrainLimit is int tl && tl < task.Train.Count ? task.Train.Take(tl).ToArray() : task.Train.ToArray();
        var test = s.TestLimit is int sl && sl < task.Test.Count ? task.Test.Take(sl).ToArray() : task.Test.ToArray();
        int validationCount = (int)Math.Round(train.Length * s.ValidationFraction);
        var shuffled = train.ToArray();
        new Random(12345).Shuffle(shuffled);
        var validation = shuffled[..validationCount];
        var fit = shuffled[validationCount..];

        var tokenizer = WordPieceTokenizer.LoadMiniLm(s.MiniLmPath);
        using var encoder = BertEncoder.LoadMiniLm(s.MiniLmPath);
        long encoderParameters = encoder.parameters().Sum(p => p.numel());
        int lower = checked((int)encoder.Options.Layers) - s.TopLayers;
        bool frozen = s.TopLayers == 0;
        var cache = s.FeatureCacheDirectory is { } dir ? new FeatureCache(dir) : null;
        byte[]? fingerprint = cache is null ? null : FeatureCache.Fingerprint(encoder);

        bool live = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        long width = encoder.Options.HiddenSize;
        var clock = Stopwatch.StartNew();
        SliceDataset Build(T[] items, string role)
        {
            var encoded = items.Select(x => task.Encode(tokenizer, x, s.MaxTokens)).ToArray();
            string what = $"caching {lower} frozen MiniLM layers: {role} ({items.Length})";
            var watch = Stopwatch.StartNew();
            string? key = cache is null ? null : FeatureCache.Key(fingerprint!, encoded, lower, s.MaxTokens, frozen);
            var labels = torch.tensor(items.Select(x => (long)task.Label(x)).ToArray());
            if (key is not null && cache!.TryLoad(key) is { } cached)
            {
                console.WriteLine($"{what}: read from {cache.Directory} in {watch.Elapsed.TotalSeconds:F1} s");
                return new SliceDataset(cached, labels, task.Slices.Apply(items, ct));
            }
            var features = live
                ? console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(ctx =>
                    {
                        var bar = ctx.AddTask(what, maxValue: items.Length);
                        return BertTopLayers.CacheInputs(encoder, encoded, lower, s.MaxTokens, 32, new Progress<int>(n => bar.Value = n), ct);
                    })
                : BertTopLayers.CacheInputs(encoder, encoded, lower, s.MaxTokens, 32, null, ct);
            if (frozen)
            {
                // The whole encoder is frozen: keep only its pooled output [N, H].
                using var states = features;
                using var mask = states.select(2, width);
                features = encoder.Pool(states.narrow(2, 0, width), mask);
            }
            if (!live) console.WriteLine($"{what}: {watch.Elapsed.TotalSeconds:F1} s");
            if (key is not null) cache!.Save(key, features);
            return new SliceDataset(features, labels, task.Slices.Apply(items, ct));
        }
        using var trainData = Build(fit, "train");
        using var validationData = Build(validation, "validation");
        using var testData = Build(test, "test");
        bool warm = s.WarmStartEpochs > 0 && !frozen;
        using var warmData = warm ? PooledTrain() : null;
        double cacheSeconds = clock.Elapsed.TotalSeconds;

        // The pretrained encoder's pooled output of the training examples: the frozen top layers over
        // the cached states (eval mode), i.e. what the full encoder pools; on disk like the states.
        SliceDataset PooledTrain()
        {
            var encoded = fit.Select(x => task.Encode(tokenizer, x, s.MaxTokens)).ToArray();
            string? key = cache is null ? null : FeatureCache.Key(fingerprint!, encoded, checked((int)encoder.Options.Layers), s.MaxTokens, pooled: true);
            var watch = Stopwatch.StartNew();
            var pooled = key is null ? null : cache!.TryLoad(key);
            if (pooled is null)
            {
                using var top = BertTopLayers.From(encoder, s.TopLayers);
                top.eval();
                using var noGrad = torch.no_grad();
                var parts = new List<Tensor>();
                for (int start = 0; start < fit.Length; start += 64)
                    parts.Add(top.call(trainData.Features.narrow(0, start, Math.Min(64, fit.Length - start))));
                pooled = torch.cat(parts, 0);
                foreach (var part in parts) part.Dispose();
                if (key is not null) cache!.Save(key, pooled);
            }
            console.WriteLine($"pooled encoder output for the head warm-up: {watch.Elapsed.TotalSeconds:F1} s");
            return new SliceDataset(pooled, trainData.Labels.clone(), task.Slices.Apply(fit, ct));
        }
        console.MarkupLine($"[grey]{Markup.Escape(task.Name)}: {fit.Length} train / {validation.Length} validation / {test.Length} test; tokenized and {lower} lower layers cached in {cacheSeconds:F1} s; {(frozen ? "encoder frozen, heads only" : $"fine-tuning the top {s.TopLayers} layer(s)")}, {s.MaxTokens} tokens, {s.Epochs} epoch(s), AdamW lr {(frozen ? "" : $"{s.LearningRate:G3} (top layers), ")}{s.HeadLearningRate:G3} (heads), batch {s.BatchSize}; MoE experts: {s.MoeExperts}.[/]");

        var names = task.Slices.SliceNames;
        var sramOptions = SramSettings.Parse(s.SramOptions);
        var trials = new List<TrialResult>();
        var comparisons = new Dictionary<int, SliceComparison>();
        var reportOptions = new SliceReportOptions { BootstrapResamples = s.BootstrapResamples, Seed = 42 };
        nn.Module<Tensor, Tensor> Backbone() => frozen ? nn.Identity() : BertTopLayers.From(encoder, s.TopLayers);

        void Trials(Func<string, int, double, Action<double>> startBar, Action<string, int, string> finished, Action<string, int, string> traced)
        {
            for (int k = 0; k < s.Seeds; k++)
            {
                int seed = s.FirstSeed + k;
                SliceReport? vanillaTest = null, vanillaValidation = null;
                foreach (var method in s.Methods)
                {
                    ct.ThrowIfCancellationRequested();
                    int done = 0;
                    var setValue = startBar(method, seed, s.Epochs * (method == "MANUAL" && s.ManualSearch ? ManualReweighting.PaperAlphas.Count : 1));
                    var progress = new Progress<TrainingProgress>(_ => setValue(++done));
                    TrialResult result;
                    SliceReport report;
                    if (method == "MANUAL")
                    {
                        if (vanillaValidation is null)
                        {
                            using var v = TrainVanilla(seed, progress, out _);
                            vanillaValidation = v.Evaluate(validationData, new SliceReportOptions { BootstrapResamples = 0 });
                        }
                        (result, report) = Manual(seed, vanillaValidation, progress);
                    }
                    else
                    {
                        torch.manual_seed(seed);
                        using ITrainableModel model = Make(method, heads: false, null);
                        double warmSeconds = WarmStart(model, method, seed, null);
                        var trace = new List<EpochTrace>();
                        var fitResult = Fit(model, seed, s.TraceEpochs ? new Tracer(progress, model, validationData, task.Metric, trace, line => traced(method, seed, line)) : progress);
                        report = model.Evaluate(testData, reportOptions);
                        result = Score(method, seed, model, report, fitResult, null) with
                        {
                            Sram = model is SliceAwareModel sram ? SramDiagnostics.Measure(sram, testData) : null,
                            Trace = trace,
                            WarmStartSeconds = warmSeconds,
                        };
                        if (method == "VANILLA") vanillaValidation = model.Evaluate(validationData, new SliceReportOptions { BootstrapResamples = 0 });
                    }
                    if (method == "VANILLA") vanillaTest = report;
                    if (method == "SRAM" && vanillaTest is not null) comparisons[seed] = SliceReport.Compare(vanillaTest, report);
                    trials.Add(result);
                    finished(method, seed, string.Create(CultureInfo.InvariantCulture,
                        $"{method,-7} seed {seed}: {task.Metric} {result.Overall * 100:F1}, F1 {result.OverallF1 * 100:F1}, {result.TrainSeconds:F0} s, {result.ExamplesPerSecond:F1} train examples/s"));
                    if (result.Sram is { } diagnostics) traced(method, seed, $"SRAM    seed {seed} on test: {diagnostics}");
                }
            }
        }

        if (live)
        {
            var later = new List<string>();
            console.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var bars = new Dictionary<(string, int), ProgressTask>();
                    for (int k = 0; k < s.Seeds; k++)
                        foreach (var m in s.Methods)
                            bars[(m, s.FirstSeed + k)] = ctx.AddTask($"{m,-7} seed {s.FirstSeed + k}", autoStart: false);
                    Trials((m, seed, max) =>
                    {
                        var bar = bars[(m, seed)];
                        bar.MaxValue = max;
                        bar.StartTask();
                        return v => bar.Value = v;
                    }, (m, seed, line) =>
                    {
                        var bar = bars[(m, seed)];
                        bar.Value = bar.MaxValue;
                        bar.Description = Markup.Escape(line);
                        bar.StopTask();
                    }, (_, _, line) => later.Add(line));
                });
            foreach (var line in later) console.WriteLine(line);
        }
        else
        {
            Trials((_, _, _) => _ => { }, (_, _, line) => console.WriteLine(line), (_, _, line) => console.WriteLine(line));
        }

        var support = names.ToDictionary(n => n, n => testData.Slices.Members(testData.Slices.IndexOf(n)).Length);
        long fullVanilla = encoderParameters + (width * 2 + 2);
        var summary = Summarize(trials, names, fullVanilla);
        return new ExperimentResult(task.Name, task.Metric.ToString(), trials, summary, comparisons, names, support, cacheSeconds, fullVanilla);

        ITrainableModel TrainVanilla(int seed, IProgress<TrainingProgress> progress, out TrainingResult r)
        {
            torch.manual_seed(seed);
            var model = Make("VANILLA", heads: false, null);
            WarmStart(model, "VANILLA", seed, null);
            r = Fit(model, seed, progress);
            return model;
        }

        // A method's model over the fine-tuned top layers, or (heads) over the pooled output directly.
        ITrainableModel Make(string method, bool heads, Action<ManualReweightingOptions>? manual)
        {
            nn.Module<Tensor, Tensor> Over() => heads ? nn.Identity() : Backbone();
            return method switch
            {
                "VANILLA" => VanillaModel.Create(Over(), width, 2),
                "HPS" => HardParameterSharingModel.Create(Over(), width, 2, names),
                "MANUAL" => ManualReweightingModel.Create(Over(), width, 2, names, manual),
                "MoE" => MixtureOfExpertsModel.Create(s.MoeExperts == MoeExperts.TopLayers ? Backbone : () => new PooledAdapter(width), width, 2, names),
                "SRAM" => SliceAwareModel.Create(Over(), width, 2, names, sramOptions),
                _ => throw new ArgumentException($"Unknown method '{method}'; known: {string.Join(", ", AllMethods)}."),
            };
        }

        // Trains the method's heads on the pooled encoder output and copies them into the model.
        double WarmStart(ITrainableModel model, string method, int seed, Action<ManualReweightingOptions>? manual)
        {
            if (warmData is null || method == "MoE") return 0;
            var watch = Stopwatch.StartNew();
            torch.manual_seed(seed);
            using var heads = Make(method, heads: true, manual);
            SliceTrainer.For(heads).WithData(warmData).WithEpochs(s.WarmStartEpochs).WithBatchSize(s.BatchSize)
                .WithOptimizer(OptimizerOptions.AdamW(s.WarmStartLearningRate)).WithSeed(seed).Fit(ct);
            HeadTransfer.Copy(heads.Module, model.Module);
            return watch.Elapsed.TotalSeconds;
        }

        TrainingResult Fit(ITrainableModel model, int seed, IProgress<TrainingProgress> progress)
        {
            var trainer = SliceTrainer.For(model)
                .WithData(trainData)
                .WithEpochs(s.Epochs)
                .WithBatchSize(s.BatchSize)
                .WithOptimizer(OptimizerOptions.AdamW(s.HeadLearningRate))
                .WithSeed(seed)
                .WithProgress(progress);
            // Every copy of the pretrained top layers (one per model; MoE with TopLayers experts: one per expert and
            // the gate; none when the encoder is frozen) trains at --lr, everything else at --head-lr.
            int index = 0;
            foreach (var layers in model.Module.modules().OfType<BertTopLayers>())
                trainer.WithParameterGroup(index++ == 0 ? "encoder" : $"encoder {index}", layers, s.LearningRate);
            return trainer.Fit(ct);
        }

        TrialResult Score(string method, int seed, ITrainableModel model, SliceReport report, TrainingResult fitResult, string? note) =>
            new(method, seed, model.ParameterCount(), report.Overall.Metrics.Get(task.Metric), report.Overall.Metrics.F1, report.Overall.Metrics.Mcc,
                names.ToDictionary(n => n, n => report[n].Metrics.IsEmpty ? double.NaN : report[n].Metrics.Get(task.Metric)),
                fitResult.Elapsed.TotalSeconds, trainData.Count, fitResult.EpochsRun, fitResult.EpochsRun * (int)Math.Ceiling(trainData.Count / (double)s.BatchSize), note);

        (TrialResult, SliceReport) Manual(int seed, SliceReport vanillaValidation, IProgress<TrainingProgress> progress)
        {
            var chosen = ManualReweighting.SelectSlices(vanillaValidation);
            var alphas = s.ManualSearch ? ManualReweighting.PaperAlphas : new[] { ManualReweighting.PaperAlphas[0] };
            TrainingResult? last = null;
            double seconds = 0, warmSeconds = 0;
            var search = ManualReweighting.SearchAlpha(alphas,
                alpha =>
                {
                    torch.manual_seed(seed);
                    Action<ManualReweightingOptions> configure = o => { o.Alpha = alpha; o.ReweightedSlices = chosen.ToArray(); };
                    var model = (ManualReweightingModel)Make("MANUAL", heads: false, configure);
                    warmSeconds += WarmStart(model, "MANUAL", seed, configure);
                    last = Fit(model, seed, progress);
                    seconds += last.Elapsed.TotalSeconds;
                    return model;
                },
                model =>
                {
                    var r = model.Evaluate(validationData, new SliceReportOptions { BootstrapResamples = 0 });
                    return new[] { "base" }.Concat(chosen).Average(n => r[n].Metrics.Get(task.Metric));
                }, ct);
            using var best = search.BestModel;
            var report = best.Evaluate(testData, reportOptions);
            string note = chosen.Count == 0 ? "no slice 5 points below overall on validation: HPS loss" : $"alpha {search.BestAlpha:G} on {string.Join(", ", chosen)}";
            var result = Score("MANUAL", seed, best, report, last!, note) with { TrainSeconds = seconds / alphas.Count, WarmStartSeconds = warmSeconds / alphas.Count };
            return (result, report);
        }
    }

    internal static IReadOnlyList<SummaryRow> Summarize(IReadOnlyList<TrialResult> trials, IReadOnlyList<string> names, long fullVanillaParameters)
    {
        var rows = new List<SummaryRow>();
        var vanilla = trials.Where(t => t.Method == "VANILLA").ToDictionary(t => t.Seed);
        long vanillaParams = vanilla.Values.FirstOrDefault()?.Parameters ?? 0;
        foreach (var group in trials.GroupBy(t => t.Method))
        {
            var overall = group.Select(t => t.Overall * 100).ToArray();
            double mean = overall.Average();
            double std = overall.Length > 1 ? Math.Sqrt(overall.Sum(v => (v - mean) * (v - mean)) / (overall.Length - 1)) : 0;
            double maxLift = double.NaN, avgLift = double.NaN;
            string maxSlice = "";
            if (group.Key != "VANILLA" && vanilla.Count > 0)
            {
                var lifts = names.Skip(1).Select(n => (Name: n, Lift: group.Where(t => vanilla.ContainsKey(t.Seed))
                        .Select(t => (t.Slice[n] - vanilla[t.Seed].Slice[n]) * 100).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average()))
                    .Where(x => double.IsFinite(x.Lift)).ToArray();
                if (lifts.Length > 0)
                {
                    var top = lifts.MaxBy(x => x.Lift);
                    maxLift = top.Lift;
                    maxSlice = top.Name;
                    avgLift = lifts.Average(x => x.Lift);
                }
            }
            long parameters = group.First().Parameters;
            rows.Add(new SummaryRow(group.Key, (parameters - vanillaParams) / (double)fullVanillaParameters, mean, std, maxLift, maxSlice, avgLift,
                group.Average(t => t.ExamplesPerSecond), group.Average(t => t.SecondsPerStep), parameters));
        }
        return rows;
    }

    /// <summary>Scores the model on the validation split after every epoch (synchronously, between epochs) and forwards the progress.</summary>
    private sealed class Tracer(IProgress<TrainingProgress> inner, ITrainableModel model, SliceDataset validation, Metric metric, List<EpochTrace> trace, Action<string> log)
        : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            var score = model.Evaluate(validation, new SliceReportOptions { BootstrapResamples = 0 }).Overall.Metrics.Get(metric);
            var sram = model is SliceAwareModel s ? SramDiagnostics.Measure(s, validation) : null;
            trace.Add(new EpochTrace(value.Epoch, value.TrainingLoss, score, sram));
            log(string.Create(CultureInfo.InvariantCulture, $"  epoch {value.Epoch}: train loss {value.TrainingLoss:F4}, validation {metric} {score * 100:F1}{(sram is null ? "" : "; " + sram)}"));
            inner.Report(value);
        }
    }
}
