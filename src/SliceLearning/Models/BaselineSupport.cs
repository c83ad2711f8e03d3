using SliceLearning.Runtime;
using SliceLearning.Slicing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Argument checks and small tensor helpers shared by the baseline models.</summary>
internal static class BaselineSupport
{
    public static void CheckSizes(long backboneWidth, int numClasses)
    {
        if (backboneWidth < 1) throw new ArgumentOutOfRangeException(nameof(backboneWidth), backboneWidth, "The backbone width must be at least 1.");
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "A classifier needs at least 2 classes.");
    }

    /// <summary>
    /// Checks a batch with the checks every model uses (non-empty batch, int64 labels in range),
    /// then membership [B, m] for the model's m slices.
    /// </summary>
    public static void CheckBatch(Tensor features, Tensor labels, Tensor sliceMembership, int sliceCount, int numClasses)
    {
        ModelInputChecks.Features(features);
        long b = features.shape[0];
        ModelInputChecks.Labels(labels, b, numClasses);
        ArgumentNullException.ThrowIfNull(sliceMembership);
        if (sliceMembership.dim() != 2 || sliceMembership.shape[0] != b || sliceMembership.shape[1] != sliceCount)
            throw new SliceDataException(
                $"Expected slice membership of shape [{b}, {sliceCount}] (base slice plus {sliceCount - 1} SFs), got [{string.Join(", ", sliceMembership.shape)}].",
                nameof(sliceMembership));
    }

    /// <summary>Per-(example, slice) negative log-likelihood: logits [B, m, C], labels [B] -> [B, m].</summary>
    public static Tensor NllPerSlice(Tensor logits, Tensor labels)
    {
        long m = logits.shape[1];
        var index = labels.view(-1, 1, 1).expand(-1, m, 1);
        return -logits.log_softmax(2).gather(2, index).squeeze(2);
    }

    /// <summary>Mean of <paramref name="values"/> [B, m] over each column's members (0 for a column without members) -> [m].</summary>
    public static Tensor MeanOverMembers(Tensor values, Tensor membership)
    {
        var mask = membership.to_type(values.dtype);
        return (values * mask).sum(0L) / mask.sum(0L).clamp_min(ScalarMath.One);
    }

    public static long CountParameters(nn.Module module) => module.parameters().Sum(p => p.numel());
}
