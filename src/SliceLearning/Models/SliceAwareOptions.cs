using System.Globalization;
using SliceLearning.Modules;

namespace SliceLearning.Models;

/// <summary>
/// Options of a <see cref="SliceAwareModel"/>. Every loss term is normalised explicitly (see each
/// weight) and then multiplied by its weight; the training loss is their sum.
/// </summary>
public sealed class SliceAwareOptions
{
    /// <summary>
    /// The size h of each slice expert representation, or null for the backbone width d.
    /// </summary>
    /// <value>The default value is null (h = d, as in the paper's synthetic experiment).</value>
    public long? ExpertSize { get; set; }

    /// <summary>The attention softmax temperature T: the scores are divided by T before the softmax.</summary>
    /// <value>The default value is 1.0 (a plain softmax).</value>
    public double Temperature { get; set; } = 1.0;

    /// <summary>How the attention scores the experts (<see cref="AttentionVariant"/>; <see cref="AttentionVariant.Full"/> is the paper's formula).</summary>
    /// <value>The default value is <see cref="AttentionVariant.LearnedOdds"/>.</value>
    public AttentionVariant Attention { get; set; } = AttentionVariant.LearnedOdds;

    /// <summary>What the attention weights back-propagate into.</summary>
    /// <value>The default value is <see cref="AttentionBackpropagation.ExpertsOnly"/>: the indicators learn from their SF loss only.</value>
    public AttentionBackpropagation Backpropagation { get; set; } = AttentionBackpropagation.ExpertsOnly;

    /// <summary>
    /// Sets the paper's attention (section 3.2 (e)): <see cref="AttentionVariant.Full"/>,
    /// softmax(Q + conf(P)), trained end to end (<see cref="AttentionBackpropagation.IndicatorsAndExperts"/>), T = 1.
    /// </summary>
    /// <returns>These options.</returns>
    public SliceAwareOptions UsePaperAttention()
    {
        Attention = AttentionVariant.Full;
        Backpropagation = AttentionBackpropagation.IndicatorsAndExperts;
        Temperature = 1.0;
        return this;
    }

    /// <summary>
    /// Weight of the prediction head's loss: cross-entropy of the final logits against the labels,
    /// averaged over the B examples of the batch.
    /// </summary>
    /// <value>The default value is 1.0.</value>
    public double PredictionLossWeight { get; set; } = 1.0;

    /// <summary>
    /// Weight of the shared slice head's loss: cross-entropy of each expert's logits p_i against the
    /// label, counted only on (example, slice) pairs whose SF says "member" (the base slice counts
    /// every example), summed and divided by the number of such member pairs in the batch. Every
    /// member pair weighs the same, so small slices are not implicitly upweighted (a per-slice mean
    /// would weigh a 3% slice's examples ~30x more than the base slice's).
    /// </summary>
    /// <value>The default value is 1.0.</value>
    public double SliceHeadLossWeight { get; set; } = 1.0;

    /// <summary>How the shared slice head's loss is averaged (see <see cref="SliceHeadLossWeight"/>).</summary>
    /// <value>The default value is <see cref="Models.SliceHeadNormalization.PerMemberPair"/>.</value>
    public SliceHeadNormalization SliceHeadNormalization { get; set; } = SliceHeadNormalization.PerMemberPair;

    /// <summary>
    /// Which (example, slice) pairs the shared slice head's loss counts, and how much (see
    /// <see cref="SliceHeadLossWeight"/>; the normaliser stays the number of SF member pairs).
    /// </summary>
    /// <value>The default value is <see cref="Models.SliceHeadMembership.SfMembers"/>.</value>
    public SliceHeadMembership SliceHeadMembership { get; set; } = SliceHeadMembership.SfMembers;

    /// <summary>
    /// The share in [0, 1] of the indicator and slice-head losses' gradient that reaches the backbone
    /// (the heads and experts get their full gradient; the forward pass does not change). At 1 the
    /// backbone is shaped by all 2m + 1 loss terms; below 1 the prediction loss dominates it.
    /// </summary>
    /// <value>The default value is 1.0.</value>
    public double SliceGradientScale { get; set; } = 1.0;

    /// <summary>
    /// Weight of the indicator loss: binary cross-entropy of the indicator logits Q [B, m] against
    /// the SF matrix, averaged over the B examples and summed or averaged over the m slices
    /// (<see cref="IndicatorLossNormalization"/>).
    /// </summary>
    /// <value>The default value is 1.0.</value>
    public double IndicatorLossWeight { get; set; } = 1.0;

