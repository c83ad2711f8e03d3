using System.Diagnostics;
using System.Globalization;
using SliceLearning.Backbones.Simple;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.SliceTuner;
using SliceLearning.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace FashionMnistAcquisition;

/// <summary>One method's outcome on one seed.</summary>
public sealed record RunResult(SliceLossMetrics Metrics, int[] Acquired, int Iterations, int Trainings, int FitsUsed, int FitsReplaced, double MinRSquared);

/// <summary>
/// Slice Tuner on real images, trained through the library: each class is a slice; a basic CNN
/// (<see cref="SmallCnnBackbone"/> + <see cref="VanillaModel"/>) is trained with <see cref="SliceTrainer"/>
/// by <see cref="SliceLossEvaluator.FromTrainer"/> for every curve point and for every final model.
/// </summary>
public static class Experiment
{
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null)
    {
        var console = output is null ? AnsiConsole.Console : AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = Math.Max(console.Profile.Width, 180);
        SampleOptions options;
        try { options = SampleOptions.Parse(args); }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            console.MarkupLineInterpolated($"[red]{ex.Message}[/]");
            return 1;
        }
        ComputeDevice.SetCpuThreads(1);   // one torch thread per worker
        var total = Stopwatch.StartNew();

        Workbench bench;
        try { bench = Workbench.Load(options); }
        catch (FileNotFoundException ex)
        {
            console.MarkupLineInterpolated($"[red]{ex.Message}[/]");
            return 2;
        }
        using var benchLifetime = bench;
        int slices = bench.Slices;
        var names = bench.ClassNames;
        var (initialSizes, budget, lambda, methods) = options.Resolve(slices);
        if (options.Study is not null) return Studies.Run(console, options, bench, initialSizes, budget, total);

        string model = "CNN conv5x5(16)-pool-conv5x5(32)-pool-fc64 + linear head";
        console.MarkupLineInterpolated($"[bold]Slice Tuner on {(options.Dataset == "fashion" ? "Fashion-MNIST" : "Mixed-MNIST")}[/], setting {options.Setting}: initial sizes ({string.Join(", ", initialSizes)}), budget {budget}, lambda {lambda}");
        console.MarkupLineInterpolated($"{model}, Adam lr {options.LearningRate}, {options.Epochs} epochs, batch {options.BatchSize}; curves: K = {options.Points} points from {options.MinFraction:P0}, {options.Repeats} repeat(s), {options.ValidationPerSlice} validation images per slice; curve fit {options.CurveFit}; fallback {options.Fallback}; final metrics: mean of {options.FinalRuns} training(s) per method and seed; {options.Seeds} seed(s), {options.Workers} worker(s) x 1 torch thread");

        var results = methods.ToDictionary(m => m, _ => new List<RunResult>());
        var fitRows = new List<(int Seed, string Method, int Iteration, int Slice, CurveFit Fit, bool Replaced)>();
        CurveEstimate? firstEstimate = null;
        int trainings = 0;

        for (int s = 0; s < options.Seeds; s++)
        {
            int seed = options.FirstSeed + s;
            var seedClock = Stopwatch.StartNew();
            var (initial, pools) = bench.Split(seed, initialSizes);
            int finalSeed = 777 + seed;   // the same final-model seed for every method of this seed (paired comparison)
            var estimation = new CurveEstimationOptions
            {
                Points = options.Points, Repeats = options.Repeats, MinFraction = options.MinFraction, Seed = seed, MaxDegreeOfParallelism = options.Workers,
                FitMode = options.CurveFit,
            };

            List<int>[] Copy() => initial.Select(l => l.ToList()).ToArray();
            TrainerLossEvaluator Evaluator(List<int>[] data) => bench.Evaluator(data);
            var measured = new Dictionary<string, SliceLossMetrics>();
            RunResult Final(List<int>[] data, int iterations, int estimationTrainings, int used = 0, int replaced = 0, double minR2 = double.NaN)
            {
                // Acquisitions take each pool's examples in order, so equal final sizes mean equal data
                // (Water filling = Uniform in the basic setting): measure once.
                string key = string.Join(",", data.Select(l => l.Count));
                if (!measured.TryGetValue(key, out var metrics))
                {
                    measured[key] = metrics = bench.Measure(data, finalSeed);
                    trainings += options.FinalRuns;
                }
                trainings += estimationTrainings;
                return new RunResult(metrics, data.Select((l, c) => l.Count - initialSizes[c]).ToArray(), iterations, estimationTrainings, used, replaced, minR2);
            }
            async Task<List<int>[]> Acquire(AcquisitionPlan plan)
            {
                var data = Copy();
                await new PoolDataAcquirer<int>(data, pools, seed).AcquireAsync(plan.Amounts);
                return data;
            }
            void Record(string method, int iteration, CurveEstimate estimate, IReadOnlyList<int> replaced)
            {
                for (int c = 0; c < slices; c++) fitRows.Add((seed, method, iteration, c, estimate.Fits[c], replaced.Contains(c)));
            }

            foreach (var method in methods)
            {
                switch (method)
                {
                    case "Original":
                        results[method].Add(Final(Copy(), 0, 0));
                        break;
                    case "Uniform":
                        results[method].Add(Final(await Acquire(AcquisitionBaselines.Uniform(slices, budget)), 0, 0));
                        break;
                    case "Water filling":
                        results[method].Add(Final(await Acquire(AcquisitionBaselines.WaterFilling(initialSizes, budget)), 0, 0));
                        break;
                    case "One-shot":
                    {
                        var data = Copy();
                        var estimate = new CurveEstimator(Evaluator(data), estimation).Estimate(initialSizes);
                        firstEstimate ??= estimate;
                        var curves = estimate.Curves(options.Fallback, out var replaced);
                        Record(method, 1, estimate, replaced);
                        var plan = AcquisitionPlanner.OneShot(new AcquisitionProblem(initialSizes, curves), budget, lambda);
                        results[method].Add(Final(await Acquire(plan), 1, estimate.Trainings, slices - replaced.Count, replaced.Count,
                            estimate.Fits.Min(f => f.RSquared)));
                        break;
                    }
                    case "Conservative" or "Moderate" or "Aggressive":
                    {
                        var data = Copy();
                        var algorithm = new IterativeAcquisition(new CurveEstimator(Evaluator(data), estimation), new PoolDataAcquirer<int>(data, pools, seed),
                            new IterativeOptions { Strategy = Enum.Parse<LimitStrategy>(method), Lambda = lambda, MinSliceSize = 1, UnusableCurves = options.Fallback });
                        var run = await algorithm.RunAsync(initialSizes, budget);
                        foreach (var it in run.Iterations) Record(method, it.Iteration, it.Curves, it.FallbackSlices);
                        firstEstimate ??= run.Iterations.FirstOrDefault()?.Curves;
                        int fits = run.Iterations.Count * slices, replaced = run.Iterations.Sum(r => r.FallbackSlices.Count);
                        results[method].Add(Final(data, run.Iterations.Count, run.Trainings, fits - replaced, replaced,
                            run.Iterations.Count == 0 ? double.NaN : run.Iterations.Min(r => r.Curves.Fits.Min(f => f.RSquared))));
                        break;
                    }
                    default:
                        throw new ArgumentException($"Unknown method {method}; use Original, Uniform, Water filling, One-shot, Conservative, Moderate, Aggressive.");
                }
            }
            console.WriteLine($"seed {seed}: done in {seedClock.Elapsed.TotalSeconds:F0} s ({trainings} trainings so far); loss / avg EER / max EER: " +
                string.Join("; ", methods.Select(m => FormattableString.Invariant($"{m} {results[m][^1].Metrics.Loss:F4} / {results[m][^1].Metrics.AverageEer:F4} / {results[m][^1].Metrics.MaxEer:F4}"))));
        }

        Report(console, options, names, initialSizes, methods, results, fitRows);
        if (options.Plots && firstEstimate is not null)
        {
            Directory.CreateDirectory(options.OutputDirectory);
            Plots.Curves(firstEstimate, names, Path.Combine(options.OutputDirectory, $"{options.Dataset}-{options.Setting}-curves.png"));
            Plots.Metrics(methods, results, $"{options.Dataset}, {options.Setting}: lower is better", Path.Combine(options.OutputDirectory, $"{options.Dataset}-{options.Setting}-metrics.png"));
            console.MarkupLineInterpolated($"Plots: {options.OutputDirectory}/{options.Dataset}-{options.Setting}-*.png");
        }
        console.MarkupLineInterpolated($"Total: {trainings} trainings in {total.Elapsed.TotalMinutes:F1} min");
        return 0;
    }

    private static void Report(IAnsiConsole console, SampleOptions options, string[] names, int[] initialSizes, string[] methods,
        Dictionary<string, List<RunResult>> results, List<(int Seed, string Method, int Iteration, int Slice, CurveFit Fit, bool Replaced)> fitRows)
    {
        var table = new Table().AddColumns("Method", "Loss", "Avg EER", "Max EER", "Iterations", "Curve trainings", "Fits used / replaced", "Min R²");
        foreach (var m in methods)
        {
            var r = results[m];
            string Cell(Func<RunResult, double> f) => $"{r.Average(f):F3} ± {Std(r.Select(f)):F3}";
            bool estimated = r.Any(x => x.FitsUsed + x.FitsReplaced > 0);
            table.AddRow(m, Cell(x => x.Metrics.Loss), Cell(x => x.Metrics.AverageEer), Cell(x => x.Metrics.MaxEer),
                $"{r.Average(x => x.Iterations):F1}", $"{r.Average(x => x.Trainings):F0}",
                estimated ? $"{r.Sum(x => x.FitsUsed)} / {r.Sum(x => x.FitsReplaced)}" : "-",
                estimated ? $"{r.Where(x => double.IsFinite(x.MinRSquared)).Select(x => x.MinRSquared).DefaultIfEmpty(double.NaN).Min():F2}" : "-");
        }
        console.Write(table);

        // Paired differences (same seed, same initial data, same final-model seed): Slice Tuner method minus each baseline,
        // and each iterative strategy minus One-shot (the paper's Table 2 ordering).
        var tuned = methods.Where(m => m is "Moderate" or "One-shot" or "Conservative" or "Aggressive").ToArray();
        var baselines = methods.Where(m => m is "Original" or "Uniform" or "Water filling").ToArray();
        if (options.Seeds > 1 && tuned.Length > 0 && baselines.Length > 0)
        {
            var paired = new Table().AddColumns("Difference (paired over seeds)", "Loss: mean [[95% CI]]", "Avg EER: mean [[95% CI]]", "Max EER: mean [[95% CI]]");
            foreach (var t in tuned)
            {
                var against = t != "One-shot" && methods.Contains("One-shot") ? baselines.Append("One-shot") : baselines;
                foreach (var b in against)
                {
                    string Ci(Func<RunResult, double> f)
                    {
                        var d = results[t].Zip(results[b], (x, y) => f(x) - f(y)).ToArray();
                        var (mean, half) = MeanCi(d);
                        string mark = mean + half < 0 ? " (lower)" : mean - half > 0 ? " (higher)" : "";
                        return $"{Signed(mean)} [{Signed(mean - half)}, {Signed(mean + half)}]{mark}";
                    }
                    paired.AddRow(Markup.Escape($"{t} - {b}"), Markup.Escape(Ci(x => x.Metrics.Loss)), Markup.Escape(Ci(x => x.Metrics.AverageEer)), Markup.Escape(Ci(x => x.Metrics.MaxEer)));
                }
            }
            console.Write(paired);
        }

        var acquired = new Table().AddColumns(new[] { "Acquired (mean)" }.Concat(names.Select(n => n.Replace("T-shirt/top", "T-shirt").Replace("Ankle boot", "Boot"))).ToArray());
        acquired.AddRow(new[] { "Initial size" }.Concat(initialSizes.Select(s => s.ToString(CultureInfo.InvariantCulture))).ToArray());
        foreach (var m in methods.Where(m => m != "Original"))
            acquired.AddRow(new[] { m }.Concat(Enumerable.Range(0, names.Length).Select(c => $"{results[m].Average(x => x.Acquired[c]):F0}")).ToArray());
        console.Write(acquired);

        if (fitRows.Count > 0)
        {
            // Fit quality per slice over every estimate (all seeds, methods, iterations).
            var fits = new Table().AddColumns("Slice", "Fits", "Replaced", "Median R²", "Min R²", "Median points", "Median a", "Median b");
            for (int c = 0; c < names.Length; c++)
            {
                var rows = fitRows.Where(f => f.Slice == c).ToArray();
                var usable = rows.Where(f => f.Fit.Parameters is not null).ToArray();
                fits.AddRow(names[c], $"{rows.Length}", $"{rows.Count(f => f.Replaced)}", $"{Median(rows.Select(f => f.Fit.RSquared)):F2}", $"{rows.Min(f => f.Fit.RSquared):F2}",
                    $"{Median(rows.Select(f => (double)f.Fit.Points.Count)):F0}",
                    usable.Length == 0 ? "-" : $"{Median(usable.Select(f => f.Fit.Parameters!.A)):F3}", usable.Length == 0 ? "-" : $"{Median(usable.Select(f => f.Fit.Parameters!.B)):F2}");
            }
            console.Write(fits);
            var reasons = fitRows.Where(f => !f.Fit.IsUsable).GroupBy(f => f.Fit.Status).Select(g => $"{g.Key}: {g.Count()}").ToArray();
            console.MarkupLineInterpolated($"Unusable fits: {(reasons.Length == 0 ? "none" : string.Join(", ", reasons))} of {fitRows.Count}; fallback policy {options.Fallback}.");
        }
    }

    internal static (double Mean, double HalfWidth) MeanCi(double[] d)
    {
        double mean = d.Average();
        if (d.Length < 2) return (mean, double.NaN);
        // Student t quantile (two-sided 95%) for n - 1 degrees of freedom.
        double[] t = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262];
        double q = d.Length - 2 < t.Length ? t[d.Length - 2] : 1.96;
        return (mean, q * Std(d) / Math.Sqrt(d.Length));
    }

    /// <summary>A signed value with 3 decimals; a value that rounds to zero prints as +0.000 (not "-+0.000").</summary>
    internal static string Signed(double value)
    {
        double rounded = Math.Round(value, 3) + 0.0;   // + 0.0 turns -0 into +0
        return rounded.ToString("+0.000;-0.000;+0.000", System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    internal static double Std(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length < 2) return 0;
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }
}
