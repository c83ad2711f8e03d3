using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Modules;

/// <summary>
/// The attention of the slice-residual-attention module (paper section 3.2 (e)):
/// a = softmax((Q + conf(P)) / T) over the m slices, where Q are the indicator logits and
/// conf(P) the confidence of each slice expert's prediction.
/// </summary>
public static class SliceAttention
{
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
            2 => (slicePredictionLogits.select(-1, 1) - slicePredictionLogits.select(-1, 0)).abs(),
            _ => Margin(slicePredictionLogits),
        };
        return scope.MoveToOuter(conf);

        static Tensor Margin(Tensor p)
        {
            var (values, _) = p.topk(2, dim: -1);
            return values.select(-1, 0) - values.select(-1, 1);
        }
    }

    /// <summary>
    /// The attention weights [B, m] (rows sum to 1).
    /// </summary>
    /// <param name="indicatorLogits">Q [B, m].</param>
    /// <param name="slicePredictionLogits">P [B, m, C].</param>
    /// <param name="variant">Which terms enter the softmax.</param>
    /// <param name="temperature">T &gt; 0; larger makes the weights more uniform.</param>
    public static Tensor Weights(Tensor indicatorLogits, Tensor slicePredictionLogits, AttentionVariant variant, double temperature)
    {
        ArgumentNullException.ThrowIfNull(indicatorLogits);
        ArgumentNullException.ThrowIfNull(slicePredictionLogits);
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The attention temperature must be a positive finite number.");
        using var scope = NewDisposeScope();
        Tensor scores = variant switch
        {
            AttentionVariant.Full => ScalarMath.Add(indicatorLogits, Confidence(slicePredictionLogits)),
            AttentionVariant.IndicatorOnly => indicatorLogits,
            AttentionVariant.ConfidenceOnly => Confidence(slicePredictionLogits),
            AttentionVariant.Uniform => zeros_like(indicatorLogits),
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown attention variant."),
        };
        var weights = (temperature == 1.0 ? scores : ScalarMath.Div(scores, temperature)).softmax(1);
        return scope.MoveToOuter(weights);
    }
}
