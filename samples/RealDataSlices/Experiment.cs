using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using SliceLearning.Backbones.Simple;
using SliceLearning.Evaluation;
using SliceLearning.Models;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RealDataSlices;

/// <summary>Fixed epochs, last epoch scored; or early stopping on validation overall F1, best epoch restored.</summary>
public enum Protocol { Fixed, Early }

/// <summary>Training settings shared by every model of a run.</summary>
public sealed record RunSettings(
    int Epochs = 60,
    int MaxEpochs = 100,
    int Patience = 10,
    double LearningRate = 1e-3,
    int BatchSize = 64,
    double WeightDecay = 0,
    IReadOnlyList<KeyValuePair<string, string>>? SramOptions = null,
    double? Clip = null,
    string? TrainCurvePath = null,
    bool CosineSchedule = false);

/// <summary>One trained model's test outcome.</summary>
public sealed record RunResult(string Dataset, Protocol Protocol, string Model, int Seed, SliceReport Report, long Parameters,
    int EpochsRun, int BestEpoch, double Seconds, IReadOnlyDictionary<string, (double Own, double Base)>? Attention);

/// <summary>The splits of a task as tensors, made once per task.</summary>
public sealed class TaskData : IDisposable
{
    public TaskData(RealTask task)
    {
        Task = task;
        Train = SliceDataset.From(task.Train, task.Featurize, task.Label, task.Slices);
        Validation = SliceDataset.From(task.Validation, task.Featurize, task.Label, task.Slices);
        Test = SliceDataset.From(task.Test, task.Featurize, task.Label, task.Slices);
    }

    public RealTask Task { get; }
    public SliceDataset Train { get; }
    public SliceDataset Validation { get; }
    public SliceDataset Test { get; }

    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
        Test.Dispose();
    }
}

public static class Experiment
{
    public static readonly string[] Models = { "vanilla", "sram" };

    /// <summary>Trains one model with one seed and scores it on the test split (positive-class F1 per slice, true SF membership).</summary>
    public static RunResult Run(TaskData data, string model, int seed, Protocol protocol, RunSettings settings, CancellationToken cancellationToken = default)
    {
        var task = data.Task;
        var watch = Stopwatch.StartNew();
        manual_seed(seed);
        var backbone = new MlpBackbone(task.FeatureWidth, task.Hidden);
        using ITrainableModel trained = model switch
        {
            "vanilla" => VanillaModel.Create(backbone, numClasses: 2),
            "sram" => SliceAwareModel.Create(backbone, numClasses: 2, task.Slices.SliceNames, o => ApplyOptions(o, settings.SramOptions)),
            _ => throw new ArgumentException($"Unknown model '{model}'; known: {string.Join(", ", Models)}.", nameof(model)),
        };
        var trainer = SliceTrainer.For(trained)
            .WithBatchSize(settings.BatchSize)
            .WithOptimizer(OptimizerOptions.Adam(settings.LearningRate, settings.WeightDecay))
            .WithSeed(seed);
        if (settings.Clip is double clip) trainer = trainer.WithGradientClipping(clip);
        if (settings.CosineSchedule) trainer = trainer.WithLearningRateSchedule(LearningRateSchedule.Cosine());
        trainer = protocol == Protocol.Fixed
            ? trainer.WithData(data.Train).WithEpochs(settings.Epochs)
            : trainer.WithData(data.Train, data.Validation).WithEpochs(settings.MaxEpochs).WithEarlyStopping(settings.Patience, ValidationMetric.OverallF1);
        if (settings.TrainCurvePath is { } curvePath)
            trainer = trainer.WithProgress(new EpochCallback(epoch =>
            {
                if (epoch % 10 != 0) return;
                var train = trained.Evaluate(data.Train, new SliceReportOptions { BootstrapResamples = 0 });
                var test = trained.Evaluate(data.Test, new SliceReportOptions { BootstrapResamples = 0 });
                static double MeanSliceF1(SliceReport r) => r.Slices.Skip(1).Where(x => !x.IsEmpty).Average(x => x.Metrics.F1);
                File.AppendAllText(curvePath, string.Create(CultureInfo.InvariantCulture,
                    $"{task.Name},{protocol.ToString().ToLowerInvariant()},{model},{seed},{epoch},{train.Overall.Metrics.F1:F4},{test.Overall.Metrics.F1:F4},{MeanSliceF1(train):F4},{MeanSliceF1(test):F4}{Environment.NewLine}"));
            }));
        var fit = trainer.Fit(cancellationToken);
        var report = trained.Evaluate(data.Test, new SliceReportOptions { BootstrapResamples = 0 });
        var attention = trained is SliceAwareModel sram ? OwnAttention(sram, data.Test) : null;
        return new RunResult(task.Name, protocol, model, seed, report, trained.ParameterCount(), fit.EpochsRun, fit.BestEpoch,
            watch.Elapsed.TotalSeconds, attention);
    }

