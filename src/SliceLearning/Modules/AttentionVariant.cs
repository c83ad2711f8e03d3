namespace SliceLearning.Modules;

/// <summary>
/// How the slice-residual-attention module weighs the m = k + 1 slice expert representations.
/// <see cref="LearnedOdds"/> is the default; <see cref="Full"/> is the paper's formula, and
/// <see cref="IndicatorOnly"/>, <see cref="ConfidenceOnly"/> and <see cref="Uniform"/> its ablation
/// (section 3.2 and Figure 3).
/// </summary>
public enum AttentionVariant
{
    /// <summary>
    /// The paper's attention: softmax((Q + conf(P)) / T), indicator logits plus the confidence of
    /// each expert's prediction (|p1 − p0| for two classes, the top-1 − top-2 margin otherwise).
    /// Both terms are unbounded, and the always-member base slice can take nearly all the weight.
    /// </summary>
    Full = 0,

    /// <summary>softmax(Q / T): indicator logits only.</summary>
    IndicatorOnly,

    /// <summary>softmax(conf(P) / T): prediction confidences only.</summary>
    ConfidenceOnly,

    /// <summary>Every expert weighs 1 / m.</summary>
    Uniform,

    /// <summary>
    /// The default. The base slice scores 0 and slice i scores q_i + log max_c softmax(p_i)_c + b_i,
    /// then softmax over the m scores divided by T: the indicator logit q_i (the log-odds of
    /// membership against the base slice), the log-probability of the expert's predicted class (a
    /// confidence bounded above by 0, so a confident expert cannot outweigh its indicator), and a
    /// learned per-slice score b_i (starts at 0). Measured on flipped-label slices with noisy SFs,
    /// it routes a slice's members to its own expert where <see cref="Full"/> sends them to the base
    /// expert (docs/sram.md).
    /// </summary>
    LearnedOdds,
}

/// <summary>What the attention weights back-propagate into.</summary>
public enum AttentionBackpropagation
{
    /// <summary>
    /// The default. The attention reads the indicator logits detached, so the prediction loss does not
    /// move the indicators (they learn from their SF loss only); the experts still get the prediction
    /// loss's gradient through the combined representation and through their confidence term.
    /// </summary>
    ExpertsOnly = 0,

    /// <summary>The paper's end-to-end version: the prediction loss also trains the indicator heads through the attention.</summary>
    IndicatorsAndExperts,
}
