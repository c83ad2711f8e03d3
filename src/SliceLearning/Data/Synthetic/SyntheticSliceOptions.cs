using System.Globalization;

namespace SliceLearning.Data.Synthetic;

/// <summary>
/// Settings of the synthetic slice task (paper section 3.3, Figure 1 and appendix): 2-D points in
/// [-1, 1]², a linear global boundary, small critical slices whose labels are flipped, noisy SFs and
/// optional benign slices. The defaults are the paper's two-slice task as the reference implementation
/// set it up: two discs of 3% each centered on the boundary, SFs with 15% noise (85% precision and recall).
/// </summary>
public sealed class SyntheticSliceOptions
{
    /// <summary>Weight of x in the global boundary: label 1 when <c>BoundaryX·x + BoundaryY·y &gt; BoundaryOffset</c>.</summary>
    /// <value>The default value is -1 (with <see cref="BoundaryY"/> = 1: label 1 above the line y = x).</value>
    public double BoundaryX { get; set; } = -1;

    /// <summary>Weight of y in the global boundary.</summary>
    /// <value>The default value is 1.</value>
    public double BoundaryY { get; set; } = 1;

    /// <summary>Offset of the global boundary.</summary>
    /// <value>The default value is 0.</value>
    public double BoundaryOffset { get; set; }

    /// <summary>
    /// The slices: critical ones flip labels, benign ones only mark points. Critical regions may not
    /// overlap each other and must lie inside [-1, 1]².
    /// </summary>
    /// <value>The default value is two critical discs of 3% whose points are all class 1, "s1" at (-0.45, -0.45) and "s2" at (0.45, 0.45), on the line y = x.</value>
    public IList<SyntheticSliceRegion> Slices { get; set; } = new List<SyntheticSliceRegion>
    {
        new("s1", SliceShape.Disc, -0.45, -0.45, 0.03, Label: 1),
        new("s2", SliceShape.Disc, 0.45, 0.45, 0.03, Label: 1),
    };

    /// <summary>
    /// Number of extra benign slices (discs at random places, labels untouched), added after
    /// <see cref="Slices"/> and named benign_001, benign_002, ...
    /// </summary>
    /// <value>The default value is 0.</value>
    public int BenignSliceCount { get; set; }

    /// <summary>The fraction of the points in each random benign slice, in (0, 0.5].</summary>
    /// <value>The default value is 0.03.</value>
    public double BenignSliceFraction { get; set; } = 0.03;

    /// <summary>SF noise rate of critical slices without their own <see cref="SyntheticSliceRegion.SfNoise"/>, in [0, 1).</summary>
    /// <value>The default value is 0.15.</value>
    public double SfNoise { get; set; } = 0.15;

    /// <summary>SF noise rate of benign slices without their own <see cref="SyntheticSliceRegion.SfNoise"/>, in [0, 1).</summary>
    /// <value>The default value is 0.15.</value>
    public double BenignSfNoise { get; set; } = 0.15;

    /// <summary>
    /// SF recall of critical slices without their own <see cref="SyntheticSliceRegion.SfRecall"/>, in (0, 1],
    /// or null for 1 − the slice's noise rate.
    /// </summary>
    /// <value>The default value is null.</value>
    public double? SfRecall { get; set; }

    /// <summary>
    /// SF precision of critical slices without their own <see cref="SyntheticSliceRegion.SfPrecision"/>, in (0, 1],
    /// or null for 1 − the slice's noise rate.
    /// </summary>
    /// <value>The default value is null.</value>
    public double? SfPrecision { get; set; }

    /// <summary>SF recall of benign slices, in (0, 1], or null for 1 − <see cref="BenignSfNoise"/>.</summary>
    /// <value>The default value is null.</value>
    public double? BenignSfRecall { get; set; }

    /// <summary>SF precision of benign slices, in (0, 1], or null for 1 − <see cref="BenignSfNoise"/>.</summary>
    /// <value>The default value is null.</value>
    public double? BenignSfPrecision { get; set; }

    /// <summary>
    /// The largest fraction of a random benign slice, in [<see cref="BenignSliceFraction"/>, 0.5]: each
    /// benign slice's fraction is drawn uniformly between the two (from <see cref="LayoutSeed"/>).
    /// Null: every benign slice has <see cref="BenignSliceFraction"/>.
    /// </summary>
    /// <value>The default value is null.</value>
    public double? BenignSliceMaxFraction { get; set; }

    /// <summary>
    /// Where false-positive SF members are drawn from: non-members within this many extents
    /// (radius or half side) of a slice's center; the nearest ones when too few lie there.
    /// </summary>
    /// <value>The default value is 2.</value>
    public double NoiseNeighborhood { get; set; } = 2;