    /// <summary>
    /// For each slice: the mean attention weight that the slice's true members put on the slice's
    /// own expert, and on the base expert.
    /// </summary>
    private static Dictionary<string, (double Own, double Base)> OwnAttention(SliceAwareModel model, SliceDataset test)
    {
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var output = model.Run(test.Features);
        var a = output.AttentionWeights;                          // [N, m]
        var member = test.Membership.to(a.dtype);                 // [N, m]
        var result = new Dictionary<string, (double, double)>();
        var names = model.SliceNames;
        for (int j = 0; j < names.Count; j++)
        {
            var mj = member.select(1, j);
            double n = mj.sum().item<float>();
            if (n == 0) { result[names[j]] = (double.NaN, double.NaN); continue; }
            double own = (a.select(1, j) * mj).sum().item<float>() / n;
            double baseWeight = (a.select(1, 0) * mj).sum().item<float>() / n;
            result[names[j]] = (own, baseWeight);
        }
        return result;
    }

    /// <summary>Sets <see cref="SliceAwareOptions"/> properties by name (any public settable property; enums by name, null for nullable).</summary>
    public static void ApplyOptions(SliceAwareOptions options, IReadOnlyList<KeyValuePair<string, string>>? assignments)
    {
        if (assignments is null) return;
        foreach (var (name, text) in assignments)
        {
            var property = typeof(SliceAwareOptions).GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                ?? throw new ArgumentException($"--sram {name}={text}: SliceAwareOptions has no property '{name}'; it has {string.Join(", ", typeof(SliceAwareOptions).GetProperties().Where(p => p.CanWrite).Select(p => p.Name))}.");
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            object? value;
            try
            {
                value = text.Equals("null", StringComparison.OrdinalIgnoreCase) && (Nullable.GetUnderlyingType(property.PropertyType) is not null || !property.PropertyType.IsValueType)
                    ? null
                    : type.IsEnum ? Enum.Parse(type, text, ignoreCase: true)
                    : Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidCastException or OverflowException)
            {
                throw new ArgumentException($"--sram {name}={text}: '{text}' is not a valid {type.Name}.", e);
            }
            property.SetValue(options, value);
        }
    }

    /// <summary>Parses "Name=Value" pairs.</summary>
    public static List<KeyValuePair<string, string>> ParseAssignments(IEnumerable<string> items) =>
        items.Select(s =>
        {
            int eq = s.IndexOf('=');
            if (eq <= 0 || eq == s.Length - 1) throw new ArgumentException($"--sram takes Name=Value (e.g. ExpertSize=32), got '{s}'.");
            return new KeyValuePair<string, string>(s[..eq].Trim(), s[(eq + 1)..].Trim());
        }).ToList();
}

/// <summary>Calls back synchronously after every epoch (System.Progress would post to the thread pool).</summary>
internal sealed class EpochCallback(Action<int> onEpoch) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => onEpoch(value.Epoch);
}
