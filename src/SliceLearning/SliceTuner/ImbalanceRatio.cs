using System.Globalization;
namespace SliceLearning.SliceTuner;

/// <summary>The imbalance ratio max(sizes) / min(sizes) and the change ratio of Algorithm 2.</summary>
public static class ImbalanceRatio
{
    /// <summary>max_i sizes_i / min_i sizes_i (infinity when a size is 0 and another is not; 1 when all are 0).</summary>
    public static double Of(IReadOnlyList<double> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count == 0) throw new ArgumentException("At least one size is needed.", nameof(sizes));
        double max = sizes.Max(), min = sizes.Min();
        if (min < 0) throw new ArgumentException($"Sizes must be >= 0; got {min}.", nameof(sizes));
        if (max == 0) return 1;
        return min == 0 ? double.PositiveInfinity : max / min;
    }

    /// <summary>max_i sizes_i / min_i sizes_i for integer sizes.</summary>
    public static double Of(IReadOnlyList<int> sizes) => Of(sizes.Select(s => (double)s).ToArray());

    /// <summary>
    /// The scale x in [0, 1] with ImbalanceRatio(sizes + x * amounts) = <paramref name="targetRatio"/>,
    /// for a target between the current ratio and the ratio after the whole plan (Algorithm 2's
    /// GetChangeRatio). Computed exactly: phi(x) = max_i(s_i + x d_i) - r * min_i(s_i + x d_i) is
    /// convex and piecewise linear in x, and changes sign once on [0, 1] for such a target, so
    /// Newton's method started at the end where phi &gt; 0 moves monotonically toward the root and
    /// lands exactly on it after at most one step per linear piece (no general root finder).
    /// </summary>
    /// <param name="sizes">Current sizes (each &gt; 0).</param>
    /// <param name="amounts">The planned acquisitions (each &gt;= 0).</param>
    /// <param name="targetRatio">The imbalance ratio to reach, between the ratio at x = 0 and at x = 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">The target is not between the two ratios.</exception>
    public static double ChangeRatio(IReadOnlyList<double> sizes, IReadOnlyList<double> amounts, double targetRatio)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(amounts);
        if (sizes.Count == 0 || sizes.Count != amounts.Count) throw new ArgumentException($"Got {amounts.Count} amounts for {sizes.Count} sizes.", nameof(amounts));
        for (int i = 0; i < sizes.Count; i++)
        {
            if (!(sizes[i] > 0) || !double.IsFinite(sizes[i])) throw new ArgumentException($"Size #{i} is {sizes[i]}; sizes must be finite and > 0.", nameof(sizes));
            if (!(amounts[i] >= 0) || !double.IsFinite(amounts[i])) throw new ArgumentException($"Amount #{i} is {amounts[i]}; amounts must be finite and >= 0.", nameof(amounts));
        }
        double r0 = Of(sizes), r1 = Of(sizes.Select((s, i) => s + amounts[i]).ToArray());
        double r = targetRatio;
        if (!double.IsFinite(r) || r < Math.Min(r0, r1) || r > Math.Max(r0, r1))
            throw new ArgumentOutOfRangeException(nameof(targetRatio), targetRatio, string.Create(CultureInfo.InvariantCulture, $"The target imbalance ratio must lie between the current ratio {r0} and the ratio after the whole plan {r1}."));
        if (r == r0) return 0;
        if (r == r1) return 1;
        double Phi(double x, out double slope, bool leftward)
        {
            // Active lines of the max and of the min; ties broken by the one-sided slope in the direction of travel.
            int iMax = 0, iMin = 0;
            double vMax = double.NegativeInfinity, vMin = double.PositiveInfinity;
            for (int i = 0; i < sizes.Count; i++)
            {
                double v = sizes[i] + x * amounts[i];
                if (v > vMax || (v == vMax && (leftward ? amounts[i] < amounts[iMax] : amounts[i] > amounts[iMax]))) { vMax = v; iMax = i; }
                if (v < vMin || (v == vMin && (leftward ? amounts[i] > amounts[iMin] : amounts[i] < amounts[iMin]))) { vMin = v; iMin = i; }
            }
            slope = amounts[iMax] - r * amounts[iMin];
            return vMax - r * vMin;
        }
        // r1 > r: phi(1) > 0 > phi(0), start at 1 and move left; r1 < r: phi(0) > 0 > phi(1), start at 0 and move right.
        bool fromRight = r1 > r;
        double xk = fromRight ? 1 : 0;
        for (int iter = 0; iter < 4 * sizes.Count + 8; iter++)
        {
            double value = Phi(xk, out double slope, fromRight);
            if (value <= 0 || slope == 0) break;
            double next = xk - value / slope;
            if (!double.IsFinite(next) || next == xk) break;
            if (fromRight ? next >= xk : next <= xk) break;
            xk = Math.Clamp(next, 0, 1);
        }
        return xk;
    }
}
