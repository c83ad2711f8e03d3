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

    /// <summary>The attention softmax temperature T: a = softmax((Q + conf(P)) / T).</summary>
    /// <value>The default value is 1.0 (the paper's plain softmax).</value>
    public double Temperature { get; set; } = 1.0;

    /// <summary>Which terms the attention combines (the paper's ablation).</summary>
    /// <value>The default value is <see cref="AttentionVariant.Full"/>.</value>
    public AttentionVariant Attention { get; set; } = AttentionVariant.Full;

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

    /// <summary>
    /// Weight of the indicator loss: binary cross-entropy of the indicator logits Q [B, m] against
    /// the SF matrix, summed over the m slices and averaged over the B examples (the paper's
    /// sum over slices), so that each indicator head's gradient does not shrink as slices are added.
    /// </summary>
    /// <value>The default value is 1.0.</value>
    public double IndicatorLossWeight { get; set; } = 1.0;

    /// <summary>Checks every option; throws one exception that lists each problem.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (ExpertSize is { } h && h < 1)
            problems.Add($"ExpertSize must be at least 1 (or null for the backbone width). Got {h}.");
        if (!(Temperature > 0) || double.IsInfinity(Temperature))
            problems.Add($"Temperature must be a positive finite number. Got {Format(Temperature)}.");
        if (!Enum.IsDefined(Attention))
            problems.Add($"Attention must be one of {string.Join(", ", Enum.GetNames<AttentionVariant>())}. Got {(int)Attention}.");
        CheckWeight(nameof(PredictionLossWeight), PredictionLossWeight, problems);
        CheckWeight(nameof(SliceHeadLossWeight), SliceHeadLossWeight, problems);
        CheckWeight(nameof(IndicatorLossWeight), IndicatorLossWeight, problems);
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