    /// <summary>Seed of the layout: where the random benign slices go. Points are seeded per call to Generate.</summary>
    /// <value>The default value is 0.</value>
    public int LayoutSeed { get; set; }

    /// <summary>Checks every setting and throws one exception listing all problems.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names each one and its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        if (!double.IsFinite(BoundaryX) || !double.IsFinite(BoundaryY) || BoundaryX == 0 && BoundaryY == 0)
            problems.Add($"BoundaryX and BoundaryY must be finite and not both 0; got ({F(BoundaryX)}, {F(BoundaryY)}).");
        if (!double.IsFinite(BoundaryOffset)) problems.Add($"BoundaryOffset must be finite; got {F(BoundaryOffset)}.");
        if (Slices is null) problems.Add("Slices must not be null (use an empty list for no slices).");
        if (BenignSliceCount < 0 || BenignSliceCount > 9999) problems.Add($"BenignSliceCount must be in [0, 9999]; got {BenignSliceCount}.");
        if (!(BenignSliceFraction > 0 && BenignSliceFraction <= 0.5)) problems.Add($"BenignSliceFraction must be in (0, 0.5]; got {F(BenignSliceFraction)}.");
        if (!(SfNoise >= 0 && SfNoise < 1)) problems.Add($"SfNoise must be in [0, 1); got {F(SfNoise)}.");
        if (!(BenignSfNoise >= 0 && BenignSfNoise < 1)) problems.Add($"BenignSfNoise must be in [0, 1); got {F(BenignSfNoise)}.");
        if (!(NoiseNeighborhood > 1 && double.IsFinite(NoiseNeighborhood))) problems.Add($"NoiseNeighborhood must be finite and above 1; got {F(NoiseNeighborhood)}.");
        CheckRate(nameof(SfRecall), SfRecall, problems);
        CheckRate(nameof(SfPrecision), SfPrecision, problems);
        CheckRate(nameof(BenignSfRecall), BenignSfRecall, problems);
        CheckRate(nameof(BenignSfPrecision), BenignSfPrecision, problems);
        if (BenignSliceMaxFraction is double max && !(max >= BenignSliceFraction && max <= 0.5))
            problems.Add($"BenignSliceMaxFraction must be in [BenignSliceFraction, 0.5] = [{F(BenignSliceFraction)}, 0.5]; got {F(max)}.");
        if (Slices is not null)
        {
            if (Slices.Count + BenignSliceCount == 0) problems.Add("There are no slices: add a region to Slices or set BenignSliceCount.");
            double criticalFraction = 0;
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (int i = 0; i < Slices.Count; i++)
            {
                var s = Slices[i];
                if (s is null) { problems.Add($"Slices[{i}] is null."); continue; }
                if (string.IsNullOrWhiteSpace(s.Name)) problems.Add($"Slices[{i}] has an empty name.");
                else if (!names.Add(s.Name)) problems.Add($"Slices[{i}] is named '{s.Name}' like an earlier slice.");
                if (!(s.Fraction > 0 && s.Fraction <= 0.5)) { problems.Add($"Slices[{i}] ('{s.Name}'): Fraction must be in (0, 0.5]; got {F(s.Fraction)}."); continue; }
                if (s.Label is int label && label is not (0 or 1)) problems.Add($"Slices[{i}] ('{s.Name}'): Label must be 0, 1 or null (flip); got {label}.");
                if (s.SfNoise is double noise && !(noise >= 0 && noise < 1)) problems.Add($"Slices[{i}] ('{s.Name}'): SfNoise must be in [0, 1); got {F(noise)}.");
                CheckRate($"Slices[{i}] ('{s.Name}'): SfRecall", s.SfRecall, problems);
                CheckRate($"Slices[{i}] ('{s.Name}'): SfPrecision", s.SfPrecision, problems);
                double e = s.Extent;
                if (Math.Abs(s.CenterX) + e > 1 || Math.Abs(s.CenterY) + e > 1)
                    problems.Add($"Slices[{i}] ('{s.Name}') at ({F(s.CenterX)}, {F(s.CenterY)}) with extent {F(e)} does not fit in [-1, 1]².");
                if (!s.Critical) continue;
                criticalFraction += s.Fraction;
                for (int j = 0; j < i; j++)
                {
                    var o = Slices[j];
                    if (o is null || !o.Critical || !(o.Fraction > 0)) continue;
                    if (MayOverlap(s, o)) problems.Add($"Critical slices '{o.Name}' and '{s.Name}' overlap; critical slices must be disjoint.");
                }
            }
            if (criticalFraction > 0.5) problems.Add($"Critical slices cover {F(criticalFraction)} of the data; at most 0.5 is allowed.");
        }
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(SyntheticSliceOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }

