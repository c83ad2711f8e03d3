using SliceLearning.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

using SliceLearning.Modules;

namespace SliceLearning.Models;

/// <summary>
/// A shared backbone with m linear heads (the base head first) held as one batched weight
/// [m, d, C]: all heads run in one einsum, whatever m is. The architecture of HPS and MANUAL.
/// </summary>
internal sealed class SliceHeadsModule : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly Parameter head_weight;
    private readonly Parameter head_bias;

    public SliceHeadsModule(nn.Module<Tensor, Tensor> backbone, long backboneWidth, long headCount, long numClasses)
        : base(nameof(SliceHeadsModule))
    {
        this.backbone = backbone;
        head_weight = BatchedLinearInit.Uniform(backboneWidth, new[] { headCount, backboneWidth, numClasses });
        head_bias = BatchedLinearInit.Uniform(backboneWidth, new[] { headCount, numClasses });
        BackboneWidth = backboneWidth;
        RegisterComponents();
    }

    public long BackboneWidth { get; }

    /// <summary>Logits of every head: [B, m, C].</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var z = backbone.call(input);
        var logits = ScalarMath.Add(torch.einsum("bd,mdc->bmc", z, head_weight), head_bias);
        return scope.MoveToOuter(logits);
    }

    /// <summary>Logits of the base head only: [B, C].</summary>
    public Tensor BaseLogits(Tensor input)
    {
        using var scope = NewDisposeScope();
        var z = backbone.call(input);
        var logits = ScalarMath.Add(z.matmul(head_weight[0]), head_bias[0]);
        return scope.MoveToOuter(logits);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) backbone.Dispose();
        base.Dispose(disposing);
    }
}
