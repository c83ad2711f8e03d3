using System.Globalization;

namespace SliceLearning.Models;

/// <summary>
/// The MANUAL baseline's selection procedure (paper section 4.1.1): pick the slices that score at
/// least 5 F1 points below overall in VANILLA, then grid-search the loss multiplier α over
/// {2, 20, 50, 100} on validation data.
/// </summary>
public static class ManualReweighting
{
    /// <summary>The paper's grid of loss multipliers: 2, 20, 50, 100.</summary>
    public static IReadOnlyList<double> PaperAlphas { get; } = new[] { 2.0, 20.0, 50.0, 100.0 };

    /// <summary>The paper's threshold for an underperforming slice: 5 F1 points (0.05) below overall.</summary>
    public const double PaperF1Gap = 0.05;

    /// <summary>
    /// The slices whose F1 is at least <paramref name="minGap"/> below <paramref name="overallF1"/>
    /// (F1 on the 0-1 scale), in the order given. Slices with a NaN score (no support) are skipped.
    /// </summary>
    /// <param name="sliceF1">F1 per slice name (the base slice, if present, is ignored).</param>
    /// <param name="overallF1">The overall F1 of the same model on the same data.</param>
    /// <param name="minGap">The gap, 0.05 in the paper.</param>
    public static IReadOnlyList<string> SelectSlices(IReadOnlyDictionary<string, double> sliceF1, double overallF1, double minGap = PaperF1Gap)
    {
        ArgumentNullException.ThrowIfNull(sliceF1);
        if (!double.IsFinite(overallF1)) throw new ArgumentOutOfRangeException(nameof(overallF1), overallF1, "The overall F1 must be a finite number.");
        if (!(minGap >= 0 && double.IsFinite(minGap))) throw new ArgumentOutOfRangeException(nameof(minGap), minGap, "The gap must be finite and at least 0.");
        // Small tolerance so that a gap of exactly 5 points computed in floating point still counts.
        return sliceF1
            .Where(kv => kv.Key != Slicing.SliceMatrix.BaseSliceName && double.IsFinite(kv.Value) && overallF1 - kv.Value >= minGap - 1e-12)
            .Select(kv => kv.Key)
            .ToArray();
    }

    /// <summary>
    /// The slices of <paramref name="report"/> (usually VANILLA's on validation data) whose F1 is at
    /// least <paramref name="minGap"/> below the report's overall F1; empty slices are skipped.
    /// </summary>
    public static IReadOnlyList<string> SelectSlices(Evaluation.SliceReport report, double minGap = PaperF1Gap)
    {
        ArgumentNullException.ThrowIfNull(report);
        var f1 = report.Slices.Skip(1).Where(s => !s.IsEmpty).ToDictionary(s => s.Name, s => s.Metrics.F1, StringComparer.Ordinal);
        return SelectSlices(f1, report.Overall.Metrics.F1, minGap);
    }

    /// <summary>
    /// Trains one candidate per α and keeps the one with the highest validation score (the first on
    /// ties); the other candidates are disposed. Trainer-agnostic: <paramref name="train"/> builds and
    /// fits a model for an α, <paramref name="validationScore"/> scores it (higher is better).
    /// </summary>
    /// <param name="alphas">The grid, e.g. <see cref="PaperAlphas"/>.</param>
    /// <param name="train">Builds and trains the candidate for one α.</param>
    /// <param name="validationScore">Scores a trained candidate on validation data; NaN counts as worst.</param>
    /// <param name="cancellationToken">Checked between candidates; on cancellation (or when <paramref name="train"/>
    /// or <paramref name="validationScore"/> throws) every candidate trained so far is disposed.</param>
    public static ManualSearchResult<TModel> SearchAlpha<TModel>(IEnumerable<double> alphas, Func<double, TModel> train, Func<TModel, double> validationScore, CancellationToken cancellationToken = default)
        where TModel : IDisposable
    {
        ArgumentNullException.ThrowIfNull(alphas);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validationScore);
        var grid = alphas.ToArray();
        if (grid.Length == 0) throw new ArgumentException("The α grid is empty; pass e.g. ManualReweighting.PaperAlphas.", nameof(alphas));
        foreach (double a in grid)
        {
            if (!(a >= 1 && double.IsFinite(a))) throw new ArgumentOutOfRangeException(nameof(alphas), a, $"Every α must be finite and at least 1; got {a.ToString(CultureInfo.InvariantCulture)}.");
        }
        TModel? best = default;
        double bestAlpha = double.NaN, bestScore = double.NegativeInfinity;
        var scores = new List<(double Alpha, double Score)>();
        try
        {
            foreach (double alpha in grid)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var model = train(alpha);
                double score;
                try
                {
                    score = validationScore(model);
                }
                catch
                {
                    model.Dispose();
                    throw;
                }
                scores.Add((alpha, score));
                if (best is null || (double.IsFinite(score) && score > bestScore))
                {
                    best?.Dispose();
                    best = model;
                    bestAlpha = alpha;
                    bestScore = double.IsFinite(score) ? score : double.NegativeInfinity;
                }
                else model.Dispose();
            }
        }
        catch
        {
            // Cancelled or failed: no candidate reaches the caller, so none may stay alive.
            best?.Dispose();
            throw;
        }
        return new ManualSearchResult<TModel>(bestAlpha, best!, scores);
    }
}

/// <summary>The outcome of <see cref="ManualReweighting.SearchAlpha{TModel}"/>.</summary>
/// <typeparam name="TModel">The model type.</typeparam>
/// <param name="BestAlpha">The α with the highest validation score.</param>
/// <param name="BestModel">The model trained with <paramref name="BestAlpha"/> (the caller disposes it).</param>
/// <param name="Scores">The validation score of every α, in grid order.</param>
public sealed record ManualSearchResult<TModel>(double BestAlpha, TModel BestModel, IReadOnlyList<(double Alpha, double Score)> Scores);
