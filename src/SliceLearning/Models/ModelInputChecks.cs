using System.Globalization;
using SliceLearning.Runtime;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Shape and range checks shared by the models' Loss and Logits.</summary>
internal static class ModelInputChecks
{
    public static void Features(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() == 0)
            throw new SliceDataException("The features are a scalar; expected a batch [B, ...].", nameof(features));
        if (features.shape[0] == 0)
            throw new SliceDataException("The batch is empty (0 rows); a loss or prediction needs at least one example.", nameof(features));
    }

    /// <summary>Rejects NaN and infinite features, naming the first such row and column.</summary>
    public static void Finite(Tensor features) => Training.SliceDataset.CheckFinite(features);

    public static void Labels(Tensor labels, long batch, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.dim() != 1 || labels.shape[0] != batch)
            throw new SliceDataException($"Expected labels [{batch}] (one class index per example), got [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.dtype != ScalarType.Int64)
            throw new SliceDataException($"Labels must be int64 class indices, got {labels.dtype}.", nameof(labels));
        LabelChecks.InRange(labels, numClasses, nameof(labels));
    }

    /// <summary>Membership [B, m] for the model's m slices; a null <paramref name="batch"/> accepts any B.</summary>
    public static void Membership(Tensor membership, long? batch, IReadOnlyList<string> sliceNames)
    {
        ArgumentNullException.ThrowIfNull(membership);
        if (membership.dim() != 2 || (batch is long b && membership.shape[0] != b) || membership.shape[1] != sliceNames.Count)
            throw new SliceDataException(
                $"Expected slice membership [{batch?.ToString(CultureInfo.InvariantCulture) ?? "B"}, {sliceNames.Count}] for the model's {sliceNames.Count} slices ({string.Join(", ", sliceNames)}), " +
                $"got [{string.Join(", ", membership.shape)}]. Build the data with the same SliceSet the model was created for.",
                nameof(membership));
    }
}
