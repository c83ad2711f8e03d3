using SliceLearning.Slicing;

namespace SliceLearning.Data.Synthetic;

/// <summary>
/// Generates the paper's synthetic slice task (section 3.3, Figure 1): points uniform in [-1, 1]²,
/// label 1 on one side of a line, overridden inside small critical regions (set to one class or flipped), plus SFs that mark each
/// region with a chosen noise rate. Everything is seeded: the same options and seed give the same
/// data on every machine (System.Random with a seed, no torch).
/// </summary>
/// <example>
/// <code>
/// var generator = new SyntheticSliceGenerator(new SyntheticSliceOptions { BenignSliceCount = 14 });
/// SyntheticSliceData train = generator.Generate(count: 6000, seed: 1);
/// // train.Points, train.Labels, train.SfSlices (noisy SF outputs), train.TrueSlices (ground truth)
/// </code>
/// </example>
public sealed class SyntheticSliceGenerator
{
    private readonly SyntheticSliceOptions _options;
    private readonly SyntheticSliceRegion[] _regions;

    /// <summary>Creates a generator; benign slice positions are drawn here from <see cref="SyntheticSliceOptions.LayoutSeed"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public SyntheticSliceGenerator(SyntheticSliceOptions? options = null)
    {
        _options = (options ?? new SyntheticSliceOptions()).Clone();
        _options.Validate();
        _regions = _options.Slices.Concat(PlaceBenign(_options)).ToArray();
        SliceNames = new[] { SliceMatrix.BaseSliceName }.Concat(_regions.Select(r => r.Name)).ToArray();
        TrueSliceSet = _regions.Aggregate(SliceSet.For<SyntheticPoint>(), (b, r) => b.Add(r.Name, p => r.Contains(p.X, p.Y))).Build();
    }

    /// <summary>All regions, the configured ones first, then the random benign ones.</summary>
    public IReadOnlyList<SyntheticSliceRegion> Regions => _regions;

    /// <summary>The slice matrix column names: "base", then each region.</summary>
    public IReadOnlyList<string> SliceNames { get; }

    /// <summary>The noise-free SFs as a <see cref="SliceSet{T}"/> (exact region membership), usable on any point, e.g. a plotting grid.</summary>
    public SliceSet<SyntheticPoint> TrueSliceSet { get; }

    /// <summary>The global boundary's label for a point, ignoring the slices.</summary>
    public int BoundaryLabel(double x, double y) => _options.BoundaryX * x + _options.BoundaryY * y > _options.BoundaryOffset ? 1 : 0;

    /// <summary>The true label of a point: the boundary's label, replaced inside a critical region by its <see cref="SyntheticSliceRegion.Label"/> (or flipped).</summary>
    public int TrueLabel(double x, double y)
    {
        int label = BoundaryLabel(x, y);
        foreach (var r in _regions)
        {
            if (r.Critical && r.Contains(x, y)) return r.Label ?? 1 - label;
        }
        return label;
    }

