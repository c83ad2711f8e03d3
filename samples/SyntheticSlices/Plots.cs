using ScottPlot;
using SliceLearning.Data.Synthetic;

namespace SyntheticSlices;

/// <summary>PNG figures (ScottPlot, rendered headless with SkiaSharp).</summary>
internal static class Plots
{
    public const int GridSize = 120;

    /// <summary>At most this many points are drawn in the data plot (keeps the PNG small).</summary>
    public const int MaxScatterPoints = 2500;

    /// <summary>Row-major grid over [-1, 1]²: point (i, j) is x = -1 + (j + 0.5)·step, y = 1 - (i + 0.5)·step (top row first).</summary>
    public static float[] GridFeatures()
    {
        var result = new float[GridSize * GridSize * 2];
        double step = 2.0 / GridSize;
        for (int i = 0; i < GridSize; i++)
            for (int j = 0; j < GridSize; j++)
            {
                int k = (i * GridSize + j) * 2;
                result[k] = (float)(-1 + (j + 0.5) * step);
                result[k + 1] = (float)(1 - (i + 0.5) * step);
            }
        return result;
    }

    public static double[,] ToGrid(IReadOnlyList<double> values)
    {
        var grid = new double[GridSize, GridSize];
        for (int i = 0; i < GridSize; i++)
            for (int j = 0; j < GridSize; j++) grid[i, j] = values[i * GridSize + j];
        return grid;
    }

    private static void Outline(Plot plot, IEnumerable<SyntheticSliceRegion> regions, bool labels = true)
    {
        foreach (var r in regions)
        {
            IPlottable shape;
            if (r.Shape == SliceShape.Disc)
            {
                var c = plot.Add.Circle(r.CenterX, r.CenterY, r.Extent);
                c.FillColor = Colors.Transparent;
                c.LineColor = r.Critical ? Colors.Black : Colors.Gray;
                c.LineWidth = r.Critical ? 2 : 1;
                shape = c;
            }
            else
            {
                var s = plot.Add.Rectangle(r.CenterX - r.Extent, r.CenterX + r.Extent, r.CenterY - r.Extent, r.CenterY + r.Extent);
                s.FillColor = Colors.Transparent;
                s.LineColor = r.Critical ? Colors.Black : Colors.Gray;
                s.LineWidth = r.Critical ? 2 : 1;
                shape = s;
            }
            if (labels && r.Critical)
            {
                var text = plot.Add.Text(r.Name, r.CenterX + r.Extent, r.CenterY + r.Extent);
                text.LabelFontSize = 14;
                text.LabelBold = true;
            }
            _ = shape;
        }
    }

    private static void Square(Plot plot, string title)
    {
        plot.Title(title);
        plot.Axes.SetLimits(-1, 1, -1, 1);
        plot.Axes.SquareUnits();
    }

    /// <summary>Figure 1 (a)/(c): the points by class, the critical slices, and the SFs' false positives and misses.</summary>
    public static void Data(string path, SyntheticSliceGenerator generator, SyntheticSliceData data)
    {
        var plot = new Plot();
        var xs0 = new List<double>(); var ys0 = new List<double>(); var xs1 = new List<double>(); var ys1 = new List<double>();
        var fpX = new List<double>(); var fpY = new List<double>(); var fnX = new List<double>(); var fnY = new List<double>();
        int shown = Math.Min(data.Count, MaxScatterPoints); // points are in random order: a uniform subsample
        for (int i = 0; i < shown; i++)
        {
            var p = data.Points[i];
            (data.Labels[i] == 1 ? xs1 : xs0).Add(p.X);
            (data.Labels[i] == 1 ? ys1 : ys0).Add(p.Y);
            for (int c = 1; c < data.SfSlices.ColumnCount; c++)
            {
                if (!generator.Regions[c - 1].Critical) continue;
                if (data.SfSlices[i, c] && !data.TrueSlices[i, c]) { fpX.Add(p.X); fpY.Add(p.Y); }
                if (!data.SfSlices[i, c] && data.TrueSlices[i, c]) { fnX.Add(p.X); fnY.Add(p.Y); }
            }
        }
        var a = plot.Add.ScatterPoints(xs0.ToArray(), ys0.ToArray(), Colors.SteelBlue.WithAlpha(0.5));
        a.MarkerSize = 3; a.LegendText = "class 0";
        var b = plot.Add.ScatterPoints(xs1.ToArray(), ys1.ToArray(), Colors.Orange.WithAlpha(0.5));
        b.MarkerSize = 3; b.LegendText = "class 1";
        var fp = plot.Add.ScatterPoints(fpX.ToArray(), fpY.ToArray(), Colors.Red);
        fp.MarkerSize = 5; fp.MarkerShape = MarkerShape.Cross; fp.LegendText = "SF false positive";
        var fn = plot.Add.ScatterPoints(fnX.ToArray(), fnY.ToArray(), Colors.Purple);
        fn.MarkerSize = 5; fn.MarkerShape = MarkerShape.OpenCircle; fn.LegendText = "SF miss";
        Outline(plot, generator.Regions);
        Square(plot, $"Synthetic task ({shown} of {data.Count} training points)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 640, 600);
    }

    /// <summary>Side-by-side heatmaps over the same grid (e.g. VANILLA vs SRAM P(class 1)).</summary>
    public static void Heatmaps(string path, IEnumerable<SyntheticSliceRegion> regions, IReadOnlyList<(string Title, IReadOnlyList<double> Values)> panels, double min = 0, double max = 1)
    {
        var multiplot = new Multiplot();
        var plots = new List<Plot>();
        foreach (var (title, values) in panels)
        {
            var plot = new Plot();
            var heatmap = plot.Add.Heatmap(ToGrid(values));
            heatmap.Extent = new CoordinateRect(-1, 1, -1, 1);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.ManualRange = new ScottPlot.Range(min, max);
            plot.Add.ColorBar(heatmap);
            Outline(plot, regions);
            Square(plot, title);
            plots.Add(plot);
        }
        multiplot.Reset(plots[0]);
        foreach (var plot in plots.Skip(1)) multiplot.AddPlot(plot);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, 560 * plots.Count, 520);
    }

    /// <summary>A line chart with error bars: one series per method, x = a numeric setting.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<(string Name, double[] X, MeanStd[] Y)> series, bool logX = false)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int k = 0;
        foreach (var (name, x, y) in series)
        {
            var xs = x.Select(v => logX ? Math.Log2(v) : v).ToArray();
            var color = palette.GetColor(k++);
            var line = plot.Add.Scatter(xs, y.Select(v => v.Mean).ToArray(), color);
            line.LegendText = name;
            line.LineWidth = 2;
            var err = plot.Add.ErrorBar(xs, y.Select(v => v.Mean).ToArray(), y.Select(v => v.Std).ToArray());
            err.LineColor = color;
        }
        plot.Title(title);
        plot.XLabel(logX ? xLabel + " (log2)" : xLabel);
        plot.YLabel(yLabel);
        plot.Axes.SetLimitsY(0, 1.05);
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, 640, 440);
    }
}
