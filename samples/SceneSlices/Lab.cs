using System.Diagnostics;
using SceneSlices.Scenes;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SceneSlices;

/// <summary>The settings of one run.</summary>
public sealed record SceneRunSettings
{
    public SceneOptions Scenes { get; init; } = new();
    public NoisyDetectorOptions Detector { get; init; } = new();
    public BackboneMode Mode { get; init; } = BackboneMode.FrozenCached;
    public int DataSeed { get; init; } = 1;
    public int TrainSize { get; init; } = 3000;
    public int ValidationSize { get; init; } = 1000;
    public int TestSize { get; init; } = 2000;
    public int Seeds { get; init; } = 3;
    public int FirstSeed { get; init; } = 1;
    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;
    public IReadOnlyList<string> Methods { get; init; } = new[] { "VANILLA", "HPS", "MANUAL", "MoE", "SRAM" };
    public IReadOnlyList<double> ManualAlphas { get; init; } = ManualReweighting.PaperAlphas;
    public string? CacheDirectory { get; init; } = DefaultCacheDirectory;

    public static string DefaultCacheDirectory => Path.Combine(
        Environment.GetEnvironmentVariable("SLICELEARNING_CACHE") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slicelearning"),
        "scene-features");
}

/// <summary>Scenes, detector SFs and model inputs of one split.</summary>
public sealed class SceneSplit : IDisposable
{
    public SceneSplit(string name, IReadOnlyList<Scene> scenes, SliceMatrix sfSlices, SliceMatrix trueSlices, Tensor features)
    {
        Name = name;
        Scenes = scenes;
        SfSlices = sfSlices;
        TrueSlices = trueSlices;
        Features = features;
        var labels = torch.tensor(scenes.Select(s => (long)s.Label).ToArray());
        WithSfSlices = new SliceDataset(features, labels, sfSlices);
        WithTrueSlices = new SliceDataset(features, labels, trueSlices);
    }

    public string Name { get; }
    public IReadOnlyList<Scene> Scenes { get; }
    public SliceMatrix SfSlices { get; }
    public SliceMatrix TrueSlices { get; }
    public Tensor Features { get; }

    /// <summary>Training/validation view: slice membership from the SFs (detector output).</summary>
    public SliceDataset WithSfSlices { get; }

    /// <summary>Evaluation view: the true slices.</summary>
    public SliceDataset WithTrueSlices { get; }

    public void Dispose()
    {
        WithSfSlices.Dispose();
        WithTrueSlices.Dispose();
        Features.Dispose();
    }
}

/// <summary>The three splits of one data set (generated once; model seeds vary).</summary>
public sealed class SceneData : IDisposable
{
    private SceneData(SceneSplit train, SceneSplit validation, SceneSplit test) => (Train, Validation, Test) = (train, validation, test);

    public SceneSplit Train { get; }
    public SceneSplit Validation { get; }
    public SceneSplit Test { get; }
    public static IReadOnlyList<string> SliceNames => SceneSlicing.SliceNames;

    public static SceneData Create(SceneRunSettings s, Action<string>? log = null)
    {
        var generator = new SceneGenerator(s.Scenes);
        var detector = new NoisyDetector(s.Detector);
        SceneSplit Split(string name, int first, int count)
        {
            var clock = Stopwatch.StartNew();
            var scenes = generator.GenerateMany(count, s.DataSeed, first);
            log?.Invoke($"{name}: {count} scenes drawn in {clock.Elapsed.TotalSeconds:F1} s");
            var key = $"{s.Scenes.Describe()}|seed={s.DataSeed}|first={first}|count={count}";
            var features = Features.Compute(scenes, s.Mode, key, s.CacheDirectory, log);
            return new SceneSplit(name, scenes, SceneSlicing.Apply(scenes, detector), SceneSlicing.Truth(scenes), features);
        }
        var train = Split("train", 0, s.TrainSize);
        var validation = Split("validation", s.TrainSize, s.ValidationSize);
        var test = Split("test", s.TrainSize + s.ValidationSize, s.TestSize);
        return new SceneData(train, validation, test);
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}

/// <summary>One trained model's test scores on the true slices.</summary>
public sealed record TrialResult(string Method, int Seed, long Parameters, double OverallF1, IReadOnlyDictionary<string, double> SliceF1, double Seconds, string? Note = null);

/// <summary>Builds, trains (with the library's SliceTrainer) and scores each method.</summary>
public sealed class Lab(SceneRunSettings settings, SceneData data)
{
    public SceneRunSettings Settings { get; } = settings;
    public SceneData Data { get; } = data;
    private IReadOnlyList<string> Slices => SceneData.SliceNames;
    private long Width => Backbones.Width(Settings.Mode);

