using SliceLearning.Modules;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Settings of <see cref="HardParameterSharingModel"/>.</summary>
public sealed class HardParameterSharingOptions
{
    /// <summary>Weight of the slice heads' loss terms relative to the base head's.</summary>
    /// <value>The default value is 1 (the paper's unweighted sum of task losses).</value>
    public double SliceLossWeight { get; set; } = 1.0;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        if (!(SliceLossWeight >= 0 && double.IsFinite(SliceLossWeight)))
            throw new ArgumentException($"Invalid {nameof(HardParameterSharingOptions)}: SliceLossWeight must be finite and at least 0; got {SliceLossWeight.ToString(CultureInfo.InvariantCulture)}.");
    }
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
/// Σ over slices i ≥ 1 of mean CE(head i, members of i). A slice without members in a batch adds 0.
/// </remarks>
public sealed class HardParameterSharingModel : ITrainableModel
{
    private readonly SliceHeadsModule _module;
    private readonly string[] _sliceNames;

    private HardParameterSharingModel(SliceHeadsModule module, int numClasses, string[] sliceNames, HardParameterSharingOptions options)
    {
        _module = module;
        NumClasses = numClasses;
        _sliceNames = sliceNames;
        Options = options;
    }

    /// <summary>
    /// Builds HPS over <paramref name="backbone"/> (which maps a batch to [B, <paramref name="backboneWidth"/>]).
    /// The model takes ownership of the backbone.
    /// </summary>
    /// <param name="backbone">The shared feature extractor.</param>
    /// <param name="backboneWidth">The backbone's output width d.</param>
    /// <param name="numClasses">Number of classes C, at least 2.</param>
    /// <param name="sliceNames">The slice names; "base" is prepended when it is not first (e.g. <c>SliceMatrix.SliceNames</c> or <c>SliceSet.SliceNames</c> work as they are).</param>
    /// <param name="configure">Optional settings.</param>
    public static HardParameterSharingModel Create(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, IReadOnlyList<string> sliceNames, Action<HardParameterSharingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        BaselineSupport.CheckSizes(backboneWidth, numClasses);
        var names = SliceNameRules.WithBase(sliceNames);
        var options = new HardParameterSharingOptions();
        configure?.Invoke(options);
        options.Validate();
        return new HardParameterSharingModel(new SliceHeadsModule(backbone, backboneWidth, names.Length, numClasses), numClasses, names, options);
    }

    /// <summary>Builds HPS over a backbone that declares its width (<see cref="IBackbone"/>).</summary>
    public static HardParameterSharingModel Create<TBackbone>(TBackbone backbone, int numClasses, IReadOnlyList<string> sliceNames, Action<HardParameterSharingOptions>? configure = null)
        where TBackbone : nn.Module<Tensor, Tensor>, IBackbone
    {
        ArgumentNullException.ThrowIfNull(backbone);
        return Create(backbone, backbone.OutputWidth, numClasses, sliceNames, configure);
    }

    /// <summary>The settings the model was built with.</summary>
    public HardParameterSharingOptions Options { get; }

    /// <inheritdoc />
    public nn.Module Module => _module;

    /// <inheritdoc />
    public int NumClasses { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> SliceNames => _sliceNames;

    /// <inheritdoc />
    public Tensor Loss(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        BaselineSupport.CheckBatch(features, labels, sliceMembership, _sliceNames.Length, NumClasses);
        using var scope = NewDisposeScope();
        var nll = BaselineSupport.NllPerSlice(_module.call(features), labels);
        var perSlice = BaselineSupport.MeanOverMembers(nll, sliceMembership);
        var loss = nll.select(1, 0).mean();
        if (_sliceNames.Length > 1) loss = ScalarMath.Add(loss, ScalarMath.Mul(perSlice.narrow(0, 1, _sliceNames.Length - 1).sum(), Options.SliceLossWeight));
        return scope.MoveToOuter(loss);
    }

    /// <inheritdoc />
    public Tensor Logits(Tensor features) => _module.BaseLogits(features);

    /// <summary>Logits of every head, [B, m, C] (base head first): what each slice head predicts.</summary>
    public Tensor HeadLogits(Tensor features) => _module.call(features);

    /// <inheritdoc />
    public void Dispose() => _module.Dispose();
}
