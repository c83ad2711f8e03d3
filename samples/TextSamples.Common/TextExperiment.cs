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
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Transformer layers fine-tuned on top of the cached lower layers.</summary>
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
}

/// <summary>What each MoE expert (and its gate) is.</summary>
public enum MoeExperts
{
    /// <summary>Mean-pooled frozen lower-layer states, then Linear(H, H) + GELU: cheap, so k + 2 of them fit in a quick run.</summary>
    Adapter,
    /// <summary>A full copy of the fine-tuned top layers per expert and for the gate: k + 2 times a VANILLA step.</summary>
    TopLayers,
}

/// <summary>MoE's light expert: mean pooling of the cached token states (mask channel last), Linear(H, H), GELU.</summary>
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
        var mask = input.select(2, _hidden).unsqueeze(-1);
        var pooled = (input.narrow(2, 0, _hidden) * mask).sum(1) / mask.sum(1).clamp_min(1e-9);
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

        bool live = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        var clock = Stopwatch.StartNew();
        SliceDataset Build(T[] items, string role)
        {
            var encoded = items.Select(x => task.Encode(tokenizer, x, s.MaxTokens)).ToArray();
            string what = $"caching {lower} frozen MiniLM layers: {role} ({items.Length})";
            var watch = Stopwatch.StartNew();
            var features = live
                ? console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(ctx =>
                    {
                        var bar = ctx.AddTask(what, maxValue: items.Length);
                        return BertTopLayers.CacheInputs(encoder, encoded, lower, s.MaxTokens, 32, new Progress<int>(n => bar.Value = n), ct);
                    })
                : BertTopLayers.CacheInputs(encoder, encoded, lower, s.MaxTokens, 32, null, ct);
            if (!live) console.WriteLine($"{what}: {watch.Elapsed.TotalSeconds:F1} s");
            var labels = torch.tensor(items.Select(x => (long)task.Label(x)).ToArray());
            return new SliceDataset(features, labels, task.Slices.Apply(items, ct));
        }
        using var trainData = Build(fit, "train");
        using var validationData = Build(validation, "validation");
        using var testData = Build(test, "test");
        double cacheSeconds = clock.Elapsed.TotalSeconds;
        console.MarkupLine($"[grey]{Markup.Escape(task.Name)}: {fit.Length} train / {validation.Length} validation / {test.Length} test; tokenized and {lower} lower layers cached in {cacheSeconds:F1} s; fine-tuning the top {s.TopLayers} layer(s), {s.MaxTokens} tokens, {s.Epochs} epoch(s), AdamW lr {s.LearningRate:G3}, batch {s.BatchSize}; MoE experts: {s.MoeExperts}.[/]");

        var names = task.Slices.SliceNames;
        var trials = new List<TrialResult>();
        var comparisons = new Dictionary<int, SliceComparison>();
        var reportOptions = new SliceReportOptions { BootstrapResamples = s.BootstrapResamples, Seed = 42 };
        nn.Module<Tensor, Tensor> Backbone() => BertTopLayers.From(encoder, s.TopLayers);
        long width = encoder.Options.HiddenSize;

        void Trials(Func<string, int, double, Action<double>> startBar, Action<string, int, string> finished)
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
                        using ITrainableModel model = method switch
                        {
                            "VANILLA" => VanillaModel.Create(Backbone(), width, 2),
                            "HPS" => HardParameterSharingModel.Create(Backbone(), width, 2, names),
                            "MoE" => MixtureOfExpertsModel.Create(s.MoeExperts == MoeExperts.TopLayers ? Backbone : () => new PooledAdapter(width), width, 2, names),
                            "SRAM" => SliceAwareModel.Create(Backbone(), width, 2, names),
                            _ => throw new ArgumentException($"Unknown method '{method}'; known: {string.Join(", ", AllMethods)}."),
                        };
                        var fitResult = Fit(model, seed, progress);
                        report = model.Evaluate(testData, reportOptions);
                        result = Score(method, seed, model, report, fitResult, null);
                        if (method == "VANILLA") vanillaValidation = model.Evaluate(validationData, new SliceReportOptions { BootstrapResamples = 0 });
                    }
                    if (method == "VANILLA") vanillaTest = report;
                    if (method == "SRAM" && vanillaTest is not null) comparisons[seed] = SliceReport.Compare(vanillaTest, report);
                    trials.Add(result);
                    finished(method, seed, string.Create(CultureInfo.InvariantCulture,
                        $"{method,-7} seed {seed}: {task.Metric} {result.Overall * 100:F1}, F1 {result.OverallF1 * 100:F1}, {result.TrainSeconds:F0} s, {result.ExamplesPerSecond:F1} train examples/s"));
                }
            }
        }

        if (live)
        {
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
                    });
                });
        }
        else
        {
            Trials((_, _, _) => _ => { }, (_, _, line) => console.WriteLine(line));
        }

        var support = names.ToDictionary(n => n, n => testData.Slices.Members(testData.Slices.IndexOf(n)).Length);
        long fullVanilla = encoderParameters + (width * 2 + 2);
        var summary = Summarize(trials, names, fullVanilla);
        return new ExperimentResult(task.Name, task.Metric.ToString(), trials, summary, comparisons, names, support, cacheSeconds, fullVanilla);

        VanillaModel TrainVanilla(int seed, IProgress<TrainingProgress> progress, out TrainingResult r)
        {
            torch.manual_seed(seed);
            var model = VanillaModel.Create(Backbone(), width, 2);
            r = Fit(model, seed, progress);
            return model;
        }

        TrainingResult Fit(ITrainableModel model, int seed, IProgress<TrainingProgress> progress) =>
            SliceTrainer.For(model)
                .WithData(trainData)
                .WithEpochs(s.Epochs)
                .WithBatchSize(s.BatchSize)
                .WithOptimizer(OptimizerOptions.AdamW(s.LearningRate))
                .WithSeed(seed)
                .WithProgress(progress)
                .Fit(ct);

        TrialResult Score(string method, int seed, ITrainableModel model, SliceReport report, TrainingResult fitResult, string? note) =>
            new(method, seed, model.ParameterCount(), report.Overall.Metrics.Get(task.Metric), report.Overall.Metrics.F1, report.Overall.Metrics.Mcc,
                names.ToDictionary(n => n, n => report[n].Metrics.IsEmpty ? double.NaN : report[n].Metrics.Get(task.Metric)),
                fitResult.Elapsed.TotalSeconds, trainData.Count, fitResult.EpochsRun, fitResult.EpochsRun * (int)Math.Ceiling(trainData.Count / (double)s.BatchSize), note);

        (TrialResult, SliceReport) Manual(int seed, SliceReport vanillaValidation, IProgress<TrainingProgress> progress)
        {
            var chosen = ManualReweighting.SelectSlices(vanillaValidation);
            var alphas = s.ManualSearch ? ManualReweighting.PaperAlphas : new[] { ManualReweighting.PaperAlphas[0] };
            TrainingResult? last = null;
            double seconds = 0;
            var search = ManualReweighting.SearchAlpha(alphas,
                alpha =>
                {
                    torch.manual_seed(seed);
                    var model = ManualReweightingModel.Create(Backbone(), width, 2, names, o => { o.Alpha = alpha; o.ReweightedSlices = chosen.ToArray(); });
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
            var result = Score("MANUAL", seed, best, report, last!, note) with { TrainSeconds = seconds / alphas.Count };
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
}
