// Slice Tuner on real Fashion-MNIST: each class is a slice; the start is "bad for Uniform" (the
// easy classes already have much more data than the hard ones). Compares Original, Uniform,
// Water filling, One-shot and Iterative (Conservative / Moderate / Aggressive) on loss and
// average / maximum EER over several seeds, prints a table and writes PNG plots.
//
//   bash scripts/get-data.sh      # installs Fashion-MNIST (apt package dataset-fashion-mnist)
//   dotnet run -c Release --project samples/FashionMnistAcquisition [-- --seeds 3 --budget 3000 --threads 1 --out artifacts/fashion-mnist-acquisition]
using System.Diagnostics;
using FashionMnistAcquisition;
using ScottPlot;
using SliceLearning.Runtime;
using SliceLearning.SliceTuner;
using Spectre.Console;

var options = SampleOptions.Parse(args);
AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);   // keep the tables whole when the output is redirected
ComputeDevice.SetCpuThreads(options.Threads);
var total = Stopwatch.StartNew();

FashionMnist train, test;
try
{
    train = FashionMnist.Load(options.DataDirectory, "train");
    test = FashionMnist.Load(options.DataDirectory, "t10k");
}
catch (FileNotFoundException ex)
{
    AnsiConsole.MarkupLineInterpolated($"[red]{ex.Message}[/]");
    return 2;
}

// What is subsampled (explicitly):
// - validation for curve estimation: 300 test-split images per class; reported metrics: another,
//   disjoint 500 test-split images per class (as the paper's 500 per slice);
// - initial training data per seed: InitialSizes[c] random training images of class c;
// - the acquisition pool: the remaining training images of each class (about 5,600-5,900 per class);
// - curve estimation: 5 subset sizes (30%..100% of every slice) x 3 repeats = 15 trainings per estimate.
int[] initialSizes = options.InitialSizes;
var testRng = new Random(12345);
var testByClass = Enumerable.Range(0, 10).Select(c => Enumerable.Range(0, test.Count).Where(r => test.Labels[r] == c).ToArray()).ToArray();
foreach (var rows in testByClass) testRng.Shuffle(rows);
int[] estimationRows = testByClass.SelectMany(rows => rows[..options.EstimationValidationPerClass]).ToArray();
int[] reportRows = testByClass.SelectMany(rows => rows[options.EstimationValidationPerClass..(options.EstimationValidationPerClass + options.ReportValidationPerClass)]).ToArray();
using var trainer = new MlpSliceTrainer(train, test, new[] { estimationRows, reportRows }, options.Train);
var trainByClass = Enumerable.Range(0, 10).Select(c => Enumerable.Range(0, train.Count).Where(r => train.Labels[r] == c).ToArray()).ToArray();

AnsiConsole.MarkupLine($"[bold]Slice Tuner on Fashion-MNIST[/] (bad for Uniform): initial sizes ({string.Join(", ", initialSizes)}), budget {options.Budget}, " +
    $"{options.Seeds} seeds, MLP 784-{options.Train.Hidden}-10, {options.Train.Epochs} epochs, {options.Threads} torch thread(s)");

// A slice whose measured losses do not fall (noisy small slices) gets the mean exponent of the
// other slices, anchored at its own measured loss; the table counts these replacements.
const UnusableCurvePolicy CurvePolicy = UnusableCurvePolicy.PooledExponent;
string[] methods = ["Original", "Uniform", "Water filling", "One-shot", "Conservative", "Moderate", "Aggressive"];
var results = methods.ToDictionary(m => m, _ => new List<RunResult>());
CurveEstimate? firstEstimate = null;