    public ITrainableModel Build(string method, double alpha = 0, IReadOnlyList<string>? reweighted = null) => method switch
    {
        "VANILLA" => VanillaModel.Create(Backbones.Create(Settings.Mode), Width, 2),
        "HPS" => HardParameterSharingModel.Create(Backbones.Create(Settings.Mode), Width, 2, Slices),
        "MANUAL" => ManualReweightingModel.Create(Backbones.Create(Settings.Mode), Width, 2, Slices, o => { o.Alpha = alpha; o.ReweightedSlices = (reweighted ?? Array.Empty<string>()).ToArray(); }),
        "MoE" => MixtureOfExpertsModel.Create(() => Backbones.Create(Settings.Mode), Width, 2, Slices),
        "SRAM" => SliceAwareModel.Create(Backbones.Create(Settings.Mode), Width, 2, Slices),
        _ => throw new ArgumentException($"Unknown method '{method}'; expected VANILLA, HPS, MANUAL, MoE or SRAM.", nameof(method)),
    };

    public TrainingResult Fit(ITrainableModel model, int seed) =>
        SliceTrainer.For(model)
            .WithData(Data.Train.WithSfSlices)
            .WithEpochs(Settings.Epochs)
            .WithBatchSize(Settings.BatchSize)
            .WithOptimizer(OptimizerOptions.Adam(Settings.LearningRate))
            .WithSeed(seed)
            .Fit();

    public static SliceReport Evaluate(ITrainableModel model, SliceDataset data) =>
        model.Evaluate(data, new SliceReportOptions { BootstrapResamples = 0 });

    public TrialResult Score(string method, ITrainableModel model, int seed, double seconds, string? note = null)
    {
        var report = Evaluate(model, Data.Test.WithTrueSlices);
        return new TrialResult(method, seed, model.ParameterCount() + Backbones.FrozenParameters(Settings.Mode), report.Overall.Metrics.F1,
            Slices.ToDictionary(s => s, s => report[s].Metrics.F1), seconds, note);
    }

    /// <summary>Seeds torch, builds, trains and scores one method; <paramref name="keep"/> sees the trained model before it is disposed.</summary>
    public TrialResult Trial(string method, int seed, Action<ITrainableModel>? keep = null)
    {
        torch.manual_seed(seed);
        using var model = Build(method);
        var clock = Stopwatch.StartNew();
        Fit(model, seed);
        var result = Score(method, model, seed, clock.Elapsed.TotalSeconds);
        keep?.Invoke(model);
        return result;
    }

    /// <summary>
    /// MANUAL as in the paper: slices at least 5 F1 below overall for VANILLA on validation (per their SFs)
    /// get α from the grid; α is chosen by the mean validation F1 over the base slice and the chosen slices.
    /// </summary>
    public TrialResult Manual(int seed, SliceReport vanillaValidation)
    {
        var chosen = ManualReweighting.SelectSlices(vanillaValidation);
        var clock = Stopwatch.StartNew();
        var search = ManualReweighting.SearchAlpha(Settings.ManualAlphas,
            alpha =>
            {
                torch.manual_seed(seed);
                var model = Build("MANUAL", alpha, chosen);
                Fit(model, seed);
                return model;
            },
            model =>
            {
                var report = Evaluate(model, Data.Validation.WithSfSlices);
                return new[] { "base" }.Concat(chosen).Average(s => report[s].Metrics.F1);
            });
        using var best = search.BestModel;
        string note = chosen.Count == 0 ? "no slice 5 F1 below overall: HPS loss" : $"α = {search.BestAlpha:G} on {string.Join(", ", chosen)}";
        return Score("MANUAL", best, seed, clock.Elapsed.TotalSeconds, note);
    }
}
