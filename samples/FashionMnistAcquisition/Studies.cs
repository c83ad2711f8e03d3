using System.Globalization;
using System.Diagnostics;
using SliceLearning.SliceTuner;
using Spectre.Console;

namespace FashionMnistAcquisition;

/// <summary>
/// Two measurements that explain the comparison's results (<c>--study</c>):
/// <list type="bullet">
/// <item><b>fit-error</b>: how well an amortized learning curve measured at the initial sizes predicts
/// each slice's loss after the budget is spent uniformly, as a function of the number of subset sizes K,
/// of the repeats per size R, of the fit mode (independent or shared exponent, both from the same trainings)
/// and of the slice's start size, against the loss measured there.</item>
/// <item><b>oracle</b>: brute force over the split of the budget between the hard and the easy classes;
/// every split is trained and measured, so the best allocation of this family and its gain over
/// Uniform are known without any learning curve.</item>
/// </list>
/// </summary>
public static class Studies
{
    public static int Run(IAnsiConsole console, SampleOptions options, Workbench bench, int[] sizes, double budget, Stopwatch total) =>
        options.Study == "oracle" ? Oracle(console, options, bench, sizes, budget, total) : FitError(console, options, bench, sizes, budget, total);

    private static int FitError(IAnsiConsole console, SampleOptions o, Workbench bench, int[] sizes, double budget, Stopwatch total)
    {
        int slices = bench.Slices, seed = o.FirstSeed, trainings = 0;
        var (initial, pools) = bench.Split(seed, sizes);
        var uniform = AcquisitionBaselines.Uniform(slices, budget).Amounts;
        var target = sizes.Select((s, c) => (double)(s + uniform[c])).ToArray();
        console.MarkupLineInterpolated($"[bold]Fit error study[/] ({o.Dataset}, seed {seed}): sizes ({string.Join(", ", sizes)}), target = sizes + uniform share of {budget} ({string.Join(", ", target)}); K = {o.Points} points from {o.MinFraction:P0}, {o.Repeats} repeats, curve fit {o.CurveFit} (slice table; the error table has both fits), truth = mean of {o.FinalRuns} trainings at the target");

        // R independent one-repeat amortized estimates (different random subsets and training seeds).
        var raw = new IReadOnlyList<CurvePoint>[o.Repeats][];
        for (int r = 0; r < o.Repeats; r++)
        {
            var estimate = new CurveEstimator(bench.Evaluator(initial), new CurveEstimationOptions
            {
                Points = o.Points, Repeats = 1, MinFraction = o.MinFraction, Seed = 100 * seed + r, MaxDegreeOfParallelism = o.Workers,
            }).Estimate(sizes);
            trainings += estimate.Trainings;
            raw[r] = estimate.Fits.Select(f => f.Points).ToArray();
            console.WriteLine($"repeat {r + 1}/{o.Repeats}: {estimate.Trainings} trainings, {total.Elapsed.TotalSeconds:F0} s");
        }

        // The truth: the loss on the same validation images after the uniform acquisition.
        var data = initial.Select(l => l.ToList()).ToArray();
        new PoolDataAcquirer<int>(data, pools, seed).AcquireAsync(uniform).AsTask().GetAwaiter().GetResult();
        var evaluator = bench.Evaluator(data);
        var rows = data.SelectMany(l => l).ToArray();
        var truthRuns = new double[o.FinalRuns][];
        Parallel.For(0, o.FinalRuns, new ParallelOptions { MaxDegreeOfParallelism = o.Workers },
            j => truthRuns[j] = evaluator.TrainAndMeasure(rows, 777 + seed + 1000 * j, bench.CurveSet)[1..]);
        trainings += o.FinalRuns;
        var truth = Enumerable.Range(0, slices).Select(c => truthRuns.Average(t => t[c])).ToArray();
        var truthSd = Enumerable.Range(0, slices).Select(c => Experiment.Std(truthRuns.Select(t => t[c]))).ToArray();
        // Loss at the initial size: the full-size point (fraction 1) of every repeat.
        var baseRuns = Enumerable.Range(0, slices).Select(c => raw.Select(r => r[c].OrderBy(p => p.Size).Last().Loss).ToArray()).ToArray();

        var perSlice = new Table().AddColumns("Slice", "Size", "Loss at size (mean ± sd over repeats)", "Loss at target (mean ± sd)", "Measured drop", "sd / drop",
            "Fit (all K, all R): a, b, R²", "Predicted drop");
        var allFits = FitAll(o.CurveFit, slices, c => Average(raw, c, Enumerable.Range(0, o.Repeats).ToArray(), Enumerable.Range(0, o.Points).ToArray()));
        for (int c = 0; c < slices; c++)
        {
            var fit = allFits[c];
            double drop = truth[c] - baseRuns[c].Average();
            perSlice.AddRow(bench.ClassNames[c], $"{sizes[c]} → {target[c]}", $"{baseRuns[c].Average():F3} ± {Experiment.Std(baseRuns[c]):F3}", $"{truth[c]:F3} ± {truthSd[c]:F3}",
                Experiment.Signed(drop), $"{Experiment.Std(baseRuns[c]) / Math.Abs(drop):F2}",
                fit.Parameters is { } p ? $"{p.A:F3}, {p.B:F2}, {fit.RSquared:F2}{(fit.IsUsable ? "" : $" ({fit.Status})")}" : fit.Status.ToString(),
                fit.Curve is { } curve ? Experiment.Signed(curve.Loss(target[c]) - curve.Loss(sizes[c])) : "-");
        }
        console.Write(perSlice);

        // Fit error for subsets of the points (K' evenly spaced among the K sizes) and of the repeats (every combination of R' of the R),
        // for both fit modes on the same trainings, overall and per start size.
        var startSizes = sizes.Distinct().Order().ToArray();
        string bySize = string.Join(" / ", startSizes);
        var table = new Table().AddColumns("K", "R", "Curve fit", "Trainings per estimate", "Fits", "Unusable", "Median |error| at target", "Mean |error| at target",
            "Median |drop error| / |drop|", "Median |error| per start size", "Median |drop error| / |drop| per start size");
        console.MarkupLineInterpolated($"Fit error at the target (per start size: slices that started with {bySize} examples):");
        foreach (int k in new[] { 3, 5, o.Points }.Where(k => k <= o.Points).Distinct())
        {
            var idx = Enumerable.Range(0, k).Select(i => (int)Math.Round(i * (o.Points - 1) / (double)(k - 1))).ToArray();
            for (int r = 1; r <= o.Repeats; r++)
            {
                foreach (var mode in new[] { CurveFitMode.Independent, CurveFitMode.SharedExponent })
                {
                    var errors = new List<(int Size, double Error, double DropError)>();
                    int fits = 0, unusable = 0;
                    foreach (var combo in Combinations(o.Repeats, r))
                    {
                        var comboFits = FitAll(mode, slices, c => Average(raw, c, combo, idx));
                        for (int c = 0; c < slices; c++)
                        {
                            fits++;
                            var fit = comboFits[c];
                            if (fit.Curve is not { } curve) { unusable++; continue; }
                            double drop = truth[c] - baseRuns[c].Average();
                            errors.Add((sizes[c], Math.Abs(curve.Loss(target[c]) - truth[c]), Math.Abs(curve.Loss(target[c]) - curve.Loss(sizes[c]) - drop) / Math.Abs(drop)));
                        }
                    }
                    string PerSize(Func<(int Size, double Error, double DropError), double> f, string format) =>
                        string.Join(" / ", startSizes.Select(n => Experiment.Median(errors.Where(e => e.Size == n).Select(f)) is var m && double.IsFinite(m) ? m.ToString(format, CultureInfo.InvariantCulture) : "-"));
                    table.AddRow($"{k}", $"{r}", mode == CurveFitMode.SharedExponent ? "shared" : "independent", $"{k * r}", $"{fits}", $"{unusable} ({unusable / (double)fits:P0})",
                        $"{Experiment.Median(errors.Select(e => e.Error)):F3}", $"{(errors.Count == 0 ? double.NaN : errors.Average(e => e.Error)):F3}",
                        $"{Experiment.Median(errors.Select(e => e.DropError)):F2}", PerSize(e => e.Error, "F3"), PerSize(e => e.DropError, "F2"));
                }
            }
        }
        console.Write(table);
        console.MarkupLineInterpolated($"Total: {trainings} trainings in {total.Elapsed.TotalMinutes:F1} min");
        return 0;
    }

