using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// The paper's VANILLA baseline: a backbone and a linear prediction head <c>Linear(d, C)</c>,
/// trained with cross-entropy; it ignores slices.
/// </summary>
public sealed class VanillaModel : nn.Module<Tensor, Tensor>, ITrainableModel
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly Linear prediction_head;

    private VanillaModel(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses)
        : base(nameof(VanillaModel))
    {
        this.backbone = backbone;
        BackboneWidth = backboneWidth;
        NumClasses = numClasses;
        prediction_head = nn.Linear(backboneWidth, numClasses);
        RegisterComponents();
    }

    /// <summary>Creates the model.</summary>
    /// <param name="backbone">Maps a batch of inputs to [B, <paramref name="backboneWidth"/>]. The model owns it from now on.</param>
    /// <param name="backboneWidth">d, the backbone's output width.</param>
    /// <param name="numClasses">C, at least 2.</param>
    public static VanillaModel Create(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentOutOfRangeException.ThrowIfLessThan(backboneWidth, 1L);
        if (numClasses < 2)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "A classifier needs at least 2 classes (use 2 for a binary task).");
        return new VanillaModel(backbone, backboneWidth, numClasses);
    }

    /// <summary>Creates the model over a backbone that declares its width.</summary>
    /// <param name="backbone">The backbone; the model owns it from now on.</param>
    /// <param name="numClasses">C, at least 2.</param>
    public static VanillaModel Create<TBackbone>(TBackbone backbone, int numClasses)
        where TBackbone : nn.Module<Tensor, Tensor>, IBackbone
    {
        ArgumentNullException.ThrowIfNull(backbone);
        return Create(backbone, backbone.OutputWidth, numClasses);
    }

    /// <inheritdoc />
    public nn.Module Module => this;

    /// <inheritdoc />
    public int NumClasses { get; }

    /// <summary>Always empty: the model ignores slices.</summary>
    public IReadOnlyList<string> SliceNames => Array.Empty<string>();

    /// <summary>d, the backbone width.</summary>
    public long BackboneWidth { get; }

    /// <summary>Class logits [B, C].</summary>
    public override Tensor forward(Tensor input)
    {
        ModelInputChecks.Features(input);
        using var scope = NewDisposeScope();
        var z = backbone.call(input);
        if (z.dim() != 2 || z.shape[1] != BackboneWidth)
            throw new InvalidOperationException($"The backbone produced [{string.Join(", ", z.shape)}], but the model was created with backboneWidth = {BackboneWidth}; pass the width the backbone really outputs.");
        return scope.MoveToOuter(prediction_head.call(z));
    }

    /// <inheritdoc />
    public Tensor Logits(Tensor features) => call(features);

    /// <summary>Cross-entropy of the logits, mean over the batch; <paramref name="sliceMembership"/> is ignored.</summary>
    public Tensor Loss(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        ModelInputChecks.Features(features);
        ModelInputChecks.Labels(labels, features.shape[0], NumClasses);
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(call(features), labels);
        return scope.MoveToOuter(loss);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            prediction_head.Dispose();
        }
        base.Dispose(disposing);
    }
}
