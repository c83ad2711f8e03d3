using static TorchSharp.torch;

namespace SliceLearning.Modules;

/// <summary>
/// Everything one forward pass of <see cref="SliceResidualAttention"/> computes for a batch of B
/// examples (m slices including the base slice, expert size h, C classes). Disposing it disposes
/// every tensor. The expert representations R [B, m, h] are not part of it (the forward pass builds
/// them only when they are small, see <see cref="SliceExpertProjections.PrefersRepresentations"/>);
/// <see cref="SliceResidualAttention.ExpertRepresentations"/> computes them on request.
/// </summary>
/// <param name="IndicatorLogits">Q [B, m]: slice-membership logits (sigmoid gives P(member)).</param>
/// <param name="SlicePredictionLogits">P [B, m, C]: the shared slice head's logits per expert.</param>
/// <param name="AttentionWeights">a [B, m]: softmax attention over the experts.</param>
/// <param name="SliceAwareRepresentation">z' [B, h] = sum_i a_i r_i.</param>
/// <param name="Logits">The prediction head's class logits [B, C].</param>
public sealed record SramOutput(
    Tensor IndicatorLogits,
    Tensor SlicePredictionLogits,
    Tensor AttentionWeights,
    Tensor SliceAwareRepresentation,
    Tensor Logits) : IDisposable
{
    /// <summary>Disposes every tensor of the output.</summary>
    public void Dispose()
    {
        IndicatorLogits.Dispose();
        SlicePredictionLogits.Dispose();
        AttentionWeights.Dispose();
        SliceAwareRepresentation.Dispose();
        Logits.Dispose();
    }
}
