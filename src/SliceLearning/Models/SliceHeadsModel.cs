using SliceLearning.Modules;
using SliceLearning.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// The architecture HPS and MANUAL share: a backbone with m linear heads (the base head first)
/// held as one batched weight [m, d, C], so all heads run in one einsum whatever m is.
/// Predictions come from the base head.
/// </summary>
public abstract class SliceHeadsModel : SliceModelBase
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly Parameter head_weight;
    private readonly Parameter head_bias;

    private protected SliceHeadsModel(string name, nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, string[] sliceNames)
        : base(name, backboneWidth, numClasses, sliceNames)
    {
        this.backbone = backbone;
        long m = sliceNames.Length;
        head_weight = BatchedLinearInit.Uniform(backboneWidth, new[] { m, backboneWidth, (long)numClasses });
        head_bias = BatchedLinearInit.Uniform(backboneWidth, new[] { m, (long)numClasses });
    }

    /// <summary>The backbone.</summary>
    public nn.Module<Tensor, Tensor> Backbone => backbone;

    /// <summary>Logits of every head, [B, m, C] (base head first): what each slice head predicts.</summary>
    public Tensor HeadLogits(Tensor features)
    {
        CheckFeatures(features);
        return HeadLogitsCore(features);
    }

    internal Tensor HeadLogitsCore(Tensor features)
    {
        using var scope = NewDisposeScope();
        var z = RunBackbone(backbone, features);
        var logits = torch.einsum("bd,mdc->bmc", z, head_weight).add_(head_bias, ScalarMath.One);
        return scope.MoveToOuter(logits);
    }

    internal override Tensor LogitsCore(Tensor features)
    {
        using var scope = NewDisposeScope();
        var z = RunBackbone(backbone, features);
        var logits = z.matmul(head_weight[0]).add_(head_bias[0], ScalarMath.One);
        return scope.MoveToOuter(logits);
    }

    internal override Tensor LossCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var loss = LossFromHeads(HeadLogitsCore(features), labels, sliceMembership);
        return scope.MoveToOuter(loss);
    }

    internal override (Tensor Loss, Tensor Logits) LossAndLogitsCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var heads = HeadLogitsCore(features);
        var loss = LossFromHeads(heads, labels, sliceMembership);
        return (scope.MoveToOuter(loss), scope.MoveToOuter(heads.select(1, 0)));
    }

    /// <summary>The model's loss from every head's logits [B, m, C].</summary>
    private protected abstract Tensor LossFromHeads(Tensor headLogits, Tensor labels, Tensor sliceMembership);

    /// <summary>The weight of each slice head's loss term: <paramref name="weight"/>, divided by k when averaged over the slices.</summary>
    private protected double SliceTermWeight(double weight, SliceLossNormalization normalization) =>
        normalization == SliceLossNormalization.MeanOverSlices && SliceNames.Count > 1 ? weight / (SliceNames.Count - 1) : weight;

    /// <summary>
    /// The loss HPS and MANUAL share: mean cross-entropy of the base head (each example times its
    /// weight, when given) + <paramref name="sliceLossWeight"/> × Σ over slices i ≥ 1 of μ_i × mean
    /// cross-entropy of head i over its members (μ_i = 1 unless <paramref name="sliceMultipliers"/> is given).
    /// </summary>
    private protected Tensor HeadsLoss(Tensor headLogits, Tensor labels, Tensor sliceMembership, double sliceLossWeight,
        Tensor? exampleWeights = null, Tensor? sliceMultipliers = null)
    {
        var nll = NllPerSlice(headLogits, labels);
        var baseNll = nll.select(1, 0);
        var loss = (exampleWeights is null ? baseNll : baseNll * exampleWeights.to_type(nll.dtype)).mean();
        int m = SliceNames.Count;
        if (m > 1)
        {
            var perSlice = MeanOverMembers(nll, sliceMembership);
            if (sliceMultipliers is not null) perSlice = perSlice * sliceMultipliers.to_type(nll.dtype);
            loss = ScalarMath.Add(loss, ScalarMath.Mul(perSlice.narrow(0, 1, m - 1).sum(), sliceLossWeight));
        }
        return loss;
    }

    /// <summary>Per-(example, slice) negative log-likelihood: logits [B, m, C], labels [B] -> [B, m].</summary>
    internal static Tensor NllPerSlice(Tensor logits, Tensor labels)
    {
        long m = logits.shape[1];
        var index = labels.view(-1, 1, 1).expand(-1, m, 1);
        return logits.log_softmax(2).gather(2, index).squeeze(2).neg_();
    }

    /// <summary>Mean of <paramref name="values"/> [B, m] over each column's members (0 for a column without members) -> [m].</summary>
    internal static Tensor MeanOverMembers(Tensor values, Tensor membership)
    {
        var mask = membership.to_type(values.dtype);
        return (values * mask).sum(0L) / mask.sum(0L).clamp_min(ScalarMath.One);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            head_weight.Dispose();
            head_bias.Dispose();
        }
        base.Dispose(disposing);
    }
}
