using MathNet.Numerics.Distributions;
using SliceLearning.Evaluation;

namespace SliceLearning.Discovery;

/// <summary>The Wilson score interval of a binomial proportion (well behaved for small counts and rates near 0 or 1).</summary>
public static class WilsonInterval
{
    /// <summary>The two-sided Wilson interval of <paramref name="successes"/> out of <paramref name="trials"/>.</summary>
    /// <param name="successes">Number of successes, 0..trials.</param>
    /// <param name="trials">Number of trials, at least 1.</param>
    /// <param name="confidenceLevel">Two-sided level in (0, 1), e.g. 0.95.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count or the level is out of range.</exception>
    public static ConfidenceInterval Compute(int successes, int trials, double confidenceLevel = 0.95)
    {
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, "The 'trials' parameter must be at least 1.");
        if (successes < 0 || successes > trials) throw new ArgumentOutOfRangeException(nameof(successes), successes, $"The 'successes' parameter must be in [0, {trials}].");
        if (!(confidenceLevel > 0 && confidenceLevel < 1)) throw new ArgumentOutOfRangeException(nameof(confidenceLevel), confidenceLevel, "The 'confidenceLevel' parameter must be in (0, 1).");
        double z = Normal.InvCDF(0, 1, 1 - (1 - confidenceLevel) / 2);
        double n = trials, p = successes / n, z2 = z * z;
        double denominator = 1 + z2 / n;
        double center = (p + z2 / (2 * n)) / denominator;
        double half = z / denominator * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return new ConfidenceInterval(Math.Max(0, center - half), Math.Min(1, center + half));
    }
}

/// <summary>How p-values of many simultaneous tests are corrected.</summary>
public enum MultipleTestingCorrection
{
    /// <summary>Benjamini-Hochberg: controls the false discovery rate (the expected share of false findings among the reported ones).</summary>
    BenjaminiHochberg,

    /// <summary>Bonferroni: controls the family-wise error rate (the chance of any false finding); stricter.</summary>
    Bonferroni,

    /// <summary>No correction (each test at the nominal level; many false findings when thousands of slices are tested).</summary>
    None,
}

/// <summary>Multiple-testing corrections of p-values.</summary>
public static class MultipleTesting
{
    /// <summary>Adjusted p-values, in the input order: reject test i at level alpha when adjusted[i] &lt;= alpha.</summary>
    /// <param name="pValues">Raw p-values in [0, 1].</param>
    /// <param name="correction">The correction.</param>
    /// <exception cref="ArgumentOutOfRangeException">A p-value outside [0, 1] or NaN (the message names its position).</exception>
    public static double[] Adjust(IReadOnlyList<double> pValues, MultipleTestingCorrection correction)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        for (int i = 0; i < pValues.Count; i++)
        {
            if (!(pValues[i] >= 0 && pValues[i] <= 1))
                throw new ArgumentOutOfRangeException(nameof(pValues), pValues[i], $"p-value #{i} must be in [0, 1].");
        }
        int m = pValues.Count;
        var result = new double[m];
        switch (correction)
        {
            case MultipleTestingCorrection.None:
                for (int i = 0; i < m; i++) result[i] = pValues[i];
                break;
            case MultipleTestingCorrection.Bonferroni:
                for (int i = 0; i < m; i++) result[i] = Math.Min(1, pValues[i] * m);
                break;
            case MultipleTestingCorrection.BenjaminiHochberg:
                // Step-up: adjusted p_(k) = min over j >= k of p_(j) * m / j (sorted ascending).
                var order = Enumerable.Range(0, m).OrderBy(i => pValues[i]).ToArray();
                double running = 1;
                for (int rank = m; rank >= 1; rank--)
                {
                    int i = order[rank - 1];
                    running = Math.Min(running, pValues[i] * m / rank);
                    result[i] = Math.Min(1, running);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(correction), correction, "Unknown correction.");
        }
        return result;
    }

    /// <summary>
    /// One-sided p-value that the rate in a group (<paramref name="groupEvents"/> of <paramref name="groupSize"/>)
    /// is higher than in the rest (<paramref name="restEvents"/> of <paramref name="restSize"/>): a pooled two-proportion z-test.
    /// </summary>
    public static double OneSidedProportionTest(int groupEvents, int groupSize, int restEvents, int restSize)
    {
        if (groupSize < 1 || restSize < 1) return 1;
        double p1 = (double)groupEvents / groupSize, p2 = (double)restEvents / restSize;
        double pooled = (double)(groupEvents + restEvents) / (groupSize + restSize);
        double se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / groupSize + 1.0 / restSize));
        if (se == 0) return p1 > p2 ? 0 : 1;
        return 1 - Normal.CDF(0, 1, (p1 - p2) / se);
    }
}
