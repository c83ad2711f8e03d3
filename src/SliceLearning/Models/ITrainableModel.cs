using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// The contract between models (SRAM's <c>SliceAwareModel</c> and the baselines Vanilla, HPS,
/// Manual, MoE) and the trainer: a TorchSharp module that computes its own training loss from
/// features, labels and slice membership, and predicts from features alone (no SFs at inference).
/// </summary>
public interface ITrainableModel : IDisposable
{
    /// <summary>The underlying module: parameters, train/eval mode, device moves and state dicts.</summary>
    nn.Module Module { get; }

    /// <summary>Number of classes C (2 for binary tasks).</summary>
    int NumClasses { get; }

    /// <summary>
    /// The slice names the model was built for, base slice first (m = k + 1), or an empty list for
    /// models that ignore slices.
    /// </summary>
    IReadOnlyList<string> SliceNames { get; }

    /// <summary>
    /// The scalar training loss of one batch.
    /// </summary>
    /// <param name="features">Backbone input for B examples.</param>
    /// <param name="labels">Class indices [B], int64, in [0, C).</param>
    /// <param name="sliceMembership">SF outputs [B, m], float32 0/1, base column first.</param>
    Tensor Loss(Tensor features, Tensor labels, Tensor sliceMembership);

    /// <summary>Class logits [B, C] for B examples; needs no slice membership.</summary>
    Tensor Logits(Tensor features);
}