    /// <summary>
    /// Generates <paramref name="count"/> points. Each critical region gets exactly
    /// round(Fraction × count) points, uniform inside it; the rest are uniform outside all critical
    /// regions; the order is shuffled. Each SF drops round(noise × members) true members and adds as
    /// many nearby non-members (or, when a recall R or precision P is set, drops round((1 − R) × members)
    /// and adds round(kept × (1 − P) / P)); the added ones come from a ring just outside the region
    /// (<see cref="SyntheticSliceOptions.NoiseNeighborhood"/>).
    /// </summary>
    /// <param name="count">Number of points, at least 1.</param>
    /// <param name="seed">Seed for the points and SF noise.</param>
    public SyntheticSliceData Generate(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var rng = new Random(seed);
        var points = new List<SyntheticPoint>(count);
        var critical = _regions.Where(r => r.Critical).ToArray();
        foreach (var r in critical)
        {
            int n = (int)Math.Round(r.Fraction * count, MidpointRounding.AwayFromZero);
            double e = r.Extent;
            while (n > 0)
            {
                double x = r.CenterX + (rng.NextDouble() * 2 - 1) * e, y = r.CenterY + (rng.NextDouble() * 2 - 1) * e;
                if (!r.Contains(x, y)) continue;
                points.Add(new SyntheticPoint((float)x, (float)y));
                n--;
            }
        }
        if (points.Count > count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{count} points are too few for the critical slices' fractions.");
        while (points.Count < count)
        {
            double x = rng.NextDouble() * 2 - 1, y = rng.NextDouble() * 2 - 1;
            if (critical.Any(r => r.Contains(x, y))) continue;
            points.Add(new SyntheticPoint((float)x, (float)y));
        }
        for (int i = points.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (points[i], points[j]) = (points[j], points[i]);
        }

        // Membership is decided on the stored float coordinates so it agrees with TrueSliceSet.
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = TrueLabel(points[i].X, points[i].Y);
        int m = _regions.Length + 1;
        var truth = new bool[count, m];
        var sf = new bool[count, m];
        for (int i = 0; i < count; i++) { truth[i, 0] = true; sf[i, 0] = true; }
        var noiseRates = new double[m];
        for (int c = 1; c < m; c++)
        {
            var r = _regions[c - 1];
            var members = new List<int>();
            var outside = new List<(int Row, double Distance)>();
            for (int i = 0; i < count; i++)
            {
                if (r.Contains(points[i].X, points[i].Y)) { truth[i, c] = true; sf[i, c] = true; members.Add(i); }
                else outside.Add((i, r.Distance(points[i].X, points[i].Y)));
            }
            double noise = r.SfNoise ?? (r.Critical ? _options.SfNoise : _options.BenignSfNoise);
            noiseRates[c] = noise;
            double? recall = r.SfRecall ?? (r.Critical ? _options.SfRecall : _options.BenignSfRecall);
            double? precision = r.SfPrecision ?? (r.Critical ? _options.SfPrecision : _options.BenignSfPrecision);
            int dropped, added;
            if (recall is null && precision is null)
            {
                // One noise rate: as many misses as false positives, so precision = recall = 1 - noise.
                dropped = added = Math.Min((int)Math.Round(noise * members.Count, MidpointRounding.AwayFromZero), outside.Count);
            }
            else
            {
                double rc = recall ?? 1 - noise, pr = precision ?? 1 - noise;
                dropped = (int)Math.Round((1 - rc) * members.Count, MidpointRounding.AwayFromZero);
                double kept = members.Count - dropped;
                added = Math.Min((int)Math.Round(kept * (1 - pr) / pr, MidpointRounding.AwayFromZero), outside.Count);
            }
            if (dropped > 0) foreach (int row in Sample(rng, members, dropped)) sf[row, c] = false;
            if (added == 0) continue;
            double reach = _options.NoiseNeighborhood * r.Extent;
            var near = outside.Where(o => o.Distance < reach).Select(o => o.Row).ToList();
            if (near.Count < added) near = outside.OrderBy(o => o.Distance).ThenBy(o => o.Row).Take(added).Select(o => o.Row).ToList();
            foreach (int row in Sample(rng, near, added)) sf[row, c] = true;
        }
        return new SyntheticSliceData(points.ToArray(), labels, SliceMatrix.FromRows(SliceNames, truth), SliceMatrix.FromRows(SliceNames, sf), noiseRates);
    }

    /// <summary>Generates train, validation and test sets with seeds derived from <paramref name="seed"/> (3·seed, 3·seed + 1, 3·seed + 2).</summary>
    public SyntheticSplits GenerateSplits(int trainCount, int validationCount, int testCount, int seed) => new(
        Generate(trainCount, unchecked(3 * seed)),
        Generate(validationCount, unchecked(3 * seed + 1)),
        Generate(testCount, unchecked(3 * seed + 2)));

    // Partial Fisher-Yates: k distinct items, in random order.
    private static IEnumerable<int> Sample(Random rng, List<int> items, int k)
    {
        var copy = items.ToArray();
        for (int i = 0; i < k; i++)
        {
            int j = i + rng.Next(copy.Length - i);
            (copy[i], copy[j]) = (copy[j], copy[i]);
            yield return copy[i];
        }
    }

    private static IEnumerable<SyntheticSliceRegion> PlaceBenign(SyntheticSliceOptions options)
    {
        var rng = new Random(options.LayoutSeed);
        for (int i = 1; i <= options.BenignSliceCount; i++)
        {
            double fraction = options.BenignSliceMaxFraction is double max
                ? options.BenignSliceFraction + rng.NextDouble() * (max - options.BenignSliceFraction)
                : options.BenignSliceFraction;
            double e = Math.Sqrt(4 * fraction / Math.PI);
            double cx = (rng.NextDouble() * 2 - 1) * (1 - e), cy = (rng.NextDouble() * 2 - 1) * (1 - e);
            yield return new SyntheticSliceRegion($"benign_{i:D3}", SliceShape.Disc, cx, cy, fraction, Critical: false);
        }
    }
}

/// <summary>Train, validation and test sets from one generator.</summary>
/// <param name="Train">The training set.</param>
/// <param name="Validation">The validation set.</param>
/// <param name="Test">The test set.</param>
public sealed record SyntheticSplits(SyntheticSliceData Train, SyntheticSliceData Validation, SyntheticSliceData Test);
