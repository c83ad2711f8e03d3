namespace SliceLearning.Evaluation;

/// <summary>
/// Seeded percentile bootstrap over confusion cells. The metrics depend only on the confusion
/// counts, so a resample of n rows is a multinomial draw of n over the distinct (cell) categories.
/// Small sets draw rows one by one; large ones draw the multinomial directly with exact binomial
/// sampling (same distribution, O(categories · log n) instead of O(n) per resample).
/// </summary>
internal static class Bootstrap
{
    public const int MetricCount = 5;

    /// <summary>Above this many rows per category, resamples use the multinomial sampler.</summary>
    internal const int RowsPerCategoryForMultinomial = 32;

    /// <summary>
    /// A per-slice seed that depends only on (seed, column): not on threading, and not on the
    /// process (System.HashCode is randomized per process, so it must not be used here).
    /// </summary>
    public static int SliceSeed(int seed, int column) => (int)(new SplitMix64(seed, column).Next() >> 33);

    /// <summary>Percentile intervals of the five metrics over resamples of <paramref name="cells"/>.</summary>
    /// <remarks>Resample b draws from its own generator seeded by (seed, b), so resamples run in parallel and the result does not depend on threading.</remarks>
    public static MetricIntervals Intervals(int[] cells, int numClasses, int resamples, double level, int seed, int maxDegreeOfParallelism = -1)
    {
        int size = numClasses * numClasses;
        var categories = Categories(cells, size);
        var values = Run(categories, cells.Length, resamples, seed, maxDegreeOfParallelism, size, (counts, confusion, b, values) =>
        {
            Array.Clear(confusion);
            for (int c = 0; c < counts.Length; c++) confusion[categories.Code[c]] += counts[c];
            var metrics = ClassificationMetrics.FromConfusion(confusion, numClasses);
            for (int m = 0; m < MetricCount; m++) values[m][b] = metrics.Get((Metric)m);
        });
        return MetricIntervals.FromArray(values.Select(v => Percentile(v, level)).ToArray());
    }

    /// <summary>
    /// Percentile intervals of candidate − baseline over paired resamples (the same rows drawn for both).
    /// </summary>
    public static MetricIntervals PairedLiftIntervals(int[] baselineCells, int[] candidateCells, int numClasses, int resamples, double level, int seed, int maxDegreeOfParallelism = -1)
    {
        int size = numClasses * numClasses;
        var pairs = new int[baselineCells.Length];
        for (int i = 0; i < pairs.Length; i++) pairs[i] = baselineCells[i] * size + candidateCells[i];
        var categories = Categories(pairs, size * size);
        var values = Run(categories, pairs.Length, resamples, seed, maxDegreeOfParallelism, 2 * size, (counts, confusion, b, values) =>
        {
            Array.Clear(confusion);
            for (int c = 0; c < counts.Length; c++)
            {
                int code = categories.Code[c];
                confusion[code / size] += counts[c];
                confusion[size + code % size] += counts[c];
            }
            var ma = ClassificationMetrics.FromConfusion(confusion.AsSpan(0, size), numClasses);
            var mb = ClassificationMetrics.FromConfusion(confusion.AsSpan(size, size), numClasses);
            for (int m = 0; m < MetricCount; m++) values[m][b] = mb.Get((Metric)m) - ma.Get((Metric)m);
        });
        return MetricIntervals.FromArray(values.Select(v => Percentile(v, level)).ToArray());
    }

    /// <summary>Distinct codes present and their counts, plus each row's category index.</summary>
    internal sealed record CategorySet(int[] Code, int[] Count, int[] RowCategory);

    internal static CategorySet Categories(int[] codes, int codeSpace)
    {
        var index = new Dictionary<int, int>();
        var code = new List<int>();
        var count = new List<int>();
        var rowCategory = new int[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            if (!index.TryGetValue(codes[i], out int c))
            {
                c = code.Count;
                index.Add(codes[i], c);
                code.Add(codes[i]);
                count.Add(0);
            }
            count[c]++;
            rowCategory[i] = c;
        }
        return new CategorySet(code.ToArray(), count.ToArray(), rowCategory);
    }

    private delegate void Score(long[] counts, long[] scratch, int resample, double[][] values);

    private static double[][] Run(CategorySet categories, int n, int resamples, int seed, int maxDegreeOfParallelism, int scratchSize, Score score)
    {
        var values = new double[MetricCount][];
        for (int m = 0; m < MetricCount; m++) values[m] = new double[resamples];
        int k = categories.Code.Length;
        bool multinomial = n > RowsPerCategoryForMultinomial * k;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : maxDegreeOfParallelism };
        Parallel.For(0, resamples, parallel, () => (Counts: new long[k], Scratch: new long[scratchSize]), (b, _, local) =>
        {
            var random = new SplitMix64(seed, b);
            if (multinomial) Multinomial(ref random, n, categories.Count, local.Counts);
            else
            {
                Array.Clear(local.Counts);
                for (int i = 0; i < n; i++) local.Counts[categories.RowCategory[random.Below(n)]]++;
            }
            score(local.Counts, local.Scratch, b, values);
            return local;
        }, _ => { });
        return values;
    }

    /// <summary>Draws <paramref name="n"/> items over categories with the given weights (counts summing to n).</summary>
    internal static void Multinomial(ref SplitMix64 random, int n, int[] weights, long[] result)
    {
        long remainingWeight = 0;
        foreach (int w in weights) remainingWeight += w;
        int remaining = n;
        for (int c = 0; c < weights.Length; c++)
        {
            if (c == weights.Length - 1 || remaining == 0) { result[c] = remaining; remaining = 0; continue; }
            int draw = random.Binomial(remaining, (double)weights[c] / remainingWeight);
            result[c] = draw;
            remaining -= draw;
            remainingWeight -= weights[c];
        }
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

    /// <summary>SplitMix64 (Steele, Lea &amp; Flood 2014): tiny, fast, well mixed; one stream per resample.</summary>
    internal struct SplitMix64
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

        /// <summary>Uniform in (0, 1].</summary>
        public double Uniform() => ((Next() >> 11) + 1) * (1.0 / 9007199254740992.0);

        /// <summary>Standard normal (Box–Muller).</summary>
        public double Normal() => Math.Sqrt(-2 * Math.Log(Uniform())) * Math.Cos(2 * Math.PI * Uniform());

        /// <summary>Gamma(shape, 1) for shape ≥ 1 (Marsaglia &amp; Tsang 2000).</summary>
        public double Gamma(double shape)
        {
            double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
            while (true)
            {
                double x = Normal(), v = 1 + c * x;
                if (v <= 0) continue;
                v = v * v * v;
                double u = Uniform();
                if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
            }
        }

        /// <summary>
        /// Exact Binomial(n, p): Knuth's order-statistic recursion (TAOCP 3.4.1) halves n with one
        /// Beta draw per step, then counts Bernoulli trials for n ≤ 64.
        /// </summary>
        public int Binomial(int n, double p)
        {
            int k = 0;
            while (n > 64)
            {
                if (p <= 0) return k;
                if (p >= 1) return k + n;
                int a = 1 + n / 2, b = n + 1 - a;
                double ga = Gamma(a), x = ga / (ga + Gamma(b)); // the a-th smallest of n uniforms
                if (x >= p) { n = a - 1; p /= x; }
                else { k += a; n = b - 1; p = (p - x) / (1 - x); }
            }
            for (int i = 0; i < n; i++) if (Uniform() <= p) k++;
            return k;
        }
    }
}
