using System.Globalization;
using System.Text.Json.Nodes;
using SliceLearning.Modules;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Settings of <see cref="HardParameterSharingModel"/>.</summary>
public sealed class HardParameterSharingOptions : IModelOptions<HardParameterSharingOptions>
{
    /// <summary>Weight of the slice heads' loss terms relative to the base head's.</summary>
    /// <value>The default value is 1 (the paper's unweighted sum of task losses).</value>
    public double SliceLossWeight { get; set; } = 1.0;

    /// <summary>Whether the slice heads' loss terms are summed or averaged over the k slices.</summary>
    /// <value>
    /// The default value is <see cref="SliceLossNormalization.MeanOverSlices"/>, the paper's reference code
    /// (each slice head's loss × 1/k, so the slice tasks together weigh as much as the base task at any k);
    /// <see cref="SliceLossNormalization.SumOverSlices"/> weighs each slice head as much as the base head.
    /// </value>
    public SliceLossNormalization SliceLossNormalization { get; set; } = SliceLossNormalization.MeanOverSlices;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (!(SliceLossWeight >= 0 && double.IsFinite(SliceLossWeight)))
            throw new ArgumentException($"Invalid {nameof(HardParameterSharingOptions)}: SliceLossWeight must be finite and at least 0; got {SliceLossWeight.ToString(CultureInfo.InvariantCulture)}.");
        if (!Enum.IsDefined(SliceLossNormalization))
            throw new ArgumentException($"Invalid {nameof(HardParameterSharingOptions)}: SliceLossNormalization must be SumOverSlices or MeanOverSlices; got {(int)SliceLossNormalization}.");
    }

    /// <summary>A copy of these settings.</summary>
    public HardParameterSharingOptions Clone() => (HardParameterSharingOptions)MemberwiseClone();

    void IModelOptions<HardParameterSharingOptions>.Validate(IReadOnlyList<string> sliceNames) => Validate();
}

/// <summary>
/// HPS, the hard-parameter-sharing baseline (paper section 4.1.1): the shared backbone feeds a base
/// head and one head per slice. Each slice head is trained only on its slice's members (mean
/// cross-entropy over the members in the batch, as one multi-task-learning task); the slice tasks shape
/// the shared representation, and predictions come from the base head. All m heads are one
/// batched [m, d, C] weight, so cost barely grows with k.
/// </summary>
/// <remarks>
/// Loss = CE(base head, all examples) + <see cref="HardParameterSharingOptions.SliceLossWeight"/> ×
/// Σ over slices i ≥ 1 of mean CE(head i, members of i), the sum divided by k with
/// <see cref="SliceLossNormalization.MeanOverSlices"/>. A slice without members in a batch adds 0.
/// </remarks>
public sealed class HardParameterSharingModel : SliceHeadsModel
{
    private HardParameterSharingModel(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, string[] sliceNames, HardParameterSharingOptions options)
        : base(nameof(HardParameterSharingModel), backbone, backboneWidth, numClasses, sliceNames)
    {
        _options = options;
        RegisterComponents();
    }

    private readonly HardParameterSharingOptions _options;

    /// <summary>
    /// Builds HPS over <paramref name="backbone"/> (which maps a batch to [B, <paramref name="backboneWidth"/>]).
    /// The model takes ownership of the backbone.
    /// </summary>
    /// <param name="backbone">The shared feature extractor.</param>
    /// <param name="backboneWidth">The backbone's output width d.</param>
    /// <param name="numClasses">Number of classes C, at least 2.</param>
    /// <param name="sliceNames">The slice names; "base" is prepended when it is not first (e.g. <c>SliceMatrix.SliceNames</c> or <c>SliceSet.SliceNames</c> work as they are).</param>
    /// <param name="configure">Optional settings.</param>
    public static HardParameterSharingModel Create(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, IReadOnlyList<string> sliceNames, Action<HardParameterSharingOptions>? configure = null) =>
        CreateWithOptions(backbone, backboneWidth, numClasses, sliceNames, configure, (nn.Module<Tensor, Tensor> b, long d, int c, string[] names, HardParameterSharingOptions o) => new HardParameterSharingModel(b, d, c, names, o));

    /// <summary>Builds HPS over a backbone that declares its width (<see cref="IBackbone"/>).</summary>
    public static HardParameterSharingModel Create<TBackbone>(TBackbone backbone, int numClasses, IReadOnlyList<string> sliceNames, Action<HardParameterSharingOptions>? configure = null)
        where TBackbone : nn.Module<Tensor, Tensor>, IBackbone =>
        Create(backbone, WidthOf(backbone), numClasses, sliceNames, configure);

    /// <summary>
    /// Recreates HPS from a checkpoint over a freshly constructed <paramref name="backbone"/> of the
    /// saved architecture (saved slices, classes, width and options), then loads the weights.
    /// </summary>
    public static HardParameterSharingModel Load(string path, nn.Module<Tensor, Tensor> backbone) =>
        LoadWithOptions(path, backbone, (nn.Module<Tensor, Tensor> b, long d, int c, string[] names, HardParameterSharingOptions o) => new HardParameterSharingModel(b, d, c, names, o));

    /// <summary>A copy of the settings the model was built with.</summary>
    public HardParameterSharingOptions Options => _options.Clone();

    private protected override Tensor LossFromHeads(Tensor headLogits, Tensor labels, Tensor sliceMembership) =>
        HeadsLoss(headLogits, labels, sliceMembership, SliceTermWeight(_options.SliceLossWeight, _options.SliceLossNormalization));

    internal override JsonObject DescribeOptions() => OptionsToJson(_options);
}
