namespace SliceLearning.Backbones.Text;

/// <summary>How a <see cref="BertEncoder"/> turns token states [B, L, H] into one vector per example.</summary>
public enum BertPooling
{
    /// <summary>The mean of the token states over the attention mask (sentence-transformers' choice for all-MiniLM-L6-v2).</summary>
    Mean = 0,

    /// <summary>The state of the first token ([CLS]).</summary>
    Cls,

    /// <summary>BERT's pooler: tanh(dense([CLS] state)), with the pretrained pooler weights.</summary>
    Pooler,
}

/// <summary>The shape of a BERT-style encoder. The defaults are all-MiniLM-L6-v2's.</summary>
public sealed class BertOptions
{
    /// <summary>Vocabulary size. <value>The default value is 30522.</value></summary>
    public long VocabularySize { get; set; } = 30522;

    /// <summary>Hidden width H (also the output width). <value>The default value is 384.</value></summary>
    public long HiddenSize { get; set; } = 384;

    /// <summary>Number of transformer layers. <value>The default value is 6.</value></summary>
    public long Layers { get; set; } = 6;

    /// <summary>Attention heads; must divide <see cref="HiddenSize"/>. <value>The default value is 12.</value></summary>
    public long AttentionHeads { get; set; } = 12;

    /// <summary>Feed-forward width. <value>The default value is 1536.</value></summary>
    public long IntermediateSize { get; set; } = 1536;

    /// <summary>Length of the position table (longest sequence). <value>The default value is 512.</value></summary>
    public long MaxPositions { get; set; } = 512;

    /// <summary>Number of token types (segments). <value>The default value is 2.</value></summary>
    public long TokenTypes { get; set; } = 2;

    /// <summary>LayerNorm epsilon. <value>The default value is 1e-12.</value></summary>
    public double LayerNormEpsilon { get; set; } = 1e-12;

    /// <summary>Dropout on embeddings, attention probabilities and sublayer outputs (train mode only). <value>The default value is 0.1.</value></summary>
    public double Dropout { get; set; } = 0.1;

    /// <summary>How token states are pooled into the output. <value>The default value is <see cref="BertPooling.Mean"/>.</value></summary>
    public BertPooling Pooling { get; set; } = BertPooling.Mean;

    /// <summary>Checks every option; the exception lists each problem with the option's name and value.</summary>
    /// <exception cref="ArgumentException">One or more options are out of range.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        void Positive(string name, long value) { if (value < 1) errors.Add($"{name} must be at least 1, got {value}."); }
        Positive(nameof(VocabularySize), VocabularySize);
        Positive(nameof(HiddenSize), HiddenSize);
        Positive(nameof(Layers), Layers);
        Positive(nameof(AttentionHeads), AttentionHeads);
        Positive(nameof(IntermediateSize), IntermediateSize);
        Positive(nameof(MaxPositions), MaxPositions);
        Positive(nameof(TokenTypes), TokenTypes);
        if (AttentionHeads >= 1 && HiddenSize % AttentionHeads != 0)
            errors.Add($"{nameof(HiddenSize)} ({HiddenSize}) must be a multiple of {nameof(AttentionHeads)} ({AttentionHeads}).");
        if (!(LayerNormEpsilon > 0)) errors.Add($"{nameof(LayerNormEpsilon)} must be positive, got {LayerNormEpsilon}.");
        if (!(Dropout >= 0 && Dropout < 1)) errors.Add($"{nameof(Dropout)} must be in [0, 1), got {Dropout}.");
        if (!Enum.IsDefined(Pooling)) errors.Add($"{nameof(Pooling)} has the undefined value {(int)Pooling}.");
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid {nameof(BertOptions)}: " + string.Join(" ", errors));
    }
}
