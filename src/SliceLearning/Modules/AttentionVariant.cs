namespace SliceLearning.Modules;

/// <summary>
/// How the slice-residual-attention module weighs the m = k + 1 slice expert representations
/// (the paper's ablation, section 3.2 and Figure 3).
/// </summary>
public enum AttentionVariant
{
    /// <summary>
    /// The paper's attention: softmax((Q + conf(P)) / T), indicator logits plus the confidence of
    /// each expert's prediction. The default.
    /// </summary>
    Full = 0,

    /// <summary>softmax(Q / T): indicator logits only.</summary>
    IndicatorOnly,

    /// <summary>softmax(conf(P) / T): prediction confidences only.</summary>
    ConfidenceOnly,

    /// <summary>Every expert weighs 1 / m.</summary>
    Uniform,
}