    /// <summary>How the indicator loss combines the m slices (see <see cref="IndicatorLossWeight"/>).</summary>
    /// <value>
    /// The default value is <see cref="Models.IndicatorLossNormalization.CappedSum"/>: the paper's sum with up to
    /// two SFs, a fixed total weight of three slice terms beyond (docs/sram.md gives the measurements behind it).
    /// </value>
    public IndicatorLossNormalization IndicatorLossNormalization { get; set; } = IndicatorLossNormalization.CappedSum;

    /// <summary>
    /// The share in [0, 1] of the indicator loss's gradient that reaches the backbone; the indicator heads
    /// get their full gradient and the forward pass does not change. At 0 the indicators learn from the
    /// backbone's features without shaping them, so <see cref="IndicatorLossNormalization"/> and
    /// <see cref="IndicatorLossWeight"/> no longer change what the backbone learns. It multiplies
    /// <see cref="SliceGradientScale"/>, which applies to the indicator and slice-head losses together.
    /// </summary>
    /// <value>The default value is 1.0.</value>
    public double IndicatorGradientScale { get; set; } = 1.0;

    /// <summary>
    /// How much of each slice's indicator gradient reaches the backbone (<see cref="Models.IndicatorGradientWeighting"/>).
    /// </summary>
    /// <value>The default value is <see cref="Models.IndicatorGradientWeighting.Uniform"/>.</value>
    public IndicatorGradientWeighting IndicatorGradientWeighting { get; set; } = IndicatorGradientWeighting.Uniform;

    /// <summary>
    /// How the three loss terms are weighted against each other (<see cref="Models.LossBalancing"/>).
    /// </summary>
    /// <value>The default value is <see cref="Models.LossBalancing.FixedWeights"/>.</value>
    public LossBalancing LossBalancing { get; set; } = LossBalancing.FixedWeights;

    /// <summary>
    /// How the slice experts map the backbone representation z to their representations r_i
    /// (<see cref="Modules.ExpertForm"/>): the paper's free projections, or residuals around z that start
    /// at 0, so that the model starts as the backbone with a linear head.
    /// </summary>
    /// <value>The default value is <see cref="Modules.ExpertForm.Projection"/> (the paper's form).</value>
    public ExpertForm ExpertForm { get; set; } = ExpertForm.Projection;

    /// <summary>
    /// The rank r in [1, d] of every expert's correction with <see cref="Modules.ExpertForm.LowRankResidual"/>
    /// (r_i = z + (z A_i) B_i + b_i, A_i [d, r], B_i [r, d]); the other forms ignore it.
    /// </summary>
    /// <value>The default value is 2.</value>
    public long ExpertRank { get; set; } = 2;

    /// <summary>
    /// L2 penalty on the expert weights W [m, d, h] (not their biases): λ/2 · Σ W² is added to the
    /// training loss (<see cref="SliceAwareLoss.Total"/>), so each step's gradient gains λ·W, as SGD's
    /// weight decay would give on these weights only. With <see cref="Modules.ExpertForm.Residual"/> it
    /// pulls every expert towards the identity (z' = z); with the paper's projections, towards 0. With
    /// <see cref="Modules.ExpertForm.LowRankResidual"/> it applies to both factors, λ/2 · (Σ A² + Σ B²), whose
    /// smallest value over the factorisations of a correction A_i B_i is λ times its nuclear norm (the sum of
    /// its singular values): it shrinks the correction, not the random initial A alone.
    /// </summary>
    /// <value>The default value is 0 (no penalty).</value>
    public double ExpertWeightDecay { get; set; }

    /// <summary>
    /// Dropout probability in [0, 1) on the experts' own part z W_i + b_i while training: one mask for the
    /// [B, m, h] expert representations, used by the slice predictions P and by z' alike (with
    /// <see cref="Modules.ExpertForm.Residual"/> and <see cref="Modules.ExpertForm.LowRankResidual"/> the z added to
    /// every expert is not dropped, the correction (z A_i) B_i + b_i is). Evaluation
    /// does not drop anything.
    /// </summary>
    /// <value>The default value is 0 (no dropout).</value>
    public double ExpertDropout { get; set; }

    /// <summary>Checks every option; throws one exception that lists each problem.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its value.</exception>
    public void Validate() => Validate(null);

