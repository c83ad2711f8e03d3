using SliceLearning.Modules;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Settings of <see cref="ManualReweightingModel"/>.</summary>
public sealed class ManualReweightingOptions
{
    /// <summary>The loss multiplier α for the reweighted slices (the paper searches {2, 20, 50, 100}; see <see cref="ManualReweighting"/>).</summary>
    /// <value>The default value is 2.</value>
    public double Alpha { get; set; } = 2.0;

    /// <summary>The slices whose examples and loss terms get α (usually those at least 5 F1 below overall; see <see cref="ManualReweighting.SelectSlices(IReadOnlyDictionary{string, double}, double, double)"/>).</summary>
    /// <value>The default value is empty (then the model trains like HPS).</value>
    public IReadOnlyCollection<string> ReweightedSlices { get; set; } = Array.Empty<string>();

    /// <summary>Weight of the slice heads' loss terms relative to the base head's (before α).</summary>
    /// <value>The default value is 1.</value>
    public double SliceLossWeight { get; set; } = 1.0;

    /// <summary>Checks the settings against the model's slice names.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or names an unknown slice.</exception>
    public void Validate(IReadOnlyList<string> sliceNames)
    {
        ArgumentNullException.ThrowIfNull(sliceNames);
        var problems = new List<string>();
        if (!(Alpha >= 1 && double.IsFinite(Alpha))) problems.Add($"Alpha must be finite and at least 1; got {Alpha.ToString(CultureInfo.InvariantCulture)}.");
        if (!(SliceLossWeight >= 0 && double.IsFinite(SliceLossWeight))) problems.Add($"SliceLossWeight must be finite and at least 0; got {SliceLossWeight.ToString(CultureInfo.InvariantCulture)}.");
        if (ReweightedSlices is null) problems.Add("ReweightedSlices must not be null.");
        else
        {
            foreach (var name in ReweightedSlices)
            {
                if (name == Slicing.SliceMatrix.BaseSliceName) problems.Add("ReweightedSlices contains the base slice; reweighting every example changes nothing.");
                else if (!sliceNames.Contains(name)) problems.Add($"ReweightedSlices names '{name}', which is not one of the model's slices ({string.Join(", ", sliceNames.Skip(1))}).");
            }
        }
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(ManualReweightingOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }
}

/// <summary>
/// MANUAL, the manual-upweighting baseline (paper section 4.1.1): the HPS architecture (shared
/// backbone, base head plus one head per slice) where the examples and loss terms of chosen,
/// underperforming slices are multiplied by α. Predictions come from the base head.
/// </summary>
/// <remarks>
/// Loss = (1/B) Σ_b w_b · CE(base head, b) + SliceLossWeight × Σ_{i ≥ 1} μ_i · mean CE(head i, members of i),
/// where w_b = α when example b is in a reweighted slice (per its SF) and 1 otherwise, and μ_i = α for
/// reweighted slices and 1 otherwise. With no reweighted slices this is exactly HPS's loss.
/// </remarks>
public sealed class ManualReweightingModel : ITrainableModel
{
    private readonly SliceHeadsModule _module;
    private readonly string[] _sliceNames;
    private readonly float[] _multipliers;
    private readonly Tensor _chosenColumns;

    private ManualReweightingModel(SliceHeadsModule module, int numClasses, string[] sliceNames, ManualReweightingOptions options)
    {
        _module = module;
        NumClasses = numClasses;
        _sliceNames = sliceNames;
        Options = options;
        var chosen = new HashSet<string>(options.ReweightedSlices, StringComparer.Ordinal);
        _multipliers = sliceNames.Select(n => chosen.Contains(n) ? (float)options.Alpha : 1f).ToArray();
        _chosenColumns = torch.tensor(sliceNames.Select(n => chosen.Contains(n) ? 1f : 0f).ToArray());
    }

