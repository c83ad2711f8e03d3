using System.Text.Json.Nodes;
using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// The paper's VANILLA baseline: a backbone and a linear prediction head <c>Linear(d, C)</c>,
/// trained with cross-entropy; it ignores slices.
/// </summary>
public sealed class VanillaModel : SliceModelBase
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly Linear prediction_head;

    private VanillaModel(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses)
        : base(nameof(VanillaModel), backboneWidth, numClasses, Array.Empty<string>())
    {
        this.backbone = backbone;
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
        CheckSizes(backboneWidth, numClasses);
        return new VanillaModel(backbone, backboneWidth, numClasses);
    }

    /// <summary>Creates the model over a backbone that declares its width.</summary>
    /// <param name="backbone">The backbone; the model owns it from now on.</param>
    /// <param name="numClasses">C, at least 2.</param>
    public static VanillaModel Create<TBackbone>(TBackbone backbone, int numClasses)
        where TBackbone : nn.Module<Tensor, Tensor>, IBackbone =>
        Create(backbone, WidthOf(backbone), numClasses);

    /// <summary>
    /// Recreates a VANILLA model from a checkpoint over a freshly constructed <paramref name="backbone"/>
    /// of the saved architecture, then loads the weights (all or nothing, see <see cref="Training.ModelCheckpoint"/>).
    /// </summary>
    public static VanillaModel Load(string path, nn.Module<Tensor, Tensor> backbone)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        return Training.ModelCheckpoint.Recreate(path, info => Create(backbone, info.RequireBackboneWidth(path), info.NumClasses));
    }

    /// <summary>The backbone.</summary>
    public nn.Module<Tensor, Tensor> Backbone => backbone;

    internal override Tensor LogitsCore(Tensor features)
    {
        using var scope = NewDisposeScope();
        var z = RunBackbone(backbone, features);
        return scope.MoveToOuter(prediction_head.call(z));
    }

    /// <summary>Cross-entropy of the logits, mean over the batch; the slice membership is ignored.</summary>
    internal override Tensor LossCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(LogitsCore(features), labels);
        return scope.MoveToOuter(loss);
    }

    internal override (Tensor Loss, Tensor Logits) LossAndLogitsCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var logits = LogitsCore(features);
        var loss = nn.functional.cross_entropy(logits, labels);
        return (scope.MoveToOuter(loss), scope.MoveToOuter(logits));
    }

    internal override JsonObject DescribeOptions() => new();

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
