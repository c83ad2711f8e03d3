using System.Globalization;
using System.Text.Json.Nodes;
using SliceLearning.Modules;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Settings of <see cref="ManualReweightingModel"/>.</summary>
public sealed class ManualReweightingOptions : IModelOptions<ManualReweightingOptions>
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

    /// <summary>Whether the slice heads' loss terms are summed or averaged over the k slices (before α), as in HPS.</summary>
    /// <value>
    /// The default value is <see cref="SliceLossNormalization.MeanOverSlices"/>, the paper's reference code (each slice
    /// head's loss × 1/k, α on top for the reweighted slices).
    /// </value>
    public SliceLossNormalization SliceLossNormalization { get; set; } = SliceLossNormalization.MeanOverSlices;

    /// <summary>Checks the settings against the model's slice names.</summary>
    /// <exception cref="ArgumentException">A setting is out of range or names an unknown slice.</exception>
    public void Validate(IReadOnlyList<string> sliceNames)
    {
        ArgumentNullException.ThrowIfNull(sliceNames);
        var problems = new List<string>();
        if (!(Alpha >= 1 && double.IsFinite(Alpha))) problems.Add($"Alpha must be finite and at least 1; got {Alpha.ToString(CultureInfo.InvariantCulture)}.");
        if (!(SliceLossWeight >= 0 && double.IsFinite(SliceLossWeight))) problems.Add($"SliceLossWeight must be finite and at least 0; got {SliceLossWeight.ToString(CultureInfo.InvariantCulture)}.");
        if (!Enum.IsDefined(SliceLossNormalization)) problems.Add($"SliceLossNormalization must be SumOverSlices or MeanOverSlices; got {(int)SliceLossNormalization}.");
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

    /// <summary>A copy of these settings (the slice list copied too).</summary>
    public ManualReweightingOptions Clone()
    {
        var copy = (ManualReweightingOptions)MemberwiseClone();
        copy.ReweightedSlices = ReweightedSlices?.ToArray() ?? Array.Empty<string>();
        return copy;
    }
}

/// <summary>
/// MANUAL, the manual-upweighting baseline (paper section 4.1.1): the HPS architecture (shared
/// backbone, base head plus one head per slice) where the examples and loss terms of chosen,
/// underperforming slices are multiplied by α. Predictions come from the base head.
/// </summary>
/// <remarks>
/// Loss = (1/B) Σ_b w_b · CE(base head, b) + (SliceLossWeight / k) × Σ_{i ≥ 1} μ_i · mean CE(head i, members of i),
/// where w_b = α when example b is in a reweighted slice (per its SF) and 1 otherwise, and μ_i = α for
/// reweighted slices and 1 otherwise; the 1/k is dropped with <see cref="SliceLossNormalization.SumOverSlices"/>.
/// With no reweighted slices this is exactly HPS's loss with the same normalisation.
/// </remarks>
public sealed class ManualReweightingModel : SliceHeadsModel
{
    private readonly float[] _multipliers;
    private readonly ManualReweightingOptions _options;
    private readonly float[] _chosenColumns;

    private ManualReweightingModel(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, string[] sliceNames, ManualReweightingOptions options)
        : base(nameof(ManualReweightingModel), backbone, backboneWidth, numClasses, sliceNames)
    {
        _options = options;
        var chosen = new HashSet<string>(options.ReweightedSlices, StringComparer.Ordinal);
        _multipliers = sliceNames.Select(n => chosen.Contains(n) ? (float)options.Alpha : 1f).ToArray();
        _chosenColumns = sliceNames.Select(n => chosen.Contains(n) ? 1f : 0f).ToArray();
        RegisterComponents();
    }

    /// <summary>
    /// Builds MANUAL over <paramref name="backbone"/> (output [B, <paramref name="backboneWidth"/>]); the model owns the backbone.
    /// </summary>
    /// <param name="backbone">The shared feature extractor.</param>
    /// <param name="backboneWidth">The backbone's output width d.</param>
    /// <param name="numClasses">Number of classes C, at least 2.</param>
    /// <param name="sliceNames">The slice names; "base" is prepended when it is not first.</param>
    /// <param name="configure">Sets α and the reweighted slices.</param>
    public static ManualReweightingModel Create(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, IReadOnlyList<string> sliceNames, Action<ManualReweightingOptions>? configure = null) =>
        CreateWithOptions(backbone, backboneWidth, numClasses, sliceNames, configure, (nn.Module<Tensor, Tensor> b, long d, int c, string[] names, ManualReweightingOptions o) => new ManualReweightingModel(b, d, c, names, o));

    /// <summary>Builds MANUAL over a backbone that declares its width (<see cref="IBackbone"/>).</summary>
    public static ManualReweightingModel Create<TBackbone>(TBackbone backbone, int numClasses, IReadOnlyList<string> sliceNames, Action<ManualReweightingOptions>? configure = null)
        where TBackbone : nn.Module<Tensor, Tensor>, IBackbone =>
        Create(backbone, WidthOf(backbone), numClasses, sliceNames, configure);

    /// <summary>
    /// Recreates MANUAL from a checkpoint over a freshly constructed <paramref name="backbone"/> of the
    /// saved architecture (saved slices, classes, width, α and reweighted slices), then loads the weights.
    /// </summary>
    public static ManualReweightingModel Load(string path, nn.Module<Tensor, Tensor> backbone) =>
        LoadWithOptions(path, backbone, (nn.Module<Tensor, Tensor> b, long d, int c, string[] names, ManualReweightingOptions o) => new ManualReweightingModel(b, d, c, names, o));

    /// <summary>A copy of the settings the model was built with.</summary>
    public ManualReweightingOptions Options => _options.Clone();

    /// <summary>The loss multiplier of each slice's head, base first (α for reweighted slices, 1 otherwise).</summary>
    public IReadOnlyList<float> SliceLossMultipliers => _multipliers;

    /// <summary>
    /// The per-example weights of the base loss: α for examples in at least one reweighted slice
    /// (per <paramref name="sliceMembership"/> [B, m]), 1 for all others. Returns [B] float32.
    /// </summary>
    public Tensor ExampleWeights(Tensor sliceMembership)
    {
        ArgumentNullException.ThrowIfNull(sliceMembership);
        ModelInputChecks.Membership(sliceMembership, batch: null, SliceNames);
        return ExampleWeightsCore(sliceMembership);
    }

    private Tensor ExampleWeightsCore(Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var chosen = torch.tensor(_chosenColumns, device: sliceMembership.device);
        var inChosen = (sliceMembership.to_type(ScalarType.Float32) * chosen).amax(1).gt(ScalarMath.Zero).to_type(ScalarType.Float32);
        // 1 + (α - 1) · inChosen.
        var weights = ScalarMath.Add(ScalarMath.Mul(inChosen, _options.Alpha - 1), 1.0);
        return scope.MoveToOuter(weights);
    }

    private protected override Tensor LossFromHeads(Tensor headLogits, Tensor labels, Tensor sliceMembership)
    {
        var multipliers = torch.tensor(_multipliers, device: headLogits.device);
        return HeadsLoss(headLogits, labels, sliceMembership, SliceTermWeight(_options.SliceLossWeight, _options.SliceLossNormalization),
            ExampleWeightsCore(sliceMembership), multipliers);
    }

    internal override JsonObject DescribeOptions() => OptionsToJson(_options);
}
