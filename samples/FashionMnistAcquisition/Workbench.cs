using SliceLearning.Backbones.Simple;
using SliceLearning.Models;
using SliceLearning.Slicing;
using SliceLearning.SliceTuner;
using SliceLearning.Training;
using static TorchSharp.torch;

namespace FashionMnistAcquisition;

/// <summary>
/// The data and the training of the sample: the training images as one data set, the curve
/// validation set (<see cref="SampleOptions.ValidationPerSlice"/> test images per class), a disjoint
/// report set for the final metrics, each seed's initial data and acquisition pools, and the
/// evaluator that trains the CNN through <see cref="SliceTrainer"/>.
/// </summary>
public sealed class Workbench : IDisposable
{
    private readonly SampleOptions _options;
    private readonly int[][] _trainRowsByClass;

    private Workbench(SampleOptions options, string[] classNames, SliceDataset train, SliceDataset curves, SliceDataset report, int[][] trainRowsByClass)
    {
        _options = options;
        ClassNames = classNames;
        TrainSet = train;
        CurveSet = curves;
        ReportSet = report;
        _trainRowsByClass = trainRowsByClass;
    }

    public string[] ClassNames { get; }

    public int Slices => ClassNames.Length;

    public SliceDataset TrainSet { get; }

    public SliceDataset CurveSet { get; }

    public SliceDataset ReportSet { get; }

    /// <summary>Loads the images; throws <see cref="FileNotFoundException"/> when the data set is not installed.</summary>
    public static Workbench Load(SampleOptions options)
    {
        var train = ImageData.Load(options.Dataset, "train", options.FashionDirectory, options.MnistDirectory);
        var test = ImageData.Load(options.Dataset, "t10k", options.FashionDirectory, options.MnistDirectory);
        int slices = train.ClassNames.Length;

        // Validation: per class, ValidationPerSlice test images for the curves and a disjoint
        // ReportPerSlice (or all the rest, when fewer) for the reported metrics.
        var testRng = new Random(12345);
        var testByClass = Enumerable.Range(0, slices).Select(c => Enumerable.Range(0, test.Count).Where(r => test.Labels[r] == c).ToArray()).ToArray();
        foreach (var rows in testByClass) testRng.Shuffle(rows);
        var curveRows = testByClass.Select(rows => rows[..Math.Min(options.ValidationPerSlice, rows.Length)]).ToArray();
        var reportRows = testByClass.Select(rows => rows[Math.Min(options.ValidationPerSlice, rows.Length)..][..Math.Min(options.ReportPerSlice, Math.Max(0, rows.Length - options.ValidationPerSlice))]).ToArray();
        var trainByClass = Enumerable.Range(0, slices).Select(c => Enumerable.Range(0, train.Count).Where(r => train.Labels[r] == c).ToArray()).ToArray();
        if (options.TrainPerSliceLimit is int limit) trainByClass = trainByClass.Select(rows => rows[..Math.Min(limit, rows.Length)]).ToArray();

        // The training set's rows are the kept training images in ascending order.
        var kept = trainByClass.SelectMany(r => r).Order().ToArray();
        var rowOf = kept.Select((image, row) => (image, row)).ToDictionary(t => t.image, t => t.row);
        var trainSet = Dataset(train, kept, null, slices);
        var curveSet = Dataset(test, curveRows.SelectMany(r => r).ToArray(), train.ClassNames, slices);
        var reportSet = Dataset(test, reportRows.SelectMany(r => r).ToArray(), train.ClassNames, slices);
        return new Workbench(options, train.ClassNames, trainSet, curveSet, reportSet,
            trainByClass.Select(images => images.Select(image => rowOf[image]).ToArray()).ToArray());
    }

