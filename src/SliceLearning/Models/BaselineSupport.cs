using SliceLearning.Slicing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Argument checks and small tensor helpers shared by the baseline models.</summary>
internal static class BaselineSupport
{
    /// <summary>Slice names with the base slice first: "base" is prepended when missing.</summary>
    public static string[] WithBase(IReadOnlyList<string> sliceNames, string paramName)
    {
        ArgumentNullException.ThrowIfNull(sliceNames, paramName);
        var names = sliceNames.Count > 0 && sliceNames[0] == SliceMatrix.BaseSliceName
            ? sliceNames.ToArray()
            : new[] { SliceMatrix.BaseSliceName }.Concat(sliceNames).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("Slice names must not be empty.", paramName);
            if (!seen.Add(name)) throw new ArgumentException($"The slice name '{name}' appears twice.", paramName);
        }
        return names;
    }

    public static void CheckSizes(long backboneWidth, int numClasses)
    {
        if (backboneWidth < 1) throw new ArgumentOutOfRangeException(nameof(backboneWidth), backboneWidth, "The backbone width must be at least 1.");
        if (numClasses < 2) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "A classifier needs at least 2 classes.");
    }

    /// <summary>Checks a batch: labels [B] int64 and membership [B, m] for the model's m slices.</summary>
    public static void CheckBatch(Tensor features, Tensor labels, Tensor sliceMembership, int sliceCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(sliceMembership);
        long b = features.shape[0];
        if (labels.dim() != 1 || labels.shape[0] != b)
            throw new SliceDataException($"Expected labels of shape [{b}] for {b} examples, got [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.dtype != ScalarType.Int64)
            throw new SliceDataException($"Expected int64 labels (class indices), got {labels.dtype}.", nameof(labels));
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
        return (values * mask).sum(0L) / mask.sum(0L).clamp_min(1);
    }

    /// <summary>A [rows, cols] or [m, rows, cols] weight initialised like nn.Linear: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).</summary>
    public static Parameter UniformParameter(long fanIn, params long[] shape)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        using var data = torch.empty(shape);
        using (torch.no_grad()) data.uniform_(-bound, bound);
        return new Parameter(data.detach().clone(), requires_grad: true);
    }

    public static long CountParameters(nn.Module module) => module.parameters().Sum(p => p.numel());
}