    private static int Oracle(IAnsiConsole console, SampleOptions o, Workbench bench, int[] sizes, double budget, Stopwatch total)
    {
        int slices = bench.Slices, trainings = 0;
        var hard = Enumerable.Range(0, slices).Where(c => !SampleOptions.IsEasy(c)).ToArray();
        var easy = Enumerable.Range(0, slices).Where(SampleOptions.IsEasy).ToArray();
        int b = (int)budget;
        int[] Allocation(double share)
        {
            var amounts = new int[slices];
            int toHard = (int)Math.Round(share * b);
            foreach (int c in hard) amounts[c] = toHard / hard.Length;
            foreach (int c in easy) amounts[c] = (b - toHard) / easy.Length;
            return amounts;
        }
        console.MarkupLineInterpolated($"[bold]Oracle study[/] ({o.Dataset}, setting {o.Setting}): sizes ({string.Join(", ", sizes)}), budget {b}; the hard classes ({string.Join(", ", hard.Select(c => bench.ClassNames[c]))}) get a share of the budget, the easy ones the rest; {o.Seeds} seed(s) x {o.FinalRuns} training(s) per share");
        // Every (seed, share, run) is one training; they run up to Workers at once and each depends on its seed only.
        var splits = Enumerable.Range(0, o.Seeds).Select(s => bench.Split(o.FirstSeed + s, sizes)).ToArray();
        var jobs = (from s in Enumerable.Range(0, o.Seeds) from f in Enumerable.Range(0, o.HardShares.Length) from j in Enumerable.Range(0, o.FinalRuns) select (s, f, j)).ToArray();
        var runs = new SliceLossMetrics[jobs.Length];
        int done = 0;
        Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = o.Workers }, n =>
        {
            var (s, f, j) = jobs[n];
            var (initial, pools) = splits[s];
            var data = initial.Select(l => l.ToList()).ToArray();
            new PoolDataAcquirer<int>(data, pools, o.FirstSeed + s).AcquireAsync(Allocation(o.HardShares[f])).AsTask().GetAwaiter().GetResult();
            var losses = bench.Evaluator(data).TrainAndMeasure(data.SelectMany(l => l).ToArray(), 777 + o.FirstSeed + s + 1000 * j, bench.ReportSet);
            runs[n] = SliceLossMetrics.From(losses[1..], losses[0]);
            int finished = Interlocked.Increment(ref done);
            if (finished % 5 == 0 || finished == jobs.Length) Console.Error.WriteLine($"oracle: {finished}/{jobs.Length} trainings, {total.Elapsed.TotalSeconds:F0} s");
        });
        trainings += jobs.Length;
        var results = o.HardShares.ToDictionary(f => f, f => Enumerable.Range(0, o.Seeds).Select(s =>
        {
            var r = jobs.Select((job, n) => (job, n)).Where(t => t.job.s == s && o.HardShares[t.job.f] == f).Select(t => runs[t.n]).ToArray();
            return new SliceLossMetrics(r.Average(m => m.Loss), r.Average(m => m.AverageEer), r.Average(m => m.MaxEer),
                Enumerable.Range(0, slices).Select(c => r.Average(m => m.SliceLosses[c])).ToArray());
        }).ToList());

        double reference = o.HardShares.OrderBy(f => Math.Abs(f - hard.Length / (double)slices)).First();   // the share that equals Uniform
        var table = new Table().AddColumns("Hard share", "Per hard / easy slice", "Loss", "Avg EER", "Max EER", $"Loss − share {reference:F2} [[95% CI]]", $"Avg EER − share {reference:F2} [[95% CI]]");
        foreach (double f in o.HardShares)
        {
            var r = results[f];
            var a = Allocation(f);
            string Cell(Func<SliceLossMetrics, double> g) => $"{r.Average(g):F3} ± {Experiment.Std(r.Select(g)):F3}";
            string Ci(Func<SliceLossMetrics, double> g)
            {
                var d = r.Zip(results[reference], (x, y) => g(x) - g(y)).ToArray();
                var (mean, half) = Experiment.MeanCi(d);
                return $"{Experiment.Signed(mean)} [{Experiment.Signed(mean - half)}, {Experiment.Signed(mean + half)}]";
            }
            table.AddRow($"{f:F2}", $"{a[hard[0]]} / {a[easy[0]]}", Cell(m => m.Loss), Cell(m => m.AverageEer), Cell(m => m.MaxEer), Markup.Escape(Ci(m => m.Loss)), Markup.Escape(Ci(m => m.AverageEer)));
        }
        console.Write(table);
        var perSlice = new Table().AddColumns(new[] { "Slice loss (mean)" }.Concat(o.HardShares.Select(f => $"share {f:F2}")).ToArray());
        for (int c = 0; c < slices; c++)
            perSlice.AddRow(new[] { $"{bench.ClassNames[c]} ({(hard.Contains(c) ? "hard" : "easy")})" }.Concat(o.HardShares.Select(f => $"{results[f].Average(m => m.SliceLosses[c]):F3}")).ToArray());
        console.Write(perSlice);
        console.MarkupLineInterpolated($"Total: {trainings} trainings in {total.Elapsed.TotalMinutes:F1} min");
        return 0;
    }

    /// <summary>Every slice's curve from its points, each on its own or with one shared exponent.</summary>
    private static IReadOnlyList<CurveFit> FitAll(CurveFitMode mode, int slices, Func<int, CurvePoint[]> points)
    {
        var perSlice = Enumerable.Range(0, slices).Select(c => (IReadOnlyList<CurvePoint>)points(c)).ToArray();
        return mode == CurveFitMode.SharedExponent
            ? LearningCurveFitter.FitSharedExponent(perSlice)
            : perSlice.Select(p => LearningCurveFitter.Fit(p)).ToArray();
    }

    /// <summary>
    /// Slice <paramref name="slice"/>'s points at <paramref name="points"/>, averaged over the repeats <paramref name="repeats"/>
    /// (a slice so small that several subset sizes coincide has fewer points; indices beyond them are skipped).
    /// </summary>
    private static CurvePoint[] Average(IReadOnlyList<CurvePoint>[][] raw, int slice, int[] repeats, int[] points) =>
        points.Where(k => k < raw[repeats[0]][slice].Count).Select(k => new CurvePoint(raw[repeats[0]][slice].OrderBy(p => p.Size).ElementAt(k).Size,
            repeats.Average(r => raw[r][slice].OrderBy(p => p.Size).ElementAt(k).Loss))).ToArray();

    private static IEnumerable<int[]> Combinations(int n, int k)
    {
        if (k == 0) { yield return []; yield break; }
        for (int first = 0; first <= n - k; first++)
            foreach (var rest in Combinations(n - first - 1, k - 1))
                yield return [first, .. rest.Select(x => x + first + 1)];
    }
}