    /// <summary>Seed <paramref name="seed"/>'s initial data (per slice, rows of <see cref="TrainSet"/>) and the pools acquisitions draw from.</summary>
    public (List<int>[] Initial, int[][] Pools) Split(int seed, IReadOnlyList<int> initialSizes)
    {
        var rng = new Random(1000 + seed);
        var initial = new List<int>[Slices];
        var pools = new int[Slices][];
        for (int c = 0; c < Slices; c++)
        {
            var rows = _trainRowsByClass[c].ToArray();
            rng.Shuffle(rows);
            if (initialSizes[c] > rows.Length) throw new ArgumentException($"Slice {ClassNames[c]} has {rows.Length} training images, fewer than its initial size {initialSizes[c]}.");
            initial[c] = rows[..initialSizes[c]].ToList();
            pools[c] = rows[initialSizes[c]..];
        }
        return (initial, pools);
    }

    /// <summary>The evaluator that trains a fresh CNN on <paramref name="data"/> (per slice, rows of <see cref="TrainSet"/>) and measures on <see cref="CurveSet"/>.</summary>
    public TrainerLossEvaluator Evaluator(List<int>[] data) => SliceLossEvaluator.FromTrainer(
        () => VanillaModel.Create(new SmallCnnBackbone(), Slices), TrainSet, data, CurveSet,
        t => t.WithEpochs(_options.Epochs).WithBatchSize(_options.BatchSize).WithOptimizer(new OptimizerOptions { LearningRate = _options.LearningRate }));

    /// <summary>
    /// The final metrics of <paramref name="data"/>: <see cref="SampleOptions.FinalRuns"/> trainings
    /// with seeds <paramref name="seed"/>, <paramref name="seed"/> + 1000, ..., each measured on
    /// <see cref="ReportSet"/> (up to <see cref="SampleOptions.Workers"/> at once; each result depends
    /// on its seed only); the metrics are the means over the trainings.
    /// </summary>
    public SliceLossMetrics Measure(List<int>[] data, int seed)
    {
        var evaluator = Evaluator(data);
        var rows = data.SelectMany(l => l).ToArray();
        var runs = new SliceLossMetrics[_options.FinalRuns];
        Parallel.For(0, runs.Length, new ParallelOptions { MaxDegreeOfParallelism = _options.Workers }, j =>
        {
            var losses = evaluator.TrainAndMeasure(rows, seed + 1000 * j, ReportSet);
            runs[j] = SliceLossMetrics.From(losses[1..], losses[0]);
        });
        return new SliceLossMetrics(runs.Average(m => m.Loss), runs.Average(m => m.AverageEer), runs.Average(m => m.MaxEer),
            Enumerable.Range(0, Slices).Select(c => runs.Average(m => m.SliceLosses[c])).ToArray());
    }

    public void Dispose()
    {
        TrainSet.Dispose();
        CurveSet.Dispose();
        ReportSet.Dispose();
    }

    /// <summary>The images <paramref name="images"/> as a data set; with class names, one slice per class (for per-slice losses), else only the base slice.</summary>
    private static SliceDataset Dataset(ImageData data, int[] images, string[]? classNames, int slices)
    {
        var pixels = new float[(long)images.Length * 784];
        var labels = new long[images.Length];
        int columns = classNames is null ? 1 : slices + 1;
        var membership = new bool[images.Length, columns];
        for (int k = 0; k < images.Length; k++)
        {
            Array.Copy(data.Pixels, (long)images[k] * 784, pixels, (long)k * 784, 784);
            labels[k] = data.Labels[images[k]];
            membership[k, 0] = true;
            if (classNames is not null) membership[k, 1 + data.Labels[images[k]]] = true;
        }
        // Slice names must be file/column safe: "T-shirt/top" -> "T-shirt_top", "Ankle boot" -> "Ankle_boot".
        var names = new[] { SliceMatrix.BaseSliceName }.Concat((classNames ?? []).Select(n => System.Text.RegularExpressions.Regex.Replace(n, "[^A-Za-z0-9_.-]", "_"))).ToArray();
        using var scope = NewDisposeScope();
        return new SliceDataset(tensor(pixels, new long[] { images.Length, 784 }), tensor(labels), SliceMatrix.FromRows(names, membership));
    }
}
