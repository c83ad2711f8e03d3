namespace SliceLearning.Models;

/// <summary>
/// Why a <see cref="SliceAwareModel"/> predicted what it did, for a batch of examples: computed from
/// features alone (no SFs), from the learned indicators and the attention over slice experts.
/// </summary>
public sealed class SliceExplanation
{
    internal SliceExplanation(IReadOnlyList<string> sliceNames, IReadOnlyList<ExampleExplanation> examples)
    {
        SliceNames = sliceNames;
        Examples = examples;
    }

    /// <summary>The slice names, base slice first; the per-slice arrays follow this order.</summary>
    public IReadOnlyList<string> SliceNames { get; }

    /// <summary>One explanation per input row, in input order.</summary>
    public IReadOnlyList<ExampleExplanation> Examples { get; }
}

/// <summary>The explanation of one example.</summary>
/// <param name="PredictedClass">The predicted class (argmax of <paramref name="Probabilities"/>).</param>
/// <param name="Probabilities">Class probabilities of the prediction head [C].</param>
/// <param name="AttentionWeights">Attention weight of each slice expert [m]; sums to 1.</param>
/// <param name="IndicatorProbabilities">sigmoid(indicator logit) per slice [m]: the learned P(member).</param>
/// <param name="SliceProbabilities">Per slice [m], the shared slice head's class probabilities [C] for that slice's expert.</param>
/// <param name="TopSlices">The slices with the largest attention weights, largest first.</param>
public sealed record ExampleExplanation(
    int PredictedClass,
    float[] Probabilities,
    float[] AttentionWeights,
    float[] IndicatorProbabilities,
    float[][] SliceProbabilities,
    IReadOnlyList<SliceWeight> TopSlices);

/// <summary>A slice and its attention weight for one example.</summary>
/// <param name="Slice">The slice name.</param>
/// <param name="Weight">Its attention weight in [0, 1].</param>
public readonly record struct SliceWeight(string Slice, float Weight);
