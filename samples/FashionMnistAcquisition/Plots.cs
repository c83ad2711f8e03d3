using SliceLearning.SliceTuner;

namespace FashionMnistAcquisition;

internal static class Plots
{
    /// <summary>Measured points and fitted power-law curves of every slice (first seed, initial data).</summary>
    public static void Curves(CurveEstimate estimate, string[] names, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int c = 0; c < estimate.Fits.Count; c++)
        {
            var fit = estimate.Fits[c];
            var color = palette.GetColor(c);
            var xs = fit.Points.Select(p => p.Size).ToArray();
            var ys = fit.Points.Select(p => p.Loss).ToArray();
            var scatter = plot.Add.ScatterPoints(xs, ys, color);
            scatter.MarkerSize = 6;
            if (fit.Parameters is { } curve)
            {
                var lx = Enumerable.Range(0, 50).Select(k => xs.Min() + (xs.Max() * 1.5 - xs.Min()) * k / 49.0).ToArray();
                var line = plot.Add.ScatterLine(lx, lx.Select(curve.Loss).ToArray(), color);
                line.LegendText = $"{names[c]}: {curve.B:F2} n^-{curve.A:F2}{(fit.IsUsable ? "" : " (not usable)")}";
                if (!fit.IsUsable) line.LinePattern = ScottPlot.LinePattern.Dashed;
            }
        }
        plot.Title("Learning curves (amortized estimate, first seed)");
        plot.XLabel("training examples of the slice");
        plot.YLabel("validation loss of the slice");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1000, 650);
    }

    /// <summary>Loss, average EER and maximum EER per method (mean over seeds, error bars one standard deviation).</summary>
    public static void Metrics(string[] methods, IReadOnlyDictionary<string, List<RunResult>> results, string title, string path)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        string[] measures = ["Loss", "Avg EER", "Max EER"];
        Func<SliceLossMetrics, double>[] pick = [m => m.Loss, m => m.AverageEer, m => m.MaxEer];
        var bars = new List<ScottPlot.Bar>();
        for (int g = 0; g < measures.Length; g++)
        {
            for (int m = 0; m < methods.Length; m++)
            {
                var values = results[methods[m]].Select(r => pick[g](r.Metrics)).ToArray();
                double mean = values.Average();
                double std = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
                bars.Add(new ScottPlot.Bar { Position = g * (methods.Length + 1) + m, Value = mean, Error = std, FillColor = palette.GetColor(m) });
            }
        }
        plot.Add.Bars(bars);
        var ticks = measures.Select((name, g) => new ScottPlot.Tick(g * (methods.Length + 1) + (methods.Length - 1) / 2.0, name)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        for (int m = 0; m < methods.Length; m++) plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = methods[m], FillColor = palette.GetColor(m) });
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.Axes.Margins(bottom: 0, top: 0.3);
        plot.Title(title);
        plot.SavePng(path, 1000, 600);
    }
}
