namespace SliceLearning.Evaluation;

/// <summary>Seeded percentile bootstrap over confusion-cell codes (label * C + prediction).</summary>
internal static class Bootstrap
{
    public const int MetricCount = 5;

    /// <summary>A per-slice seed that does not depend on threading.</summary>
    public static int SliceSeed(int seed, int column) => HashCode.Combine(seed, column, 0x51ce);

    /// <summary>Percentile intervals of the five metrics over resamples of <paramref name="cells"/>.</summary>
    public static MetricIntervals Intervals(int[] cells, int numClasses, int resamples, double level, int seed)
    {
        var values = new double[MetricCount][];
        for (int m = 0; m < MetricCount; m++) values[m] = new double[resamples];
        var random = new Random(seed);
        var confusion = new long[numClasses * numClasses];
        int n = cells.Length;
        for (int b = 0; b < resamples; b++)
        {
            Array.Clear(confusion);
            for (int i = 0; i < n; i++) confusion[cells[random.Next(n)]]++;
            var metrics = ClassificationMetrics.FromConfusion(confusion, numClasses);
            for (int m = 0; m < MetricCount; m++) values[m][b] = metrics.Get((Metric)m);
        }
        return MetricIntervals.FromArray(values.Select(v => Percentile(v, level)).ToArray());
    }

    /// <summary>
    /// Percentile intervals of candidate − baseline over paired resamples (the same rows drawn for both).
    /// </summary>
    public static MetricIntervals PairedLiftIntervals(int[] baselineCells, int[] candidateCells, int numClasses, int resamples, double level, int seed)
    {
        var values = new double[MetricCount][];
        for (int m = 0; m < MetricCount; m++) values[m] = new double[resamples];
        var random = new Random(seed);
        var a = new long[numClasses * numClasses];
        var b = new long[numClasses * numClasses];
        int n = baselineCells.Length;
        for (int r = 0; r < resamples; r++)
        {
            Array.Clear(a);
            Array.Clear(b);
            for (int i = 0; i < n; i++)
            {
                int row = random.Next(n);
                a[baselineCells[row]]++;
                b[candidateCells[row]]++;
            }
            var ma = ClassificationMetrics.FromConfusion(a, numClasses);
            var mb = ClassificationMetrics.FromConfusion(b, numClasses);
            for (int m = 0; m < MetricCount; m++) values[m][r] = mb.Get((Metric)m) - ma.Get((Metric)m);
        }
        return MetricIntervals.FromArray(values.Select(v => Percentile(v, level)).ToArray());
    }

    /// <summary>The central <paramref name="level"/> interval of <paramref name="values"/> (sorted in place), linear interpolation.</summary>
    public static ConfidenceInterval Percentile(double[] values, double level)
    {
        Array.Sort(values);
        double alpha = (1 - level) / 2;
        return new ConfidenceInterval(Quantile(values, alpha), Quantile(values, 1 - alpha));
    }

    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        double fraction = position - lower;
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
    }
}
