namespace SliceLearning.Data.Synthetic;

/// <summary>The shape of a synthetic slice region in the 2-D square [-1, 1]².</summary>
public enum SliceShape
{
    /// <summary>A disc around the center.</summary>
    Disc = 0,

    /// <summary>An axis-aligned square around the center.</summary>
    Square,
}

/// <summary>
/// One slice of the synthetic task (paper Figure 1): a region of the square [-1, 1]² holding a
/// requested fraction of the points. Inside a critical region the labels deviate from
/// the global linear boundary (set to one class, or flipped); a benign region only marks points and leaves labels alone.
/// </summary>
/// <param name="Name">The slice name (a valid SF name: letters, digits, '_', '-', '.').</param>
/// <param name="Shape">Disc or square.</param>
/// <param name="CenterX">Center, first coordinate.</param>
/// <param name="CenterY">Center, second coordinate.</param>
/// <param name="Fraction">
/// The fraction of all points inside the region, in (0, 0.5]. The region's area is this fraction of
/// the square's area 4, so the point density is the same inside and outside; a critical region then
/// holds exactly round(Fraction × N) of N generated points.
/// </param>
/// <param name="Critical">True: labels inside deviate from the global boundary (a slice the boundary gets wrong).</param>
/// <param name="SfNoise">
/// The noise rate of this slice's SF, in [0, 1): that fraction of the true members is dropped and as
/// many non-members near the region are added, so the SF's precision and recall are both 1 − noise.
/// Null: use <see cref="SyntheticSliceOptions.SfNoise"/> (critical) or
/// <see cref="SyntheticSliceOptions.BenignSfNoise"/> (benign).
/// </param>
/// <param name="Label">
/// For a critical region: the class every point inside gets (the paper's research code sets a disc on the
/// boundary to one class, so the boundary bulges around it), or null to flip each point's boundary label.
/// </param>
/// <param name="SfRecall">
/// This slice's SF recall in (0, 1]: the fraction of true members the SF keeps. Null: 1 − the noise
/// rate (see <paramref name="SfNoise"/>) unless the options set one.
/// </param>
/// <param name="SfPrecision">
/// This slice's SF precision in (0, 1]: the SF adds non-members near the region until this fraction of
/// its members are true ones. Null: 1 − the noise rate unless the options set one.
/// </param>
public sealed record SyntheticSliceRegion(
    string Name,
    SliceShape Shape,
    double CenterX,
    double CenterY,
    double Fraction,
    bool Critical = true,
    double? SfNoise = null,
    int? Label = null,
    double? SfRecall = null,
    double? SfPrecision = null)
{
    /// <summary>
    /// The region's radius (disc) or half side (square) for its <see cref="Fraction"/> of the square
    /// [-1, 1]² (area 4): sqrt(4 f / π) for a disc, sqrt(f) for a square.
    /// </summary>
    public double Extent => Shape == SliceShape.Disc ? Math.Sqrt(4 * Fraction / Math.PI) : Math.Sqrt(Fraction);

    /// <summary>True when the point (x, y) lies in the region.</summary>
    public bool Contains(double x, double y)
    {
        double dx = x - CenterX, dy = y - CenterY, e = Extent;
        return Shape == SliceShape.Disc ? dx * dx + dy * dy < e * e : Math.Abs(dx) < e && Math.Abs(dy) < e;
    }

    /// <summary>Distance from the region's center (Euclidean for discs, Chebyshev for squares).</summary>
    internal double Distance(double x, double y)
    {
        double dx = x - CenterX, dy = y - CenterY;
        return Shape == SliceShape.Disc ? Math.Sqrt(dx * dx + dy * dy) : Math.Max(Math.Abs(dx), Math.Abs(dy));
    }
}

/// <summary>One 2-D synthetic example.</summary>
/// <param name="X">First coordinate, in [-1, 1].</param>
/// <param name="Y">Second coordinate, in [-1, 1].</param>
public readonly record struct SyntheticPoint(float X, float Y);
