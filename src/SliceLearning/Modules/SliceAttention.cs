using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Modules;

/// <summary>
/// The attention of the slice-residual-attention module: softmax over the m slices of scores built
/// from the indicator logits Q and the slice experts' predictions P (see <see cref="AttentionVariant"/>;
/// the paper's section 3.2 (e) is <see cref="AttentionVariant.Full"/>, softmax((Q + conf(P)) / T)).
/// </summary>
public static class SliceAttention
{
    // Held for the process's lifetime, so never finalized while libtorch reads it (see
    // Training/Optimizers/ScalarSafeOptimizers.cs); passed as the explicit alpha of add/sub.
    private static readonly Scalar One = 1.0;

    /// <summary>
    /// The confidence of each expert's prediction, [B, m] from logits P [B, m, C]. For C = 2 it is
    /// |p_1 - p_0|, which equals the paper's |logit| of the equivalent single-logit head; for C &gt; 2
    /// it is the margin between the largest and the second-largest logit; for C = 1, |p|.
    /// </summary>
    public static Tensor Confidence(Tensor slicePredictionLogits)
    {
        ArgumentNullException.ThrowIfNull(slicePredictionLogits);
        if (slicePredictionLogits.dim() != 3)
            throw new ArgumentException($"Expected slice prediction logits [B, m, C], got [{string.Join(", ", slicePredictionLogits.shape)}].", nameof(slicePredictionLogits));
        long c = slicePredictionLogits.shape[2];
        using var scope = NewDisposeScope();
        Tensor conf = c switch
        {
            1 => slicePredictionLogits.squeeze(-1).abs(),
            2 => slicePredictionLogits.select(-1, 1).sub(slicePredictionLogits.select(-1, 0)).abs(),
            _ => Margin(slicePredictionLogits),
        };
        return scope.MoveToOuter(conf);

        static Tensor Margin(Tensor p)
        {
            var (values, _) = p.topk(2, dim: -1);
            return values.select(-1, 0).sub(values.select(-1, 1));
        }
    }

    /// <summary>
    /// The attention weights [B, m] (rows sum to 1).
    /// </summary>
    /// <param name="indicatorLogits">Q [B, m].</param>
    /// <param name="slicePredictionLogits">P [B, m, C].</param>
    /// <param name="variant">Which terms enter the softmax.</param>
    /// <param name="temperature">T &gt; 0; larger makes the weights more uniform.</param>
    /// <param name="sliceScores">
    /// The learned per-slice scores b [m − 1] of <see cref="AttentionVariant.LearnedOdds"/> (slices
    /// after the base slice); null reads as zeros. Ignored by the other variants.
    /// </param>
    public static Tensor Weights(Tensor indicatorLogits, Tensor slicePredictionLogits, AttentionVariant variant, double temperature, Tensor? sliceScores = null)
    {
        ArgumentNullException.ThrowIfNull(indicatorLogits);
        ArgumentNullException.ThrowIfNull(slicePredictionLogits);
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The attention temperature must be a positive finite number.");
        using var scope = NewDisposeScope();
        Tensor scores = Scores(indicatorLogits, slicePredictionLogits, variant, sliceScores);
        if (temperature != 1.0)
        {
            using var t = temperature.ToScalar();   // explicit and disposed after use: never finalized mid-call
            scores = scores.div(t);
        }
        return scope.MoveToOuter(scores.softmax(1));
    }

    /// <summary>The attention scores [B, m] before the temperature and the softmax.</summary>
    /// <inheritdoc cref="Weights" path="/param"/>
    public static Tensor Scores(Tensor indicatorLogits, Tensor slicePredictionLogits, AttentionVariant variant, Tensor? sliceScores = null)
    {
        ArgumentNullException.ThrowIfNull(indicatorLogits);
        ArgumentNullException.ThrowIfNull(slicePredictionLogits);
        using var scope = NewDisposeScope();
        Tensor scores = variant switch
        {
            AttentionVariant.Full => indicatorLogits.add(Confidence(slicePredictionLogits), One),
            AttentionVariant.IndicatorOnly => indicatorLogits.alias(),
            AttentionVariant.ConfidenceOnly => Confidence(slicePredictionLogits),
            AttentionVariant.Uniform => zeros_like(indicatorLogits),
            AttentionVariant.LearnedOdds => LearnedOdds(indicatorLogits, slicePredictionLogits, sliceScores),
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown attention variant."),
        };
        return scope.MoveToOuter(scores);
    }

    /// <summary>
    /// The log-probability of each expert's predicted class, log max_c softmax(p)_c, [B, m] from P
    /// [B, m, C]: a confidence in (−log C, 0], 0 for a certain expert.
    /// </summary>
    public static Tensor LogConfidence(Tensor slicePredictionLogits)
    {
        ArgumentNullException.ThrowIfNull(slicePredictionLogits);
        if (slicePredictionLogits.dim() != 3)
            throw new ArgumentException($"Expected slice prediction logits [B, m, C], got [{string.Join(", ", slicePredictionLogits.shape)}].", nameof(slicePredictionLogits));
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(slicePredictionLogits.log_softmax(2).amax(new long[] { 2 }));
    }

    // Base slice 0; slice i: q_i + log max_c softmax(p_i)_c + b_i.
    private static Tensor LearnedOdds(Tensor q, Tensor p, Tensor? sliceScores)
    {
        long b = q.shape[0], m = q.shape[1];
        if (m == 1) return zeros(new long[] { b, 1 }, dtype: q.dtype, device: q.device);
        var slices = q.narrow(1, 1, m - 1).add(LogConfidence(p.narrow(1, 1, m - 1)), One);
        if (sliceScores is not null)
        {
            if (sliceScores.dim() != 1 || sliceScores.shape[0] != m - 1)
                throw new ArgumentException($"Expected learned slice scores [{m - 1}], got [{string.Join(", ", sliceScores.shape)}].", nameof(sliceScores));
            slices = slices.add(sliceScores, One);
        }
        // The base column's 0 in front, in one op.
        return nn.functional.pad(slices, new long[] { 1, 0 });
    }
}
