using SliceLearning.Runtime;
using System.Globalization;
using System.Text.Json.Nodes;
using SliceLearning.Slicing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Settings of <see cref="MixtureOfExpertsModel"/>.</summary>
public sealed class MixtureOfExpertsOptions : IModelOptions<MixtureOfExpertsOptions>
{
    /// <summary>Weight of the gate's mixture loss relative to the experts' losses.</summary>
    /// <value>The default value is 1.</value>
    public double GateLossWeight { get; set; } = 1.0;

    /// <summary>
    /// Weight of the gate's routing loss: cross-entropy between the gate weights and the example's SF
    /// membership spread evenly over its slices (the base slice included), so the gate learns where each
    /// slice expert applies, as SRAM's indicators do. 0 leaves the gate to the mixture loss alone; then,
    /// with experts that only ever see their own slice, the gate tends to settle on the base expert
    /// everywhere (measured on the synthetic task: predictions identical to VANILLA).
    /// </summary>
    /// <value>The default value is 1.</value>
    public double GateRoutingLossWeight { get; set; } = 1.0;

    /// <summary>
    /// When true (the paper's MoE), each expert learns only from its own slice: the mixture loss trains
    /// the gate but its gradient does not reach the experts. When false, experts also learn from the
    /// mixture loss (classic jointly trained mixture of experts).
    /// </summary>
    /// <value>The default value is true.</value>
    public bool ExpertsLearnOnlyFromTheirSlice { get; set; } = true;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (!(GateLossWeight > 0 && double.IsFinite(GateLossWeight)))
            problems.Add($"GateLossWeight must be finite and above 0; got {GateLossWeight.ToString(CultureInfo.InvariantCulture)}.");
        if (!(GateRoutingLossWeight >= 0 && double.IsFinite(GateRoutingLossWeight)))
            problems.Add($"GateRoutingLossWeight must be finite and at least 0; got {GateRoutingLossWeight.ToString(CultureInfo.InvariantCulture)}.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(MixtureOfExpertsOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }

    /// <summary>A copy of these settings.</summary>
    public MixtureOfExpertsOptions Clone() => (MixtureOfExpertsOptions)MemberwiseClone();

    void IModelOptions<MixtureOfExpertsOptions>.Validate(IReadOnlyList<string> sliceNames) => Validate();
}

/// <summary>
/// MoE, the mixture-of-experts baseline (paper section 4.1.1, after Jacobs et al. 1991): one whole
/// VANILLA network (its own backbone plus a linear head) per slice and one for the base slice, each
/// trained on its slice's members, combined by a learned gating network (another backbone plus a
/// linear layer to m gate logits, softmax so the gate weights sum to 1). The prediction is the
/// gate-weighted mixture of the experts' class probabilities. Parameters grow by a whole model per
/// slice, which is the cost the paper's SRAM avoids.
/// </summary>
/// <remarks>
/// Loss = Σ_i mean CE(expert i, members of i) + GateLossWeight × mean −log Σ_i g_i(x) p_i(y | x)
/// + GateRoutingLossWeight × mean CE(g(x), membership spread over the example's slices).
/// Every backbone comes from the factory, so any architecture works; the experts run one after the
/// other (one backbone call each), which is inherent to m independent networks.
/// </remarks>
public sealed class MixtureOfExpertsModel : SliceModelBase
{
    private readonly ModuleList<BackboneHead> experts;
    private readonly BackboneHead gate;
    private readonly MixtureOfExpertsOptions _options;

    private MixtureOfExpertsModel(Func<nn.Module<Tensor, Tensor>> backboneFactory, long backboneWidth, int numClasses, string[] sliceNames, MixtureOfExpertsOptions options)
        : base(nameof(MixtureOfExpertsModel), backboneWidth, numClasses, sliceNames)
    {
        _options = options;
        var list = new BackboneHead[sliceNames.Length];
        for (int i = 0; i < list.Length; i++) list[i] = new BackboneHead(NewBackbone(backboneFactory), nn.Linear(backboneWidth, numClasses));
        experts = nn.ModuleList(list);
        gate = new BackboneHead(NewBackbone(backboneFactory), nn.Linear(backboneWidth, sliceNames.Length));
        RegisterComponents();
    }

    /// <summary>Builds MoE with m + 1 backbones from <paramref name="backboneFactory"/> (m experts and the gate).</summary>
    /// <param name="backboneFactory">Makes a fresh backbone mapping a batch to [B, <paramref name="backboneWidth"/>]; called m + 1 times.</param>
    /// <param name="backboneWidth">The backbones' output width d.</param>
    /// <param name="numClasses">Number of classes C, at least 2.</param>
    /// <param name="sliceNames">The slice names; "base" is prepended when it is not first.</param>
    /// <param name="configure">Optional settings.</param>
    public static MixtureOfExpertsModel Create(Func<nn.Module<Tensor, Tensor>> backboneFactory, long backboneWidth, int numClasses, IReadOnlyList<string> sliceNames, Action<MixtureOfExpertsOptions>? configure = null) =>
        CreateWithOptions(backboneFactory, backboneWidth, numClasses, sliceNames, configure, (Func<nn.Module<Tensor, Tensor>> b, long d, int c, string[] names, MixtureOfExpertsOptions o) => new MixtureOfExpertsModel(b, d, c, names, o));

