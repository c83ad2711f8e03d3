// Data-parallel slice-aware training on MPI: every rank trains on its shard of a synthetic task
// (a disc that flips the label), gradients are summed over the ranks, and rank 0 prints the
// per-slice report computed exactly over all shards.
//
//   mpirun.mpich -np 2 dotnet samples/DistributedSlices/bin/Release/net10.0/DistributedSlices.dll
//   dotnet run --project samples/DistributedSlices           (one rank, no MPI)
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SliceLearning.Distributed;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.Training;
using SliceLearning.Training.DataParallel;
using TorchSharp;
using static TorchSharp.torch;

var model = new Option<string>("--model") { Description = "sram, sram-per-slice (slice-head loss averaged per slice) or vanilla.", DefaultValueFactory = _ => "sram" };
var rows = new Option<int>("--rows") { Description = "Training rows in all (split over the ranks).", DefaultValueFactory = _ => 20000 };
var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 20 };
var batch = new Option<int>("--batch-size") { Description = "Rows per step on each rank.", DefaultValueFactory = _ => 64 };
var seed = new Option<int>("--seed") { Description = "Seed for the data, the initial weights and the shuffling.", DefaultValueFactory = _ => 1 };
var output = new Option<FileInfo?>("--output") { Description = "Rank 0 writes the final weights, losses, validation scores and the report here (JSON)." };
var failOnRank = new Option<int>("--fail-on-rank") { Description = "Throw on this rank in epoch 2 (shows that one failing rank stops all).", DefaultValueFactory = _ => -1 };
var benchmark = new Option<bool>("--allreduce-benchmark") { Description = "Time the gradient all-reduce for model sizes 10k to 4M parameters instead of training." };
var curves = new Option<bool>("--curves") { Description = "Estimate Slice Tuner learning curves with the trainings spread over the ranks instead of training once." };
var root = new RootCommand("Data-parallel SRAM training on MPI (MPICH) with an exact per-slice report over all shards.")
{
    model, rows, epochs, batch, seed, output, failOnRank, benchmark, curves,
};
root.SetAction(parse =>
{
    string kind = parse.GetValue(model)!.ToLowerInvariant();
    if (kind is not ("sram" or "sram-per-slice" or "vanilla")) { Console.Error.WriteLine($"--model takes sram, sram-per-slice or vanilla; got '{kind}'."); return 2; }
    ComputeDevice.SetCpuThreads(1);
    using var session = MpiSession.Start();
    if (parse.GetValue(benchmark)) return AllReduceBenchmark(session);
    if (parse.GetValue(curves)) return EstimateCurves(session, parse.GetValue(rows), parse.GetValue(epochs), parse.GetValue(seed), parse.GetValue(output));
    return Run(session, kind, parse.GetValue(rows), parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(seed), parse.GetValue(output), parse.GetValue(failOnRank));
});
return root.Parse(args).Invoke();

static int Run(MpiSession session, string kind, int rowCount, int epochs, int batchSize, int seed, FileInfo? output, int failOnRank)
{
    var slices = SliceSet.For<Point>()
        .Add("disc", p => Square(p.X - 0.3f) + Square(p.Y + 0.2f) < 0.09f)
        .Add("upper_right", p => p.X > 0.5f && p.Y > 0.5f)
        .Build();
    // Every rank generates the same data and keeps its own block of rows.
    var train = session.ShardOf(Point.Generate(rowCount, seed));
    var validation = session.ShardOf(Point.Generate(Math.Max(rowCount / 4, 200), seed + 1000));
    using var trainSet = SliceDataset.From(train, p => [p.X, p.Y], p => p.Label, slices);
    using var validationSet = SliceDataset.From(validation, p => [p.X, p.Y], p => p.Label, slices);

    manual_seed(seed);
    var backbone = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU());
    using ITrainableModel net = kind switch
    {
        "sram" => SliceAwareModel.Create(backbone, 16, 2, slices.SliceNames),
        "sram-per-slice" => SliceAwareModel.Create(backbone, 16, 2, slices.SliceNames, o => o.SliceHeadNormalization = SliceHeadNormalization.PerSlice),
        _ => VanillaModel.Create(backbone, 16, 2),
    };
    var trainer = SliceTrainer.For(net)
        .WithData(trainSet, validationSet)
        .WithEpochs(epochs)
        .WithBatchSize(batchSize)
        .WithOptimizer(new OptimizerOptions { LearningRate = 0.01 })
        .WithSeed(seed)
        .WithDataParallel(session);
    if (failOnRank == session.Rank) trainer.WithProgress(new FailInEpochTwo(session.Rank));
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var result = trainer.Fit();

    var (_, predictions) = net.Predict(validationSet.Features);
    var labels = validation.Select(p => p.Label).ToArray();
    var report = session.CreateReport(validationSet.Slices, labels, predictions, numClasses: 2);
    if (session.IsRoot)
    {
        double seconds = result.Elapsed.TotalSeconds;
        Console.WriteLine($"{kind.ToUpperInvariant()} on {session.WorldSize} rank(s), {rowCount} training rows, {epochs} epochs: " +
            $"{seconds:F1} s training, {rowCount * (double)result.EpochsRun / seconds:N0} rows/s ({clock.Elapsed.TotalSeconds:F1} s with reporting)");
        Console.WriteLine(report.ToTable());
        if (output is not null)
        {
            var weights = net.Module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .ToDictionary(kv => kv.Key, kv => kv.Value.cpu().data<float>().ToArray());
            var json = JsonSerializer.Serialize(new RunOutput(session.WorldSize, result.LossHistory.ToArray(), result.ValidationHistory.ToArray(), weights, report.ToJson(indented: false)));
            File.WriteAllText(output.FullName, json);
        }
    }
    return 0;
}

