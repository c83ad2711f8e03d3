using System.Text.Json.Nodes;
using SliceLearning.Modules;
using SliceLearning.Modules.Fused;
using SliceLearning.Runtime;
using SliceLearning.Training.DataParallel;
using SliceLearning.Slicing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// A slice-aware model (paper section 3, Figure 2): any backbone <c>Module&lt;Tensor, Tensor&gt;</c>
/// producing [B, d], followed by a <see cref="SliceResidualAttention"/> module over the slices the
/// model was built for. Trains on SF membership; predicts and explains from features alone.
/// </summary>
public sealed partial class SliceAwareModel : SliceModelBase, IStepNormalizedLoss
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly SliceResidualAttention sram;
    private readonly SliceAwareOptions _options;
    // LossBalancing.LearnedUncertainty only: s_t for the prediction, slice-head and indicator terms.
    private readonly Parameter? loss_log_variance;

    private SliceAwareModel(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses, string[] sliceNames, SliceAwareOptions options)
        : base(nameof(SliceAwareModel), backboneWidth, numClasses, sliceNames)
    {
        this.backbone = backbone;
        _options = options;
        ExpertSize = options.ExpertSize ?? backboneWidth;
        sram = new SliceResidualAttention(sliceNames.Length, backboneWidth, ExpertSize, numClasses, options.Attention, options.Temperature, options.Backpropagation, options.SliceGradientScale,
            options.IndicatorGradientScale,
            expertForm: options.ExpertForm, expertDropout: options.ExpertDropout, expertRank: options.ExpertRank);
        if (options.LossBalancing == LossBalancing.LearnedUncertainty)
            loss_log_variance = new Parameter(zeros(new long[] { 3 }));
        RegisterComponents();
        UseFusedKernels = FusedKernels.Enabled && FusedSramLoss.Covers(options);
    }

    // Whether the training loss may take FusedSramLoss (its options are covered; batches and tensors are checked per call).
    internal bool UseFusedKernels { get; set; }

    /// <summary>
    /// Creates a slice-aware model over <paramref name="backbone"/>.
    /// </summary>
    /// <param name="backbone">Maps a batch of inputs to [B, <paramref name="backboneWidth"/>]. The model owns it from now on.</param>
    /// <param name="backboneWidth">d, the backbone's output width.</param>
    /// <param name="numClasses">C, at least 2 (2 for binary tasks).</param>
    /// <param name="sliceNames">The slice names, with or without the leading base slice <c>"base"</c>
    /// (e.g. <c>SliceSet&lt;T&gt;.SliceNames</c>). Training data must have exactly these columns.</param>
    /// <param name="configure">Sets <see cref="SliceAwareOptions"/> (expert size, temperature, attention, loss weights).</param>
    /// <exception cref="ArgumentException">A size, a slice name or an option is invalid.</exception>
    public static SliceAwareModel Create(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses,
        IReadOnlyList<string> sliceNames, Action<SliceAwareOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(sliceNames);
        CheckSizes(backboneWidth, numClasses);
        var names = CheckSliceNames(sliceNames);
        var options = new SliceAwareOptions();
        configure?.Invoke(options);
        options.Validate(backboneWidth);
        return new SliceAwareModel(backbone, backboneWidth, numClasses, names, options.Clone());
    }

    /// <summary>Creates a slice-aware model over a backbone that declares its width (<see cref="IBackbone"/>).</summary>
    /// <inheritdoc cref="Create(nn.Module{Tensor, Tensor}, long, int, IReadOnlyList{string}, Action{SliceAwareOptions}?)"/>
    public static SliceAwareModel Create<TBackbone>(TBackbone backbone, int numClasses, IReadOnlyList<string> sliceNames,
        Action<SliceAwareOptions>? configure = null)
        where TBackbone : nn.Module<Tensor, Tensor>, IBackbone
    {
        return Create(backbone, WidthOf(backbone), numClasses, sliceNames, configure);
    }

    /// <summary>Creates a slice-aware model for the slices of <paramref name="slices"/>.</summary>
    /// <inheritdoc cref="Create(nn.Module{Tensor, Tensor}, long, int, IReadOnlyList{string}, Action{SliceAwareOptions}?)"/>
    public static SliceAwareModel Create<T>(nn.Module<Tensor, Tensor> backbone, long backboneWidth, int numClasses,
        SliceSet<T> slices, Action<SliceAwareOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(slices);
        return Create(backbone, backboneWidth, numClasses, slices.SliceNames, configure);
    }

    /// <summary>h, the expert representation size.</summary>
    public long ExpertSize { get; }

    /// <summary>A copy of the options the model was built with.</summary>
    public SliceAwareOptions Options => _options.Clone();

    /// <summary>The backbone.</summary>
    public nn.Module<Tensor, Tensor> Backbone => backbone;

    /// <summary>The slice-residual-attention module.</summary>
    public SliceResidualAttention Sram => sram;

    internal override Tensor LogitsCore(Tensor features)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(RunCore(features).Logits);
    }

    /// <summary>Runs the backbone and every SRAM component; the caller disposes the output.</summary>
    public SramOutput Run(Tensor features)
    {
        CheckFeatures(features);
        return RunCore(features);
    }

    private SramOutput RunCore(Tensor features) => RunCore(features, out var z, keepRepresentation: false);

    // keepRepresentation: also hand out the backbone output z (else z is disposed with the scope); representation: z
    // when the backbone already ran.
    private SramOutput RunCore(Tensor features, out Tensor? z, bool keepRepresentation, Tensor? representation = null)
    {
        using var scope = NewDisposeScope();
        representation ??= RunBackbone(backbone, features);
        var output = sram.call(representation);
        foreach (var t in new[] { output.IndicatorLogits, output.SlicePredictionLogits,
            output.AttentionWeights, output.SliceAwareRepresentation, output.Logits })
            scope.MoveToOuter(t);
        z = keepRepresentation ? scope.MoveToOuter(representation) : null;
        return output;
    }

    // LossTermsCore leaves every tensor it returns in the caller's dispose scope: these methods move
    // out what they return and let the scope dispose the rest (no alias ops on the training path).
    internal override Tensor LossCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        if (TryFusedLoss(features, labels, sliceMembership, out var z) is { } fused) return scope.MoveToOuter(fused.Total);
        return scope.MoveToOuter(LossTermsCore(features, labels, sliceMembership, out _, z).Total);
    }

    internal override (Tensor Loss, Tensor Logits) LossAndLogitsCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        var terms = LossTermsCore(features, labels, sliceMembership, out var logits);
        return (scope.MoveToOuter(terms.Total), scope.MoveToOuter(logits));
    }

    internal override IReadOnlyList<string> LossTermNames { get; } = new[] { "total", "prediction", "slice head", "indicator" };

    internal override (Tensor Loss, Tensor Terms) LossWithTermsCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        if (TryFusedLoss(features, labels, sliceMembership, out var z) is { } fused)
            return (scope.MoveToOuter(fused.Total), scope.MoveToOuter(fused.Terms));
        var terms = LossTermsCore(features, labels, sliceMembership, out _, z);
        return (scope.MoveToOuter(terms.Total), scope.MoveToOuter(DetachedTerms(terms)));
    }

    internal override Tensor BackwardCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        using var scope = NewDisposeScope();
        Tensor? z = null;
        if (FusedSettings(features, labels, sliceMembership) is { } settings)
        {
            (z, bool fits) = FusedBackboneOutput(features);
            if (fits)
            {
                // SRAM's gradients go straight into .grad and dL/dz into the backbone's graph, without an autograd node
                // (whose managed machinery costs more than the head's arithmetic at small sizes).
                var (terms, gradZ) = FusedSramLoss.Step(sram, z, labels, sliceMembership, settings);
                if (gradZ is not null) z.backward(new[] { gradZ });
                return scope.MoveToOuter(terms);
            }
        }
        var general = LossTermsCore(features, labels, sliceMembership, out _, z);
        general.Total.backward();
        return scope.MoveToOuter(DetachedTerms(general));
    }

    private static Tensor DetachedTerms(SliceAwareLoss terms) =>
        torch.stack(new[] { terms.Total, terms.Prediction, terms.SliceHead, terms.Indicator }).detach();

    internal override JsonObject DescribeOptions() => OptionsToJson(_options);

    /// <summary>
    /// The three normalised loss terms of a batch and their weighted sum (see <see cref="SliceAwareOptions"/>).
    /// </summary>
    /// <param name="features">Backbone input for B examples.</param>
    /// <param name="labels">Class indices [B], int64.</param>
    /// <param name="sliceMembership">SF outputs [B, m], 0/1, base column first.</param>
    public SliceAwareLoss LossTerms(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        CheckBatch(features, labels, sliceMembership);
        using var scope = NewDisposeScope();
        var terms = LossTermsCore(features, labels, sliceMembership, out _);
        foreach (var t in new[] { terms.Total, terms.Prediction, terms.SliceHead, terms.Indicator, terms.MemberPairs }) scope.MoveToOuter(t);
        return terms;
    }

    // The fused training loss (total, detached terms) when it covers this call, else null with z set when the backbone
    // already ran (the general path then starts from it). Both leave their tensors in the caller's dispose scope.
    private (Tensor Total, Tensor Terms)? TryFusedLoss(Tensor features, Tensor labels, Tensor sliceMembership, out Tensor? z)
    {
        z = null;
        if (FusedSettings(features, labels, sliceMembership) is not { } settings) return null;
        (z, bool fits) = FusedBackboneOutput(features);
        return fits ? FusedSramLoss.Run(sram, z, labels, sliceMembership, settings) : null;
    }

    // The fused loss's constants when it covers this batch (options, grad mode, tensors), else null.
    private FusedSramLossSettings? FusedSettings(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        if (!UseFusedKernels || StepNormalization.Current is not null || !torch.is_grad_enabled()
            || !FusedSramLoss.Fits(sram, labels, sliceMembership))
            return null;
        return new FusedSramLossSettings(_options.PredictionLossWeight, _options.SliceHeadLossWeight, _options.IndicatorLossWeight,
            IndicatorDivisor(features.shape[0], SliceNames.Count), _options.Temperature);
    }

    // Runs the backbone; Fits tells whether its output is the contiguous float32 CPU [B, d] the fused loss reads.
    private (Tensor Z, bool Fits) FusedBackboneOutput(Tensor features)
    {
        var z = RunBackbone(backbone, features);
        return (z, CpuSpans.Fits(z) && z.dim() == 2 && z.shape[0] == features.shape[0] && z.shape[1] == BackboneWidth);
    }

    /// <summary>The fused training loss (total, detached terms) of a batch, or null when the fused path does not cover it.</summary>
    internal (Tensor Total, Tensor Terms)? FusedLoss(Tensor features, Tensor labels, Tensor sliceMembership) =>
        TryFusedLoss(features, labels, sliceMembership, out _);

    // Averaged over the B examples; summed over the m slices (the paper's sum), averaged over them, the sum over √m, or the sum capped at three slices' weight.
    private double IndicatorDivisor(long rows, long m) => _options.IndicatorLossNormalization switch
    {
        IndicatorLossNormalization.MeanOverSlices => (double)rows * m,
        IndicatorLossNormalization.RootOverSlices => rows * Math.Sqrt(m),
        IndicatorLossNormalization.CappedSum => rows * Math.Max(1.0, m / 3.0),
        _ => rows,
    };

    // The terms and the class logits, all left in the caller's dispose scope (the intermediates are disposed here).
    private SliceAwareLoss LossTermsCore(Tensor features, Tensor labels, Tensor sliceMembership, out Tensor logits, Tensor? representation = null)
    {
        long b = features.shape[0];
        using var scope = NewDisposeScope();
        bool aligned = _options.IndicatorGradientWeighting == IndicatorGradientWeighting.PredictionAligned && torch.is_grad_enabled();
        var output = RunCore(features, out var z, keepRepresentation: aligned, representation);
        var mask = sliceMembership.dtype == output.Logits.dtype ? sliceMembership : sliceMembership.to(output.Logits.dtype);
        // Means are taken over the step's counts: this batch's own, or all ranks' under data-parallel training.
        long rows = StepNormalization.Rows(b);
        var prediction = rows == b
            ? nn.functional.cross_entropy(output.Logits, labels)
            : ScalarMath.Div(nn.functional.cross_entropy(output.Logits, labels, reduction: nn.Reduction.Sum), rows);

        bool perSliceMean = _options.SliceHeadNormalization == SliceHeadNormalization.PerSlice;
        var headWeight = HeadWeights(mask, output.IndicatorLogits);
        // The member-pair count stays on the device: reading it would cost a host sync per step.
        var memberPairs = mask.sum();
        // Σ over member (example, slice) pairs of the cross-entropy -log softmax(p_i)[y].
        Tensor maskedSum;
        Tensor? perPair = null;
        if (NumClasses == 2 && !perSliceMean)
        {
            // Binary: CE = softplus(-(2y - 1)(p1 - p0)) = BCE-with-logits(p1 - p0, y), with the pair weights as
            // its weight: one fused op gives the masked sum (no [B, m] intermediates to back-propagate).
            var gap = output.SlicePredictionLogits.select(2, 1) - output.SlicePredictionLogits.select(2, 0); // [B, m]
            var target = labels.to(gap.dtype).unsqueeze(1).expand_as(gap);                                   // [B, m]
            maskedSum = nn.functional.binary_cross_entropy_with_logits(gap, target, weight: headWeight, reduction: nn.Reduction.Sum);
        }
        else
        {
            var logProbabilities = output.SlicePredictionLogits.log_softmax(2);                                 // [B, m, C]
            var index = labels.view(-1, 1, 1).expand(-1, logProbabilities.shape[1], 1);
            perPair = logProbabilities.gather(2, index).squeeze(2).neg();                                       // [B, m]
            maskedSum = perPair.mul(headWeight).sum();
        }
        Tensor sliceHead;
        if (perSliceMean)
        {
            // Each slice's mean over its members in the batch, averaged over the slices that have members
            // (under data-parallel training: the step's members over all ranks).
            var counts = StepNormalization.SliceMembers(mask.sum(0L));                   // [m]
            var perSlice = perPair!.mul(headWeight).sum(0L).div(counts.clamp_min(ScalarMath.One));
            var present = counts.gt(ScalarMath.Zero).to(perSlice.dtype).sum();
            sliceHead = perSlice.sum().div(present.clamp_min(ScalarMath.One));
        }
        else
        {
            sliceHead = StepNormalization.Current is { } step
                ? ScalarMath.Div(maskedSum, Math.Max(1L, step.MemberPairs))
                : maskedSum.div(memberPairs.clamp_min(ScalarMath.One));
        }

        double indicatorDivisor = IndicatorDivisor(rows, mask.shape[1]);
        var indicator = ScalarMath.Div(nn.functional.binary_cross_entropy_with_logits(output.IndicatorLogits, mask, reduction: nn.Reduction.Sum), indicatorDivisor);

        // A weight of 1 (the default) costs no op.
        var weightedPrediction = Weighted(_options.PredictionLossWeight, prediction);
        var weightedHead = Weighted(_options.SliceHeadLossWeight, sliceHead);
        var weightedIndicator = Weighted(_options.IndicatorLossWeight, indicator);
        var total = loss_log_variance is null
            ? ScalarMath.Add(ScalarMath.Add(weightedPrediction, weightedHead), weightedIndicator)
            : Balanced(loss_log_variance, new[] { weightedPrediction, weightedHead, weightedIndicator }, (double)b / rows);
        if (aligned && z is not null && z.requires_grad)
            total = ScalarMath.Add(total, AlignmentCorrection(z, weightedPrediction, output.IndicatorLogits, mask, indicatorDivisor));
        if (_options.ExpertWeightDecay > 0)
        {
            // λ/2 · Σ W² over the expert weights [m, d, h] (low rank: over both factors A and B): its gradient is λ·W.
            var experts = sram.ExpertProjections;
            var squares = experts.Weight.mul(experts.Weight).sum();
            if (experts.WeightUp is { } up) squares = squares.add(up.mul(up).sum(), ScalarMath.One);
            total = ScalarMath.Add(total, ScalarMath.Mul(squares, _options.ExpertWeightDecay / 2));
        }
        logits = scope.MoveToOuter(output.Logits);
        return new SliceAwareLoss(scope.MoveToOuter(total), scope.MoveToOuter(prediction), scope.MoveToOuter(sliceHead),
            scope.MoveToOuter(indicator), scope.MoveToOuter(memberPairs));
    }

    /// <summary>
    /// Explains the predictions for a batch: attention weights, learned indicator probabilities,
    /// per-slice predictions and the top slices by attention weight. Needs no SFs. Runs in
    /// evaluation mode without gradients and restores the previous mode.
    /// </summary>
    /// <param name="features">Backbone input for N examples.</param>
    /// <param name="topSlices">How many slices to list per example in <see cref="ExampleExplanation.TopSlices"/>.</param>
    /// <exception cref="SliceDataException">The batch is empty, has a NaN or infinite feature (the message names the row), or does not fit the backbone.</exception>
    public SliceExplanation Explain(Tensor features, int topSlices = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(topSlices, 0);
        CheckFeatures(features);
        ModelInputChecks.Finite(features);
        var names = SliceNames;
        return ModelMode.InEvaluation(this, () =>
        {
            using var scope = NewDisposeScope();
            var device = ModelExtensions.DeviceOf(this);
            using var output = RunCore(features.to(device));
            long n = features.shape[0], m = names.Count, c = NumClasses;
            float[] probs = output.Logits.softmax(1).cpu().data<float>().ToArray();
            float[] att = output.AttentionWeights.cpu().data<float>().ToArray();
            float[] ind = output.IndicatorLogits.sigmoid().cpu().data<float>().ToArray();
            float[] slice = output.SlicePredictionLogits.softmax(2).cpu().data<float>().ToArray();
            int top = (int)Math.Min(topSlices, m);
            var examples = new ExampleExplanation[n];
            for (long i = 0; i < n; i++)
            {
                var p = probs.AsSpan((int)(i * c), (int)c).ToArray();
                var a = att.AsSpan((int)(i * m), (int)m).ToArray();
                var q = ind.AsSpan((int)(i * m), (int)m).ToArray();
                var s = new float[m][];
                for (long j = 0; j < m; j++) s[j] = slice.AsSpan((int)((i * m + j) * c), (int)c).ToArray();
                var order = Enumerable.Range(0, (int)m).OrderByDescending(j => a[j]).ThenBy(j => j).Take(top)
                    .Select(j => new SliceWeight(names[j], a[j])).ToArray();
                examples[i] = new ExampleExplanation(ArgMax(p), p, a, q, s, order);
            }
            return new SliceExplanation(names, examples);
        });
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            sram.Dispose();
        }
        base.Dispose(disposing);
    }

    // The slice head's weight per (example, slice) pair [B, m] (see SliceHeadMembership); the base column is the SF's.
    private Tensor HeadWeights(Tensor mask, Tensor indicatorLogits)
    {
        if (_options.SliceHeadMembership == SliceHeadMembership.SfMembers || mask.shape[1] == 1) return mask;
        var probability = indicatorLogits.detach().sigmoid();
        var soft = _options.SliceHeadMembership == SliceHeadMembership.SfTimesIndicator ? probability.mul(mask) : probability;
        return torch.cat(new[] { mask.narrow(1, 0, 1), soft.narrow(1, 1, mask.shape[1] - 1) }, 1);
    }

    // IndicatorGradientWeighting.PredictionAligned: a term whose value is 0 and whose gradient at z is
    // Σ_i (c_i − 1)·G_i, so that slice i's indicator gradient G_i at the backbone output z reaches the backbone
    // times c_i = max(0, cos(G_i, g)), g the prediction loss's gradient at z. The indicator loss's gradient
    // at z is closed-form: G_i = e_i ⊗ W_i with e = s·w·(sigmoid(Q) − Y) / divisor and W the indicator heads'
    // weight [m, d] (s: the gradient scales of the Q path).
    private Tensor AlignmentCorrection(Tensor z, Tensor prediction, Tensor indicatorLogits, Tensor mask, double divisor)
    {
        using var scope = NewDisposeScope();
        var g = torch.autograd.grad(new[] { prediction }, new[] { z }, retain_graph: true, allow_unused: true)[0];
        if (g is null || g.IsInvalid) return scope.MoveToOuter(torch.zeros_like(prediction));
        Tensor correction;
        using (torch.no_grad())
        {
            double share = _options.IndicatorLossWeight * _options.SliceGradientScale * _options.IndicatorGradientScale / divisor;
            var e = ScalarMath.Mul(indicatorLogits.detach().sigmoid().sub(mask), share);          // [B, m]
            var w = sram.IndicatorHeads.weight!.detach();                                          // [m, d]
            var dot = e.mul(g.mm(w.t())).sum(0L);                                                  // <G_i, g> [m]
            var norms = e.pow(ScalarMath.Two).sum(0L).sqrt().mul(w.pow(ScalarMath.Two).sum(1L).sqrt()).mul(g.norm());
            var keep = dot.div(ScalarMath.ClampMin(norms, 1e-12)).clamp(ScalarMath.Zero, ScalarMath.One);
            correction = keep.sub(ScalarMath.One).unsqueeze(0).mul(e).mm(w);                       // Σ_i (c_i − 1) G_i [B, d]
        }
        var term = correction.mul(z.sub(z.detach())).sum();
        return scope.MoveToOuter(term);
    }

    // Σ_t exp(−s_t)·L_t + s_t (Kendall et al. 2018). Under data-parallel training each rank adds its share
    // b / rows of Σ s_t, so that the summed gradients see Σ s_t once.
    private static Tensor Balanced(Parameter logVariance, Tensor[] terms, double rowShare)
    {
        var stacked = torch.stack(terms);
        var weighted = stacked.mul(logVariance.neg().exp()).sum();
        var regulariser = logVariance.sum();
        return ScalarMath.Add(weighted, rowShare == 1.0 ? regulariser : ScalarMath.Mul(regulariser, rowShare));
    }

    /// <summary>
    /// The learned log-variances s_t [3] of the prediction, slice-head and indicator terms under
    /// <see cref="LossBalancing.LearnedUncertainty"/> (each term weighs exp(−s_t)), else null.
    /// </summary>
    public Parameter? LossLogVariances => loss_log_variance;

    private static Tensor Weighted(double weight, Tensor term) => weight == 1.0 ? term : ScalarMath.Mul(term, weight);

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
