using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Simple;

/// <summary>
/// Kim's (2014) 1-D convolutional text encoder: token embeddings, one convolution per kernel width
/// with ReLU, max over time, concatenated and dropped out. Input: int64 token ids [B, L] (0 = padding);
/// output [B, filters x kernel widths]. Embeddings can start from GloVe (<see cref="InitializeEmbeddings"/>).
/// </summary>
public sealed class TextCnnBackbone : nn.Module<Tensor, Tensor>, IBackbone
{
    private readonly Embedding embedding;
    private readonly ModuleList<Conv1d> convs;
    private readonly Dropout dropout;
    private readonly long _maxKernel;

    /// <summary>Creates the encoder with N(0, 1) embeddings and a zero padding row.</summary>
    /// <param name="vocabularySize">Number of token ids (id 0 is padding).</param>
    /// <param name="embeddingWidth">Width of the token embeddings (100 matches the GloVe vectors).</param>
    /// <param name="kernelWidths">Convolution widths in tokens; null means [3, 4, 5].</param>
    /// <param name="filtersPerWidth">Filters per kernel width.</param>
    /// <param name="dropout">Dropout on the pooled features (train mode only), in [0, 1).</param>
    /// <param name="device">Where to place the parameters; null means the CPU.</param>
    public TextCnnBackbone(long vocabularySize, long embeddingWidth = 100, IReadOnlyList<long>? kernelWidths = null, long filtersPerWidth = 100,
        double dropout = 0.5, Device? device = null) : base(nameof(TextCnnBackbone))
    {
        kernelWidths ??= new long[] { 3, 4, 5 };
        if (vocabularySize < 2) throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize, "vocabularySize must be at least 2 (padding plus one token).");
        if (embeddingWidth < 1) throw new ArgumentOutOfRangeException(nameof(embeddingWidth), embeddingWidth, "embeddingWidth must be at least 1.");
        if (kernelWidths.Count == 0 || kernelWidths.Any(k => k < 1))
            throw new ArgumentException($"kernelWidths must hold at least one width of at least 1, got [{string.Join(", ", kernelWidths)}].", nameof(kernelWidths));
        if (filtersPerWidth < 1) throw new ArgumentOutOfRangeException(nameof(filtersPerWidth), filtersPerWidth, "filtersPerWidth must be at least 1.");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        VocabularySize = vocabularySize;
        EmbeddingWidth = embeddingWidth;
        embedding = nn.Embedding(vocabularySize, embeddingWidth, padding_idx: 0);
        convs = nn.ModuleList(kernelWidths.Select(k => nn.Conv1d(embeddingWidth, filtersPerWidth, k)).ToArray());
        this.dropout = nn.Dropout(dropout);
        _maxKernel = kernelWidths.Max();
        OutputWidth = filtersPerWidth * kernelWidths.Count;
        RegisterComponents();
        if (device is not null) this.to(device);
    }

    /// <summary>Number of token ids.</summary>
    public long VocabularySize { get; }

    /// <summary>Width of the token embeddings.</summary>
    public long EmbeddingWidth { get; }

    /// <inheritdoc />
    public long OutputWidth { get; }

    /// <summary>
    /// Sets the embedding rows of tokens found in <paramref name="vectors"/> (e.g. <see cref="GloveVectors"/>);
    /// the other rows keep their random values and row 0 (padding) stays zero. Lookups are lowercase.
    /// </summary>
    /// <param name="vocabulary">The token of each id: <c>vocabulary[id]</c>; its length must equal <see cref="VocabularySize"/>.</param>
    /// <param name="vectors">Word vectors of width <see cref="EmbeddingWidth"/>.</param>
    /// <returns>How many ids got a pretrained vector.</returns>
    public int InitializeEmbeddings(IReadOnlyList<string> vocabulary, IReadOnlyDictionary<string, float[]> vectors)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(vectors);
        if (vocabulary.Count != VocabularySize)
            throw new ArgumentException($"vocabulary has {vocabulary.Count} tokens, the embedding table has {VocabularySize} rows.", nameof(vocabulary));
        var table = embedding.weight!.detach().cpu().contiguous().data<float>().ToArray();
        int found = 0;
        for (int id = 1; id < vocabulary.Count; id++)
        {
            if (!vectors.TryGetValue(vocabulary[id].ToLowerInvariant(), out var v)) continue;
            if (v.Length != EmbeddingWidth)
                throw new ArgumentException($"The vector of '{vocabulary[id]}' has {v.Length} values, the embeddings are {EmbeddingWidth} wide.", nameof(vectors));
            v.CopyTo(table, id * EmbeddingWidth);
            found++;
        }
        using var noGrad = no_grad();
        using var src = tensor(table, new[] { VocabularySize, EmbeddingWidth });
        embedding.weight!.copy_(src);
        return found;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dtype != ScalarType.Int64 || input.dim() != 2)
            throw new ArgumentException($"TextCnnBackbone takes int64 token ids [B, L], got {input.dtype} [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        var x = embedding.call(input).transpose(1, 2); // [B, E, L]
        if (x.shape[2] < _maxKernel) x = nn.functional.pad(x, (0L, _maxKernel - x.shape[2]));
        var pooled = convs.Select(c => c.call(x).relu().amax(new long[] { 2 })).ToArray();
        return scope.MoveToOuter(dropout.call(cat(pooled, 1)));
    }
}
