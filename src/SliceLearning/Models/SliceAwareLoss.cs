using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// The loss terms of one <see cref="SliceAwareModel"/> batch, each already normalised (see
/// <see cref="SliceAwareOptions"/>) but not yet weighted, plus their weighted sum. Disposing it
/// disposes every tensor.
/// </summary>
/// <param name="Total">Weighted sum: the scalar that training differentiates.</param>
/// <param name="Prediction">Prediction head cross-entropy, mean over the batch.</param>
/// <param name="SliceHead">Shared slice head cross-entropy over member (example, slice) pairs, divided by their count.</param>
/// <param name="Indicator">Indicator binary cross-entropy, mean over the B examples, averaged or summed over the m slices (<see cref="SliceAwareOptions.IndicatorLossNormalization"/>).</param>
/// <param name="MemberPairs">Number of member (example, slice) pairs in the batch (the slice head's normaliser), a scalar tensor (kept on the device: reading it is a host sync).</param>
public sealed record SliceAwareLoss(Tensor Total, Tensor Prediction, Tensor SliceHead, Tensor Indicator, Tensor MemberPairs) : IDisposable
{
    /// <summary>Disposes every tensor.</summary>
    public void Dispose()
    {
        Total.Dispose();
        Prediction.Dispose();
        SliceHead.Dispose();
        Indicator.Dispose();
        MemberPairs.Dispose();
    }
}
