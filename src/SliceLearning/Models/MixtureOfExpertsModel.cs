using SliceLearning.Runtime;
using SliceLearning.Slicing;
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Settings of <see cref="MixtureOfExpertsModel"/>.</summary>
public sealed class MixtureOfExpertsOptions
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
public sealed class MixtureOfExpertsModel : ITrainableModel
{
    private readonly MoeModule _module;
    private readonly string[] _sliceNames;

    private MixtureOfExpertsModel(MoeModule module, int numClasses, string[] sliceNames, MixtureOfExpertsOptions options)
    {
        _module = module;
        NumClasses = numClasses;
        _sliceNames = sliceNames;
        Options = options;
    }

    /// <summary>Builds MoE with m + 1 backbones from <paramref name="backboneFactory"/> (m experts and the gate).</summary>
    /// <param name="backboneFactory">Makes a fresh backbone mapping a batch to [B, <paramref name="backboneWidth"/>]; called m + 1 times.</param>
    /// <param name="backboneWidth">The backbones' output width d.</param>
    /// <param name="numClasses">Number of classes C, at least 2.</param>
    /// <param name="sliceNames">The slice names; "base" is prepended when it is not first.</param>
    /// <param name="configure">Optional settings.</param>
    public static MixtureOfExpertsModel Create(Func<nn.Module<Tensor, Tensor>> backboneFactory, long backboneWidth, int numClasses, IReadOnlyList<string> sliceNames, Action<MixtureOfExpertsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(backboneFactory);
        BaselineSupport.CheckSizes(backboneWidth, numClasses);
        var names = SliceNameRules.WithBase(sliceNames);
        var options = new MixtureOfExpertsOptions();
        configure?.Invoke(options);
        options.Validate();
        var experts = new nn.Module<Tensor, Tensor>[names.Length];
        for (int i = 0; i < names.Length; i++)
            experts[i] = nn.Sequential(("backbone", NewBackbone(backboneFactory)), ("head", nn.Linear(backboneWidth, numClasses)));
        var gate = nn.Sequential(("backbone", NewBackbone(backboneFactory)), ("head", nn.Linear(backboneWidth, names.Length)));
        return new MixtureOfExpertsModel(new MoeModule(experts, gate, options.ExpertsLearnOnlyFromTheirSlice), numClasses, names, options);
    }

    /// <summary>The settings the model was built with.</summary>
    public MixtureOfExpertsOptions Options { get; }

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
        var (expertLogits, gateLogits) = _module.Parts(features);
        var nll = BaselineSupport.NllPerSlice(expertLogits, labels);
        var expertLoss = BaselineSupport.MeanOverMembers(nll, sliceMembership).sum();
        var experts = Options.ExpertsLearnOnlyFromTheirSlice ? expertLogits.detach() : expertLogits;
        var mixture = MoeModule.MixtureLogProbabilities(experts, gateLogits);
        var gateLoss = nn.functional.nll_loss(mixture, labels);
        var loss = ScalarMath.Add(expertLoss, ScalarMath.Mul(gateLoss, Options.GateLossWeight));
        if (Options.GateRoutingLossWeight > 0)
        {
            var target = sliceMembership.to_type(gateLogits.dtype);
            target = target / target.sum(1, keepdim: true).clamp_min(ScalarMath.One);
            var routing = -(target * gateLogits.log_softmax(1)).sum(1).mean();
            loss = ScalarMath.Add(loss, ScalarMath.Mul(routing, Options.GateRoutingLossWeight));
        }
        return scope.MoveToOuter(loss);
    }

    /// <summary>Log-probabilities of the gate-weighted mixture, [B, C] (valid logits: softmax gives the mixture).</summary>
    public Tensor Logits(Tensor features) => _module.call(features);

    /// <summary>The gate weights [B, m] (base expert first): non-negative, each row sums to 1.</summary>
    public Tensor GateWeights(Tensor features)
    {
        using var scope = NewDisposeScope();
        var (_, gateLogits) = _module.Parts(features);
        return scope.MoveToOuter(gateLogits.softmax(1));
    }

    /// <summary>Each expert's logits [B, m, C] (base expert first).</summary>
    public Tensor ExpertLogits(Tensor features)
    {
        using var scope = NewDisposeScope();
        var (expertLogits, _) = _module.Parts(features);
        return scope.MoveToOuter(expertLogits);
    }

    /// <inheritdoc />
    public void Dispose() => _module.Dispose();

    private static nn.Module<Tensor, Tensor> NewBackbone(Func<nn.Module<Tensor, Tensor>> factory) =>
        factory() ?? throw new InvalidOperationException("The backbone factory returned null; it must return a new backbone module on every call.");

    private sealed class MoeModule : nn.Module<Tensor, Tensor>
    {
        private readonly ModuleList<nn.Module<Tensor, Tensor>> experts;
        private readonly nn.Module<Tensor, Tensor> gate;
        private readonly bool _detach;

        public MoeModule(nn.Module<Tensor, Tensor>[] experts, nn.Module<Tensor, Tensor> gate, bool detachExperts)
            : base(nameof(MixtureOfExpertsModel))
        {
            this.experts = nn.ModuleList(experts);
            this.gate = gate;
            _detach = detachExperts;
            RegisterComponents();
        }

        public (Tensor ExpertLogits, Tensor GateLogits) Parts(Tensor input)
        {
            using var scope = NewDisposeScope();
            var outputs = new Tensor[experts.Count];
            for (int i = 0; i < outputs.Length; i++) outputs[i] = experts[i].call(input);
            var expertLogits = torch.stack(outputs, 1);
            var gateLogits = gate.call(input);
            return (scope.MoveToOuter(expertLogits), scope.MoveToOuter(gateLogits));
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var (expertLogits, gateLogits) = Parts(input);
            var result = MixtureLogProbabilities(_detach ? expertLogits.detach() : expertLogits, gateLogits);
            return scope.MoveToOuter(result);
        }

        /// <summary>log Σ_i g_i p_i(c): expert logits [B, m, C], gate logits [B, m] -> [B, C].</summary>
        public static Tensor MixtureLogProbabilities(Tensor expertLogits, Tensor gateLogits) =>
            torch.logsumexp(ScalarMath.Add(expertLogits.log_softmax(2), gateLogits.log_softmax(1).unsqueeze(2)), 1);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                foreach (var e in experts) e.Dispose();
                gate.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
