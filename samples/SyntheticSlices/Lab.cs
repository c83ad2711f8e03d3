using System.Diagnostics;
using SliceLearning.Data.Synthetic;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SyntheticSlices;

/// <summary>The command-line settings of one run.</summary>
internal sealed record RunSettings(
    int Seeds,
    int FirstSeed,
    int Epochs,
    int BatchSize,
    double LearningRate,
    IReadOnlySet<char> Experiments,
    DirectoryInfo Output,
    int ManySlicesMax,
    int TrainSize,
    int ValidationSize,
    int TestSize,
    IReadOnlyList<int> Widths,
    bool Plots);

/// <summary>Train, validation (SF membership) and test (true membership) sets for one seed.</summary>
internal sealed class DataBundle : IDisposable
{
    public DataBundle(SyntheticSliceGenerator generator, SyntheticSplits splits)
    {
        Generator = generator;
        Splits = splits;
        Train = ToDataset(splits.Train, splits.Train.SfSlices);
        Validation = ToDataset(splits.Validation, splits.Validation.SfSlices);
        Test = ToDataset(splits.Test, splits.Test.TrueSlices);
    }

    public SyntheticSliceGenerator Generator { get; }
    public SyntheticSplits Splits { get; }
    public SliceDataset Train { get; }
    public SliceDataset Validation { get; }
    public SliceDataset Test { get; }
    public IReadOnlyList<string> SliceNames => Generator.SliceNames;

    public static SliceDataset ToDataset(SyntheticSliceData data, SliceMatrix slices) =>
        new(torch.tensor(data.FeatureArray(), new long[] { data.Count, 2 }), torch.tensor(data.LabelArray()), slices);

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}

/// <summary>One trained model's test scores.</summary>
internal sealed record TrialResult(string Method, int Seed, long Parameters, double OverallF1, IReadOnlyDictionary<string, double> SliceF1, double Seconds, string? Note = null);

/// <summary>Builds, trains and scores the methods on the paper's backbone.</summary>
internal sealed class Lab(RunSettings settings)
{
    private readonly Dictionary<string, TrialResult> _cache = new(StringComparer.Ordinal);

    public RunSettings Settings { get; } = settings;

    /// <summary>
    /// Like <see cref="Trial"/>, but a configuration already trained in this run (same key: method, width,
    /// task and seed) is reused instead of retrained, e.g. experiment (a)'s d = 13 runs in (d) and (e).
    /// </summary>
    public TrialResult CachedTrial(string key, string method, Func<ITrainableModel> build, DataBundle data, int seed, IEnumerable<string> reportedSlices, Action<ITrainableModel>? inspect = null)
    {
        if (inspect is null && _cache.TryGetValue(key, out var cached)) return cached;
        var result = Trial(method, build, data, seed, reportedSlices, inspect);
        _cache[key] = result;
        return result;
    }

    /// <summary>The paper's synthetic backbone: a 2-layer MLP from <paramref name="inputs"/> features (the 2 coordinates) to width d with a final ReLU (d = 13 in the paper).</summary>
    public static nn.Module<Tensor, Tensor> Backbone(long width, long inputs = 2) => nn.Sequential(
        ("fc1", nn.Linear(inputs, width)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(width, width)), ("relu2", nn.ReLU()));

    public DataBundle Data(SyntheticSliceOptions options, int seed) =>
        new(new SyntheticSliceGenerator(options), new SyntheticSliceGenerator(options).GenerateSplits(Settings.TrainSize, Settings.ValidationSize, Settings.TestSize, seed));

    public TrainingResult Fit(ITrainableModel model, DataBundle data, int seed, int? epochs = null) =>
        SliceTrainer.For(model)
            .WithData(data.Train)
            .WithEpochs(epochs ?? Settings.Epochs)
            .WithBatchSize(Settings.BatchSize)
            .WithOptimizer(OptimizerOptions.Adam(Settings.LearningRate))
            .WithSeed(seed)
            .Fit();

    public static SliceReport Evaluate(ITrainableModel model, SliceDataset data) =>
        model.Evaluate(data, new SliceReportOptions { BootstrapResamples = 0 });

    /// <summary>Seeds torch, builds the model, trains it, scores it on the test set (true slices).</summary>
    public TrialResult Trial(string method, Func<ITrainableModel> build, DataBundle data, int seed, IEnumerable<string> reportedSlices, Action<ITrainableModel>? inspect = null)
    {
        torch.manual_seed(seed);
        using var model = build();
        return TrainAndScore(method, model, data, seed, reportedSlices, inspect);
    }

    public TrialResult TrainAndScore(string method, ITrainableModel model, DataBundle data, int seed, IEnumerable<string> reportedSlices, Action<ITrainableModel>? inspect = null, string? note = null)
    {
        var clock = Stopwatch.StartNew();
        Fit(model, data, seed);
        double seconds = clock.Elapsed.TotalSeconds;
        var report = Evaluate(model, data.Test);
        inspect?.Invoke(model);
        return new TrialResult(method, seed, model.ParameterCount(), report.Overall.Metrics.F1,
            reportedSlices.ToDictionary(s => s, s => report[s].Metrics.F1), seconds, note);
    }

    /// <summary>
    /// MANUAL as in the paper: slices at least 5 F1 below overall for VANILLA on validation (per their SFs)
    /// get α ∈ {2, 20, 50, 100}; α is chosen by the mean validation F1 over the base slice and the chosen slices.
    /// </summary>
    public TrialResult Manual(DataBundle data, int seed, long width, SliceReport vanillaValidation, IEnumerable<string> reportedSlices)
    {
        var chosen = ManualReweighting.SelectSlices(vanillaValidation);
        var clock = Stopwatch.StartNew();
        var search = ManualReweighting.SearchAlpha(ManualReweighting.PaperAlphas,
            alpha =>
            {
                torch.manual_seed(seed);
                var model = ManualReweightingModel.Create(Backbone(width), width, 2, data.SliceNames, o => { o.Alpha = alpha; o.ReweightedSlices = chosen.ToArray(); });
                Fit(model, data, seed);
                return model;
            },
            model =>
            {
                var report = Evaluate(model, data.Validation);
                return new[] { "base" }.Concat(chosen).Average(s => report[s].Metrics.F1);
            });
        using var best = search.BestModel;
        double seconds = clock.Elapsed.TotalSeconds;
        var test = Evaluate(best, data.Test);
        string note = chosen.Count == 0 ? "no slice 5 F1 below overall: HPS loss" : $"α = {search.BestAlpha:G} on {string.Join(", ", chosen)}";
        return new TrialResult("MANUAL", seed, best.ParameterCount(), test.Overall.Metrics.F1,
            reportedSlices.ToDictionary(s => s, s => test[s].Metrics.F1), seconds, note);
    }
}
