using SliceLearning.Evaluation;
using SliceLearning.Workflow;

namespace IncomeWorkflow;

/// <summary>PNG plots of the workflow report (ScottPlot, headless).</summary>
internal static class Plots
{
    public static void WriteAll(WorkflowReport report, string folder)
    {
        Diagnosis(report, Path.Combine(folder, "diagnosis.png"));
        if (report.Training is { } t) Lift(t, Path.Combine(folder, "sram-lift.png"));
        if (report.Planning is { } p)
        {
            Curves(p, Path.Combine(folder, "learning-curves.png"));
            Acquisition(p, Path.Combine(folder, "acquisition.png"));
        }
    }

    /// <summary>Per-slice value of the ranking metric with its interval, ranked, and the overall value as a line.</summary>
    public static void Diagnosis(WorkflowReport report, string path)
    {
        var d = report.Diagnosis;
        var plot = new ScottPlot.Plot();
        var ranking = d.Ranking;
        var bars = ranking.Select((r, i) => new ScottPlot.Bar
        {
            Position = i, Value = r.Value,
            Error = r.Interval is { } ci ? (ci.Upper - ci.Lower) / 2 : 0,
            FillColor = r.ClearlyBelow ? ScottPlot.Colors.OrangeRed : ScottPlot.Colors.SteelBlue,
        }).ToArray();
        plot.Add.Bars(bars);
        var line = plot.Add.HorizontalLine(d.Report.Overall.Metrics.Get(d.RankingMetric));
        line.LegendText = "overall";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ranking.Select((r, i) => new ScottPlot.Tick(i, r.Name)).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 120;
        plot.Title($"Vanilla model, test {d.RankingMetric.ToString().ToLowerInvariant()} per slice (95% bootstrap CI; red: CI below overall)");
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 1100, 600);
    }

    /// <summary>Vanilla vs SRAM accuracy and F1 on SRAM's slices.</summary>
    public static void Lift(TrainingStepResult t, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var slices = t.Comparison.Slices;
        var bars = new List<ScottPlot.Bar>();
        for (int i = 0; i < slices.Count; i++)
        {
            var s = slices[i];
            bars.Add(new ScottPlot.Bar { Position = i * 5, Value = s.Baseline.Accuracy, FillColor = palette.GetColor(0) });
            bars.Add(new ScottPlot.Bar { Position = i * 5 + 1, Value = s.Candidate.Accuracy, FillColor = palette.GetColor(1) });
            bars.Add(new ScottPlot.Bar { Position = i * 5 + 2, Value = double.IsNaN(s.Baseline.F1) ? 0 : s.Baseline.F1, FillColor = palette.GetColor(2) });
            bars.Add(new ScottPlot.Bar { Position = i * 5 + 3, Value = double.IsNaN(s.Candidate.F1) ? 0 : s.Candidate.F1, FillColor = palette.GetColor(3) });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(slices.Select((s, i) => new ScottPlot.Tick(i * 5 + 1.5, s.Name)).ToArray());
        string[] labels = { "vanilla accuracy", "SRAM accuracy", "vanilla F1", "SRAM F1" };
        for (int m = 0; m < labels.Length; m++) plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = labels[m], FillColor = palette.GetColor(m) });
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.Axes.Margins(bottom: 0, top: 0.25);
        plot.Title("SRAM vs vanilla on the weak slices (test set)");
        plot.SavePng(path, 1100, 600);
    }

    /// <summary>Measured points and fitted power laws per planning slice, log-log.</summary>
    public static void Curves(PlanningResult p, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < p.Slices.Count; i++)
        {
            var fit = p.Estimate.Fits[i];
            var color = palette.GetColor(i % 10);
            var pts = fit.Points.Where(pt => pt.Size > 0 && pt.Loss > 0).ToArray();
            if (pts.Length == 0) continue;
            var xs = pts.Select(pt => Math.Log10(pt.Size)).ToArray();
            var scatter = plot.Add.ScatterPoints(xs, pts.Select(pt => Math.Log10(pt.Loss)).ToArray(), color);
            scatter.MarkerSize = 6;
            var curve = p.Curves[i];
            double lo = pts.Min(pt => pt.Size), hi = (p.TrainSizes[i] + p.PlanWithinPool[i]) * 1.2;
            var lx = Enumerable.Range(0, 40).Select(k => lo * Math.Pow(hi / lo, k / 39.0)).ToArray();
            var line = plot.Add.ScatterLine(lx.Select(Math.Log10).ToArray(), lx.Select(x => Math.Log10(curve.Loss(x))).ToArray(), color);
            line.LegendText = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{p.Slices[i]}: {curve.B:G3} n^-{curve.A:F2}, R² {(fit.IsUsable ? fit.RSquared.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "-")}{(p.ReplacedCurves.Contains(i) ? " (replaced)" : "")}");
            if (p.ReplacedCurves.Contains(i)) line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.Title("Learning curves per planning slice (validation loss, log-log)");
        plot.XLabel("log10 training examples of the slice");
        plot.YLabel("log10 validation cross-entropy");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1100, 700);
    }

    /// <summary>Loss, average EER and maximum EER for original, Slice Tuner and uniform.</summary>
    public static void Acquisition(PlanningResult p, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        string[] measures = { "loss", "avg EER", "max EER" };
        Func<SliceLearning.SliceTuner.SliceLossMetrics, double>[] pick = { m => m.Loss, m => m.AverageEer, m => m.MaxEer };
        var bars = new List<ScottPlot.Bar>();
        int methods = p.Outcomes.Count;
        for (int g = 0; g < measures.Length; g++)
        {
            for (int m = 0; m < methods; m++)
            {
                var values = p.Outcomes[m].PerSeed.Select(pick[g]).ToArray();
                double mean = values.Average();
                double sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
                bars.Add(new ScottPlot.Bar { Position = g * (methods + 1) + m, Value = mean, Error = sd, FillColor = palette.GetColor(m) });
            }
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(measures.Select((name, g) => new ScottPlot.Tick(g * (methods + 1) + (methods - 1) / 2.0, name)).ToArray());
        for (int m = 0; m < methods; m++) plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = p.Outcomes[m].Method, FillColor = palette.GetColor(m) });
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.Axes.Margins(bottom: 0, top: 0.3);
        plot.Title($"After acquiring {p.Plan.Budget:G6} examples (test set, mean ± sd over seeds; lower is better)");
        plot.SavePng(path, 1000, 600);
    }
}