    /// <summary>
    /// Builds MANUAL over <paramref name="backbone"/> (output [B, <paramref name="backboneWidth"/>]); the model owns the backbone.
    /// </summary>
    /// <param name="backbone">The shared feature extractor.</param>
    /// <param name="backboneWidth">The backbone's output width d.</param>
    /// <param name="numClasses">Number of classes C, at least 2.</param>
    /// <param name="sliceNames">The slice names; "base" is prepended when it is not first.</param>
    /// <param name="configure">Sets α and the reweighted slices.</param>
    public static ManualReweightingModel Create(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, IReadOnlyList<string> sliceNames, Action<ManualReweightingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        BaselineSupport.CheckSizes(backboneWidth, numClasses);
        var names = SliceNameRules.WithBase(sliceNames);
        var options = new ManualReweightingOptions();
        configure?.Invoke(options);
        options.Validate(names);
        options.ReweightedSlices = options.ReweightedSlices.ToArray();
        return new ManualReweightingModel(new SliceHeadsModule(backbone, backboneWidth, names.Length, numClasses), numClasses, names, options);
    }

    /// <summary>Builds MANUAL over a backbone that declares its width (<see cref="IBackbone"/>).</summary>
    public static ManualReweightingModel Create<TBackbone>(TBackbone backbone, int numClasses, IReadOnlyList<string> sliceNames, Action<ManualReweightingOptions>? configure = null)
        where TBackbone : nn.Module<Tensor, Tensor>, IBackbone
    {
        ArgumentNullException.ThrowIfNull(backbone);
        return Create(backbone, backbone.OutputWidth, numClasses, sliceNames, configure);
    }

    /// <summary>The settings the model was built with.</summary>
    public ManualReweightingOptions Options { get; }

    /// <summary>The loss multiplier of each slice's head, base first (α for reweighted slices, 1 otherwise).</summary>
    public IReadOnlyList<float> SliceLossMultipliers => _multipliers;

    /// <inheritdoc />
    public nn.Module Module => _module;

    /// <inheritdoc />
    public int NumClasses { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> SliceNames => _sliceNames;

    /// <summary>
    /// The per-example weights of the base loss: α for examples in at least one reweighted slice
    /// (per <paramref name="sliceMembership"/> [B, m]), 1 for all others. Returns [B] float32.
    /// </summary>
    public Tensor ExampleWeights(Tensor sliceMembership)
    {
        ArgumentNullException.ThrowIfNull(sliceMembership);
        if (sliceMembership.dim() != 2 || sliceMembership.shape[1] != _sliceNames.Length)
            throw new SliceDataException($"Expected slice membership of shape [B, {_sliceNames.Length}], got [{string.Join(", ", sliceMembership.shape)}].", nameof(sliceMembership));
        using var scope = NewDisposeScope();
        using var chosen = _chosenColumns.to(sliceMembership.device);
        var inChosen = (sliceMembership.to_type(ScalarType.Float32) * chosen).amax(1).gt(ScalarMath.Zero);
        var weights = ScalarMath.Add(ScalarMath.Mul(inChosen.to_type(ScalarType.Float32), (float)(Options.Alpha - 1)), 1.0);
        return scope.MoveToOuter(weights);
    }

    /// <inheritdoc />
    public Tensor Loss(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        BaselineSupport.CheckBatch(features, labels, sliceMembership, _sliceNames.Length, NumClasses);
        using var scope = NewDisposeScope();
        var nll = BaselineSupport.NllPerSlice(_module.call(features), labels);
        var weights = ExampleWeights(sliceMembership).to_type(nll.dtype);
        var loss = (nll.select(1, 0) * weights).mean();
        if (_sliceNames.Length > 1)
        {
            var perSlice = BaselineSupport.MeanOverMembers(nll, sliceMembership);
            using var multipliers = torch.tensor(_multipliers, device: nll.device).to_type(nll.dtype);
            loss = ScalarMath.Add(loss, ScalarMath.Mul((perSlice * multipliers).narrow(0, 1, _sliceNames.Length - 1).sum(), Options.SliceLossWeight));
        }
        return scope.MoveToOuter(loss);
    }

    /// <inheritdoc />
    public Tensor Logits(Tensor features) => _module.BaseLogits(features);

    /// <inheritdoc />
    public void Dispose()
    {
        _chosenColumns.Dispose();
        _module.Dispose();
    }
}