    /// <summary>
    /// Checks every option, and against the backbone width d those that depend on it
    /// (residual experts need h = d; <see cref="ExpertRank"/> at most d); throws one exception that lists each problem.
    /// </summary>
    /// <param name="backboneWidth">d, or null to skip the checks that need it.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its value.</exception>
    internal void Validate(long? backboneWidth)
    {
        var problems = new List<string>();
        if (ExpertSize is { } h && h < 1)
            problems.Add($"ExpertSize must be at least 1 (or null for the backbone width). Got {h}.");
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            problems.Add($"Temperature must be a positive finite number. Got {Format(Temperature)}.");
        if (!Enum.IsDefined(Attention))
            problems.Add($"Attention must be one of {string.Join(", ", Enum.GetNames<AttentionVariant>())}. Got {(int)Attention}.");
        if (!Enum.IsDefined(Backpropagation))
            problems.Add($"Backpropagation must be one of {string.Join(", ", Enum.GetNames<AttentionBackpropagation>())}. Got {(int)Backpropagation}.");
        if (!Enum.IsDefined(SliceHeadNormalization))
            problems.Add($"SliceHeadNormalization must be one of {string.Join(", ", Enum.GetNames<SliceHeadNormalization>())}. Got {(int)SliceHeadNormalization}.");
        if (!Enum.IsDefined(IndicatorLossNormalization))
            problems.Add($"IndicatorLossNormalization must be one of {string.Join(", ", Enum.GetNames<IndicatorLossNormalization>())}. Got {(int)IndicatorLossNormalization}.");
        if (!Enum.IsDefined(SliceHeadMembership))
            problems.Add($"SliceHeadMembership must be one of {string.Join(", ", Enum.GetNames<SliceHeadMembership>())}. Got {(int)SliceHeadMembership}.");
        if (!(SliceGradientScale >= 0 && SliceGradientScale <= 1))
            problems.Add($"SliceGradientScale must be a number in [0, 1]. Got {Format(SliceGradientScale)}.");
        if (!(IndicatorGradientScale >= 0 && IndicatorGradientScale <= 1))
            problems.Add($"IndicatorGradientScale must be a number in [0, 1]. Got {Format(IndicatorGradientScale)}.");
        if (!Enum.IsDefined(IndicatorGradientWeighting))
            problems.Add($"IndicatorGradientWeighting must be one of {string.Join(", ", Enum.GetNames<IndicatorGradientWeighting>())}. Got {(int)IndicatorGradientWeighting}.");
        if (!Enum.IsDefined(LossBalancing))
            problems.Add($"LossBalancing must be one of {string.Join(", ", Enum.GetNames<LossBalancing>())}. Got {(int)LossBalancing}.");
        if (!Enum.IsDefined(ExpertForm))
            problems.Add($"ExpertForm must be one of {string.Join(", ", Enum.GetNames<ExpertForm>())}. Got {(int)ExpertForm}.");
        if ((ExpertForm is ExpertForm.Residual or ExpertForm.LowRankResidual) && ExpertSize is { } residualSize && residualSize >= 1 && backboneWidth is { } width && residualSize != width)
            problems.Add($"ExpertForm {ExpertForm} adds z to every expert, so ExpertSize must be the backbone width d = {width} (or null). Got {residualSize}.");
        if (ExpertRank < 1)
            problems.Add($"ExpertRank must be at least 1. Got {ExpertRank}.");
        else if (ExpertForm == ExpertForm.LowRankResidual && backboneWidth is { } d && ExpertRank > d)
            problems.Add($"ExpertRank must be at most the backbone width d = {d} for ExpertForm LowRankResidual. Got {ExpertRank}.");
        CheckWeight(nameof(ExpertWeightDecay), ExpertWeightDecay, problems);
        if (!(ExpertDropout >= 0 && ExpertDropout < 1))
            problems.Add($"ExpertDropout must be a probability in [0, 1). Got {Format(ExpertDropout)}.");
        CheckWeight(nameof(PredictionLossWeight), PredictionLossWeight, problems);
        CheckWeight(nameof(SliceHeadLossWeight), SliceHeadLossWeight, problems);
        CheckWeight(nameof(IndicatorLossWeight), IndicatorLossWeight, problems);
        if (LossBalancing == LossBalancing.LearnedUncertainty && !(PredictionLossWeight > 0 && SliceHeadLossWeight > 0 && IndicatorLossWeight > 0))
            problems.Add($"LossBalancing.LearnedUncertainty needs every loss weight above 0 (a term with weight 0 would drive its log-variance down without bound). Got {Format(PredictionLossWeight)}, {Format(SliceHeadLossWeight)}, {Format(IndicatorLossWeight)}.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(SliceAwareOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }

    /// <summary>A copy of these options.</summary>
    public SliceAwareOptions Clone() => (SliceAwareOptions)MemberwiseClone();

    private static void CheckWeight(string name, double value, List<string> problems)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            problems.Add($"{name} must be a finite number >= 0. Got {Format(value)}.");
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How the shared slice head's cross-entropy over member (example, slice) pairs is averaged.</summary>
public enum SliceHeadNormalization
{
    /// <summary>Summed over member pairs and divided by their number: every member pair weighs the same, so a 3% slice's expert gets 3% of the base expert's weight.</summary>
    PerMemberPair = 0,

    /// <summary>Each slice's mean over its members in the batch, averaged over the slices with members: every slice weighs the same, whatever its size.</summary>
    PerSlice,
}

/// <summary>Which (example, slice) pairs train the shared slice head, and with what weight.</summary>
public enum SliceHeadMembership
{
    /// <summary>Every pair whose SF says "member" counts with weight 1 (the paper).</summary>
    SfMembers = 0,

    /// <summary>
    /// A pair whose SF says "member" counts with the learned indicator's membership probability
    /// sigmoid(q_i) (detached; the base slice counts 1): SF false positives that the indicator does
    /// not believe (e.g. points just outside a slice) teach the expert less.
    /// </summary>
    SfTimesIndicator,

    /// <summary>
    /// Every pair counts with the learned indicator's membership probability sigmoid(q_i) (detached;
    /// the base slice counts 1), whatever the SF says: soft membership, which also reaches the members
    /// an SF misses.
    /// </summary>
    Indicator,
}

/// <summary>How the indicator loss combines the m slices' binary cross-entropies.</summary>
public enum IndicatorLossNormalization
{
    /// <summary>
    /// Averaged over the m slices: the backbone gets the indicators' gradient as one term, however many
    /// SFs there are, next to the prediction loss. With Adam each indicator head still takes full-size
    /// steps (its gradient comes from its own term only, and Adam's steps do not depend on the gradient's scale).
    /// </summary>
    MeanOverSlices = 0,

    /// <summary>
    /// Summed over the m slices (the paper's sum): each indicator head's gradient does not shrink as slices
    /// are added, and the backbone's share of the indicator gradient grows with m (with 16 SFs the
    /// indicator sum was about 11 times the prediction loss when a text encoder was fine-tuned).
    /// </summary>
    SumOverSlices,

    /// <summary>
    /// Summed over the m slices and divided by √m: m per-slice gradients in unrelated directions add up to
    /// a vector about √m times as long as one of them, so this keeps the length of the indicators' gradient
    /// into the backbone roughly constant as slices are added, where the sum grows it with √m and the mean
    /// shrinks it with √m.
    /// </summary>
    RootOverSlices,

    /// <summary>
    /// Summed over the slices while m ≤ 3 and scaled to a total weight of three slices beyond, i.e. the sum
    /// times min(1, 3 / m): the paper's sum in the paper's setting (two SFs plus the base slice), and a fixed
    /// budget of three slice terms in the backbone's gradient however many SFs are added.
    /// </summary>
    CappedSum,
}

/// <summary>How much of each slice's indicator-loss gradient reaches the backbone.</summary>
public enum IndicatorGradientWeighting
{
    /// <summary>All of it (times <see cref="SliceAwareOptions.IndicatorGradientScale"/> and <see cref="SliceAwareOptions.SliceGradientScale"/>).</summary>
    Uniform = 0,

    /// <summary>
    /// Per batch, slice i's indicator gradient at the backbone output z is multiplied by max(0, cos(G_i, g)),
    /// where G_i is that gradient and g the prediction loss's gradient at z (the weighted gradient-similarity
    /// rule of Du et al., "Adapting auxiliary losses using gradient similarity", 2018, applied per slice at
    /// the backbone output). SFs whose membership the prediction does not need (e.g. many benign SFs) stop
    /// shaping the backbone; SFs whose membership helps the prediction keep a share. The indicator heads get
    /// their full gradient and the loss value does not change. Costs one extra backward pass from the
    /// prediction loss to z per training step.
    /// </summary>
    PredictionAligned,
}

/// <summary>How the prediction, slice-head and indicator losses are weighted against each other.</summary>
public enum LossBalancing
{
    /// <summary>Each normalised term times its weight option (<see cref="SliceAwareOptions.PredictionLossWeight"/> etc.), summed.</summary>
    FixedWeights = 0,

    /// <summary>
    /// Learned uncertainty weighting (Kendall, Gal and Cipolla, CVPR 2018): the training loss is
    /// Σ_t exp(−s_t)·w_t·L_t + s_t over the three terms, with one learned log-variance s_t per term
    /// (starting at 0, so the first step equals <see cref="FixedWeights"/>). At its optimum exp(−s_t) =
    /// 1 / (w_t·L_t): each term's gradient is divided by its own size, so how a term is normalised (e.g.
    /// summed or averaged over the slices) stops mattering and the terms are balanced by how well each
    /// is already fit.
    /// </summary>
    LearnedUncertainty,
}
