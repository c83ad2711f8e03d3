namespace SliceLearning.Evaluation;

/// <summary>Seeded percentile bootstrap over confusion-cell codes (label * C + prediction).</summary>
internal static class Bootstrap
{
    public const int MetricCount = 5;

    /// <summary>A per-slice seed that does not depend on threading.</summary>
    public static int SliceSeed(int seed, int column) => HashCode.Combine(seed, column, 0x51ce);

    /// <summary>Percentile intervals of the five metrics over resamples of <paramref name="cells"/>.</summary>
    /// <remarks>Resample b draws from its own generator seeded by (seed, b), so resamples run in parallel and the result does not depend on threading.</remarks>
    public static MetricIntervals Intervals(int[] cells, int numClasses, int resamples, double level, int seed, int maxDegreeOfParallelism = -1)
    {
        var values = new double[MetricCount][];
        for (int m = 0; m < MetricCount; m++) values[m] = new double[resamples];
        int n = cells.Length;
        Parallel.For(0, resamples, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, () => new long[numClasses * numClasses], (b, _, confusion) =>
        {
            Array.Clear(confusion);
            var random = new SplitMix64(seed, b);
            for (int i = 0; i < n; i++) confusion[cells[random.Below(n)]]++;
            var metrics = ClassificationMetrics.FromConfusion(confusion, numClasses);
            for (int m = 0; m < MetricCount; m++) values[m][b] = metrics.Get((Metric)m);
            return confusion;
        }, _ => { });
        return MetricIntervals.FromArray(values.Select(v => Percentile(v, level)).ToArray());
    }

    /// <summary>
    /// Percentile intervals of candidate − baseline over paired resamples (the same rows drawn for both).
    /// </summary>
    public static MetricIntervals PairedLiftIntervals(int[] baselineCells, int[] candidateCells, int numClasses, int resamples, double level, int seed)
    {
        var values = new double[MetricCount][];
        for (int m = 0; m < MetricCount; m++) values[m] = new double[resamples];
        int n = baselineCells.Length;
        int cells = numClasses * numClasses;
        Parallel.For(0, resamples, () => new long[2 * cells], (r, _, counts) =>
        {
            Array.Clear(counts);
            var random = new SplitMix64(seed, r);
            for (int i = 0; i < n; i++)
            {
                int row = random.Below(n);
                counts[baselineCells[row]]++;
                counts[cells + candidateCells[row]]++;
            }
            var ma = ClassificationMetrics.FromConfusion(counts.AsSpan(0, cells), numClasses);
            var mb = ClassificationMetrics.FromConfusion(counts.AsSpan(cells, cells), numClasses);
            for (int m = 0; m < MetricCount; m++) values[m][r] = mb.Get((Metric)m) - ma.Get((Metric)m);
            return counts;
        }, _ => { });
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

    /// <summary>SplitMix64 (Steele, Lea &amp; Flood 2014): tiny, fast, well mixed; one per resample.</summary>
    private struct SplitMix64
    {
        private ulong _state;

        public SplitMix64(int seed, int stream)
        {
            _state = ((ulong)(uint)seed << 32 | (uint)stream) * 0x9E3779B97F4A7C15UL ^ 0xD1B54A32D192ED03UL;
            Next();
        }

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, n) by Lemire's multiply-shift (bias below 2^-32 for n &lt; 2^31, negligible here).</summary>
        public int Below(int n) => (int)(((Next() >> 32) * (ulong)n) >> 32);
    }
}