// Sums a gradient-sized buffer over the ranks, as every data-parallel step does.
static int AllReduceBenchmark(MpiSession session)
{
    if (session.IsRoot) Console.WriteLine($"all-reduce (reduce + broadcast) on {session.WorldSize} rank(s)\nparameters   ms/step   MB/s");
    foreach (int size in new[] { 10_000, 100_000, 1_000_000, 4_000_000 })
    {
        var buffer = new float[size];
        session.SumInPlace(buffer);                   // warm-up
        int repeats = size >= 1_000_000 ? 10 : 50;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++) session.SumInPlace(buffer);
        double ms = clock.Elapsed.TotalMilliseconds / repeats;
        if (session.IsRoot) Console.WriteLine($"{size,10:N0}  {ms,8:F2}  {size * 4.0 / 1e6 / (ms / 1000):F0}");
    }
    return 0;
}

// Slice Tuner's curve estimation: the (subset size, repeat) trainings are dealt over the ranks.
static int EstimateCurves(MpiSession session, int rowCount, int epochs, int seed, FileInfo? output)
{
    static bool InDisc(Point p) => Square(p.X - 0.3f) + Square(p.Y + 0.2f) < 0.09f;
    var slices = SliceSet.For<Point>().Add("disc", InDisc).Add("outside", p => !InDisc(p)).Build();
    var all = Point.Generate(rowCount, seed);
    var validation = Point.Generate(Math.Max(rowCount / 2, 200), seed + 1000);
    using var train = SliceDataset.From(all, p => [p.X, p.Y], p => p.Label, slices);
    using var valid = SliceDataset.From(validation, p => [p.X, p.Y], p => p.Label, slices);
    // Two Slice Tuner slices: the disc and everything else.
    var disc = train.Slices.Members(1);
    var rest = train.Slices.Members(2);
    var evaluator = SliceLearning.SliceTuner.SliceLossEvaluator.FromTrainer(
        () => VanillaModel.Create(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU()), 16, 2),
        train, [disc, rest], valid, t => t.WithEpochs(epochs).WithOptimizer(new OptimizerOptions { LearningRate = 0.01 }));
    var estimator = new SliceLearning.SliceTuner.CurveEstimator(evaluator, new SliceLearning.SliceTuner.CurveEstimationOptions { Points = 4, Repeats = 2, Seed = seed });
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var estimate = estimator.Estimate([disc.Length, rest.Length], session);
    if (session.IsRoot)
    {
        Console.WriteLine($"{estimate.Trainings} trainings over {session.WorldSize} rank(s): {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var fit in estimate.Fits) Console.WriteLine($"  {fit}  points: {string.Join(", ", fit.Points.Select(p => $"({p.Size}, {p.Loss:R})"))}");
        if (output is not null)
            File.WriteAllText(output.FullName, JsonSerializer.Serialize(estimate.Fits.Select(f => f.Points.Select(p => new[] { p.Size, p.Loss }).ToArray()).ToArray()));
    }
    return 0;
}

static float Square(float v) => v * v;

internal sealed record RunOutput(int WorldSize, double[] Losses, double[] Scores, Dictionary<string, float[]> Weights, string Report);

/// <summary>A labelled point: y = [x1 + x2 &gt; 0], flipped inside a disc.</summary>
internal readonly record struct Point(float X, float Y, int Label)
{
    public static Point[] Generate(int count, int seed)
    {
        var random = new Random(seed);
        var points = new Point[count];
        for (int i = 0; i < count; i++)
        {
            float x = (float)(random.NextDouble() * 2 - 1), y = (float)(random.NextDouble() * 2 - 1);
            int label = x + y > 0 ? 1 : 0;
            if ((x - 0.3f) * (x - 0.3f) + (y + 0.2f) * (y + 0.2f) < 0.09f) label = 1 - label;
            points[i] = new Point(x, y, label);
        }
        return points;
    }
}

/// <summary>Throws on the training thread after epoch 2 (for --fail-on-rank).</summary>
internal sealed class FailInEpochTwo(int rank) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        if (value.Epoch == 2) throw new InvalidOperationException($"deliberate failure on rank {rank} (--fail-on-rank)");
    }
}