    /// <summary>
    /// Recreates MoE from a checkpoint with fresh backbones from <paramref name="backboneFactory"/>
    /// (the saved architecture), the saved slices, classes, width and options, then loads the weights.
    /// </summary>
    public static MixtureOfExpertsModel Load(string path, Func<nn.Module<Tensor, Tensor>> backboneFactory) =>
        LoadWithOptions(path, backboneFactory, (Func<nn.Module<Tensor, Tensor>> b, long d, int c, string[] names, MixtureOfExpertsOptions o) => new MixtureOfExpertsModel(b, d, c, names, o));

    /// <summary>A copy of the settings the model was built with.</summary>
    public MixtureOfExpertsOptions Options => _options.Clone();

    /// <summary>The gate weights [B, m] (base expert first): non-negative, each row sums to 1.</summary>
    public Tensor GateWeights(Tensor features)
    {
        CheckFeatures(features);
        using var scope = NewDisposeScope();
        var (_, gateLogits) = Parts(features);
        return scope.MoveToOuter(gateLogits.softmax(1));
    }

    /// <summary>Each expert's logits [B, m, C] (base expert first).</summary>
    public Tensor ExpertLogits(Tensor features)
    {
        CheckFeatures(features);
        using var scope = NewDisposeScope();
        var (expertLogits, _) = Parts(features);
        return scope.MoveToOuter(expertLogits);
    }

    /// <summary>Log-probabilities of the gate-weighted mixture, [B, C] (valid logits: softmax gives the mixture).</summary>
    internal override Tensor LogitsCore(Tensor features)
    {
        using var scope = NewDisposeScope();
        var (expertLogits, gateLogits) = Parts(features);
        var result = MixtureLogProbabilities(_options.ExpertsLearnOnlyFromTheirSlice ? expertLogits.detach() : expertLogits, gateLogits);
        return scope.MoveToOuter(result);
    }

    internal override Tensor LossCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var (loss, _) = LossAndMixture(features, labels, sliceMembership);
        return scope.MoveToOuter(loss);
    }

    internal override (Tensor Loss, Tensor Logits) LossAndLogitsCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var (loss, mixture) = LossAndMixture(features, labels, sliceMembership);
        return (scope.MoveToOuter(loss), scope.MoveToOuter(mixture));
    }

    private (Tensor Loss, Tensor Mixture) LossAndMixture(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        var (expertLogits, gateLogits) = Parts(features);
        var nll = SliceHeadsModel.NllPerSlice(expertLogits, labels);
        var expertLoss = SliceHeadsModel.MeanOverMembers(nll, sliceMembership).sum();
        var experts = _options.ExpertsLearnOnlyFromTheirSlice ? expertLogits.detach() : expertLogits;
        var mixture = MixtureLogProbabilities(experts, gateLogits);
        var gateLoss = nn.functional.nll_loss(mixture, labels);
        var loss = ScalarMath.Add(expertLoss, ScalarMath.Mul(gateLoss, _options.GateLossWeight));
        if (_options.GateRoutingLossWeight > 0)
        {
            var target = sliceMembership.to_type(gateLogits.dtype);
            target = target / target.sum(1, keepdim: true).clamp_min(ScalarMath.One);
            var routing = (target * gateLogits.log_softmax(1)).sum(1).mean().neg();
            loss = ScalarMath.Add(loss, ScalarMath.Mul(routing, _options.GateRoutingLossWeight));
        }
        return (loss, mixture);
    }

    internal override JsonObject DescribeOptions() => OptionsToJson(_options);

    private (Tensor ExpertLogits, Tensor GateLogits) Parts(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = new Tensor[experts.Count];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = experts[i].Head.call(RunBackbone(experts[i].Backbone, input));
        var expertLogits = torch.stack(outputs, 1);
        var gateLogits = gate.Head.call(RunBackbone(gate.Backbone, input));
        return (scope.MoveToOuter(expertLogits), scope.MoveToOuter(gateLogits));
    }

    /// <summary>log Σ_i g_i p_i(c): expert logits [B, m, C], gate logits [B, m] -> [B, C].</summary>
    private static Tensor MixtureLogProbabilities(Tensor expertLogits, Tensor gateLogits) =>
        torch.logsumexp(ScalarMath.Add(expertLogits.log_softmax(2), gateLogits.log_softmax(1).unsqueeze(2)), 1);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var e in experts) e.Dispose();
            gate.Dispose();
        }
        base.Dispose(disposing);
    }

    private static nn.Module<Tensor, Tensor> NewBackbone(Func<nn.Module<Tensor, Tensor>> factory) =>
        factory() ?? throw new InvalidOperationException("The backbone factory returned null; it must return a new backbone module on every call.");

    /// <summary>One backbone and its linear head (state-dict keys "backbone.*" and "head.*").</summary>
    private sealed class BackboneHead : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> backbone;
        private readonly Linear head;

        public BackboneHead(nn.Module<Tensor, Tensor> backbone, Linear head) : base(nameof(BackboneHead))
        {
            this.backbone = backbone;
            this.head = head;
            RegisterComponents();
        }

        public nn.Module<Tensor, Tensor> Backbone => backbone;

        public Linear Head => head;

        public override Tensor forward(Tensor input) => head.call(backbone.call(input));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                backbone.Dispose();
                head.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