for (int seed = 0; seed < options.Seeds; seed++)
{
    var seedClock = Stopwatch.StartNew();
    var rng = new Random(1000 + seed);
    var initial = new List<int>[10];
    var pools = new int[10][];
    for (int c = 0; c < 10; c++)
    {
        var rows = trainByClass[c].ToArray();
        rng.Shuffle(rows);
        initial[c] = rows[..initialSizes[c]].ToList();
        pools[c] = rows[initialSizes[c]..];
    }
    int finalSeed = 777 + seed;   // the same final-model seed for every method of this seed (paired comparison)
    var estimationOptions = new CurveEstimationOptions { Points = options.Points, Repeats = options.Repeats, MinFraction = 0.3, Seed = seed };

    List<int>[] Copy() => initial.Select(l => l.ToList()).ToArray();
    RunResult Final(string method, List<int>[] data, int iterations, int trainings)
    {
        var losses = trainer.TrainAndEvaluate(data.SelectMany(l => l).ToArray(), finalSeed, validationSet: 1, CancellationToken.None);
        var metrics = SliceLossMetrics.FromSliceLosses(losses);
        return new RunResult(metrics, data.Select((l, c) => l.Count - initialSizes[c]).ToArray(), iterations, trainings);
    }
    async Task<List<int>[]> Acquire(AcquisitionPlan plan)
    {
        var data = Copy();
        await new PoolDataAcquirer<int>(data, pools, seed).AcquireAsync(plan.Amounts);
        return data;
    }

    results["Original"].Add(Final("Original", Copy(), 0, 0));
    results["Uniform"].Add(Final("Uniform", await Acquire(AcquisitionBaselines.Uniform(10, options.Budget)), 0, 0));
    results["Water filling"].Add(Final("Water filling", await Acquire(AcquisitionBaselines.WaterFilling(initialSizes, options.Budget)), 0, 0));

    // One-shot: estimate the curves once (amortized), solve, acquire.
    {
        var data = Copy();
        var estimate = new CurveEstimator(new TrainerEvaluator(trainer, data), estimationOptions).Estimate(initialSizes);
        firstEstimate ??= estimate;
        var curves = estimate.Curves(CurvePolicy, out var replaced);
        var plan = AcquisitionPlanner.OneShot(new AcquisitionProblem(initialSizes, curves), options.Budget, options.Lambda);
        results["One-shot"].Add(Final("One-shot", await Acquire(plan), 1, estimate.Trainings) with { Replaced = replaced.Count });
    }

    foreach (var strategy in new[] { LimitStrategy.Conservative, LimitStrategy.Moderate, LimitStrategy.Aggressive })
    {
        var data = Copy();
        var estimator = new CurveEstimator(new TrainerEvaluator(trainer, data), estimationOptions);
        var algorithm = new IterativeAcquisition(estimator, new PoolDataAcquirer<int>(data, pools, seed),
            new IterativeOptions { Strategy = strategy, Lambda = options.Lambda, MinSliceSize = 1, UnusableCurves = CurvePolicy });
        var run = await algorithm.RunAsync(initialSizes, options.Budget);
        results[strategy.ToString()].Add(Final(strategy.ToString(), data, run.Iterations.Count, run.Trainings) with
        {
            Replaced = run.Iterations.Sum(r => r.FallbackSlices.Count),
        });
    }
    AnsiConsole.MarkupLine($"seed {seed}: done in {seedClock.Elapsed.TotalSeconds:F0} s ({trainer.Trainings} trainings so far)");
}

// Table: mean +- standard deviation over seeds, with the paper's Fashion-MNIST bad-for-Uniform numbers (Table 6, lambda 0.1, B = 3K).
var paper = new Dictionary<string, (double Loss, double AvgEer)>
{
    ["Original"] = (0.445, 0.308), ["Uniform"] = (0.334, 0.226), ["Water filling"] = (0.323, 0.217), ["Moderate"] = (0.314, 0.168),
};
var table = new Table().AddColumns("Method", "Loss", "Avg EER", "Max EER", "Iterations", "Trainings", "Curves replaced", "Paper loss", "Paper avg EER");
foreach (var m in methods)
{
    var r = results[m];
    string Cell(Func<RunResult, double> f) => $"{r.Average(f):F3} ± {Std(r.Select(f)):F3}";
    table.AddRow(m, Cell(x => x.Metrics.Loss), Cell(x => x.Metrics.AverageEer), Cell(x => x.Metrics.MaxEer),
        $"{r.Average(x => x.Iterations):F1}", $"{r.Average(x => x.Trainings):F0}", $"{r.Sum(x => x.Replaced)}",
        paper.TryGetValue(m, out var p) ? $"{p.Loss:F3}" : "-", paper.TryGetValue(m, out p) ? $"{p.AvgEer:F3}" : "-");
}
AnsiConsole.Write(table);