    /// <summary>A deep copy (the slice list is copied; its records are immutable).</summary>
    public SyntheticSliceOptions Clone() => new()
    {
        BoundaryX = BoundaryX,
        BoundaryY = BoundaryY,
        BoundaryOffset = BoundaryOffset,
        Slices = Slices is null ? null! : new List<SyntheticSliceRegion>(Slices),
        BenignSliceCount = BenignSliceCount,
        BenignSliceFraction = BenignSliceFraction,
        SfNoise = SfNoise,
        BenignSfNoise = BenignSfNoise,
        NoiseNeighborhood = NoiseNeighborhood,
        LayoutSeed = LayoutSeed,
        SfRecall = SfRecall,
        SfPrecision = SfPrecision,
        BenignSfRecall = BenignSfRecall,
        BenignSfPrecision = BenignSfPrecision,
        BenignSliceMaxFraction = BenignSliceMaxFraction,
    };

    /// <summary>
    /// A critical disc that straddles the global boundary with flipped labels inside, placed so that
    /// <paramref name="positiveShare"/> of its area is class 1 after the flip (both classes occur in the slice).
    /// </summary>
    /// <param name="name">The slice name.</param>
    /// <param name="along">
    /// Where the disc sits along the boundary line: the signed distance from the line's point nearest the
    /// origin, in the direction (BoundaryY, −BoundaryX) (for the default boundary y = x: towards (1, 1); 0.636 puts
    /// a centred disc at about (0.45, 0.45)).
    /// </param>
    /// <param name="fraction">The slice's fraction of the points, in (0, 0.5].</param>
    /// <param name="positiveShare">The share of class 1 inside the disc after the flip, in (0, 1).</param>
    /// <returns>A region with <see cref="SyntheticSliceRegion.Label"/> null (flipped), ready for <see cref="Slices"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public SyntheticSliceRegion StraddlingDisc(string name, double along, double fraction, double positiveShare)
    {
        if (!(fraction > 0 && fraction <= 0.5)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The fraction must be in (0, 0.5].");
        if (!(positiveShare > 0 && positiveShare < 1)) throw new ArgumentOutOfRangeException(nameof(positiveShare), positiveShare, "The positive share must be in (0, 1): a straddling disc holds both classes.");
        if (!double.IsFinite(along)) throw new ArgumentOutOfRangeException(nameof(along), along, "The position along the boundary must be finite.");
        double norm = Math.Sqrt(BoundaryX * BoundaryX + BoundaryY * BoundaryY);
        if (!(norm > 0) || !double.IsFinite(norm)) throw new InvalidOperationException("The boundary (BoundaryX, BoundaryY) must be finite and not (0, 0).");
        double nx = BoundaryX / norm, ny = BoundaryY / norm, d = BoundaryOffset / norm;
        double radius = Math.Sqrt(4 * fraction / Math.PI);
        // Class 1 after the flip = the part of the disc on the boundary's class-0 side. With the center at
        // signed distance s on the class-1 side, that part is a circular segment at distance s from the center.
        double s = positiveShare <= 0.5 ? radius * SegmentOffset(positiveShare) : -radius * SegmentOffset(1 - positiveShare);
        double cx = nx * (d + s) + ny * along, cy = ny * (d + s) - nx * along;
        return new SyntheticSliceRegion(name, SliceShape.Disc, cx, cy, fraction);
    }

    /// <summary>The share of a unit disc's area beyond a chord at distance h ∈ [0, 1] from the center.</summary>
    internal static double SegmentShare(double h) => (Math.Acos(h) - h * Math.Sqrt(1 - h * h)) / Math.PI;

    // h with SegmentShare(h) = share, for share in (0, 0.5]: bisection (SegmentShare falls from 0.5 to 0).
    private static double SegmentOffset(double share)
    {
        double lo = 0, hi = 1;
        for (int i = 0; i < 60; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (SegmentShare(mid) > share) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    private static void CheckRate(string name, double? value, List<string> problems)
    {
        if (value is double v && !(v > 0 && v <= 1))
            problems.Add($"{name} must be in (0, 1]; got {v.ToString("G6", CultureInfo.InvariantCulture)}.");
    }

    // Conservative: bounding circles (a square's is its half diagonal).
    private static bool MayOverlap(SyntheticSliceRegion a, SyntheticSliceRegion b)
    {
        static double Radius(SyntheticSliceRegion r) => r.Shape == SliceShape.Disc ? r.Extent : r.Extent * Math.Sqrt(2);
        if (a.Shape == SliceShape.Square && b.Shape == SliceShape.Square)
            return Math.Abs(a.CenterX - b.CenterX) < a.Extent + b.Extent && Math.Abs(a.CenterY - b.CenterY) < a.Extent + b.Extent;
        double dx = a.CenterX - b.CenterX, dy = a.CenterY - b.CenterY;
        return Math.Sqrt(dx * dx + dy * dy) < Radius(a) + Radius(b);
    }
}