var acquired = new Table().AddColumns(new[] { "Acquired (mean)" }.Concat(FashionMnist.ClassNames).ToArray());
acquired.AddRow(new[] { "Original (initial)" }.Concat(initialSizes.Select(s => s.ToString())).ToArray());
foreach (var m in methods.Skip(1))
    acquired.AddRow(new[] { m }.Concat(Enumerable.Range(0, 10).Select(c => $"{results[m].Average(x => x.Acquired[c]):F0}")).ToArray());
AnsiConsole.Write(acquired);

Directory.CreateDirectory(options.OutputDirectory);
Plots.Curves(firstEstimate!, Path.Combine(options.OutputDirectory, "learning-curves.png"));
Plots.Metrics(methods, results, Path.Combine(options.OutputDirectory, "metrics.png"));
AnsiConsole.MarkupLine($"Plots: {options.OutputDirectory}/learning-curves.png, {options.OutputDirectory}/metrics.png");
AnsiConsole.MarkupLine($"Total: {trainer.Trainings} trainings in {total.Elapsed.TotalMinutes:F1} min");
return 0;

static double Std(IEnumerable<double> values)
{
    var v = values.ToArray();
    if (v.Length < 2) return 0;
    double mean = v.Average();
    return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
}

internal sealed record RunResult(SliceLossMetrics Metrics, int[] Acquired, int Iterations, int Trainings, int Replaced = 0);

internal sealed record SampleOptions(int Seeds, double Budget, int Threads, string OutputDirectory, string DataDirectory, int Points, int Repeats, double Lambda,
    int[] InitialSizes, int EstimationValidationPerClass, int ReportValidationPerClass, TrainSettings Train)
{
    public static SampleOptions Parse(string[] args)
    {
        var o = new SampleOptions(3, 3000, 1, Path.Combine("artifacts", "fashion-mnist-acquisition"), FashionMnist.DefaultDirectory, 5, 3, 0.1,
            // Bad for Uniform: the five easy classes (Trouser, Sandal, Sneaker, Bag, Ankle boot) start with 4x the data of the hard ones.
            [100, 400, 100, 100, 100, 400, 100, 400, 400, 400], 300, 500, new TrainSettings());
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--seeds" => o with { Seeds = int.Parse(Next()) },
                "--budget" => o with { Budget = double.Parse(Next()) },
                "--threads" => o with { Threads = int.Parse(Next()) },
                "--out" => o with { OutputDirectory = Next() },
                "--data" => o with { DataDirectory = Next() },
                "--points" => o with { Points = int.Parse(Next()) },
                "--repeats" => o with { Repeats = int.Parse(Next()) },
                "--lambda" => o with { Lambda = double.Parse(Next()) },
                "--epochs" => o with { Train = o.Train with { Epochs = int.Parse(Next()) } },
                "--hidden" => o with { Train = o.Train with { Hidden = int.Parse(Next()) } },
                "--lr" => o with { Train = o.Train with { LearningRate = double.Parse(Next()) } },
                "--batch" => o with { Train = o.Train with { BatchSize = int.Parse(Next()) } },
                "--dropout" => o with { Train = o.Train with { Dropout = double.Parse(Next()) } },
                "--sizes" => o with { InitialSizes = Next().Split(',').Select(int.Parse).ToArray() },
                _ => throw new ArgumentException($"Unknown option {args[i]}. Options: --seeds N --budget B --threads T --out DIR --data DIR --points K --repeats R --lambda L --epochs E --hidden H --lr LR --batch N --dropout P --sizes s0,...,s9"),
            };
        }
        return o;
    }
}
