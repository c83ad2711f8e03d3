using SliceLearning.Backbones.Import;
using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Text;

/// <summary>
/// The top transformer layers of a <see cref="BertEncoder"/> as a trainable backbone over cached
/// lower-layer outputs. Fine-tuning only the top layers of a pretrained encoder is a standard way to
/// make it affordable on a CPU: the frozen lower layers run once per example
/// (<see cref="CacheInputs"/>), and each training step runs only the top layers.
/// </summary>
/// <remarks>
/// Input: float32 [B, L, H + 1], the lower layers' token states [B, L, H] with the attention mask
/// (1 = token, 0 = padding) as the last channel, as <see cref="CacheInputs"/> and <see cref="Pack"/>
/// build it. Padding must be at the end of each row; each batch is trimmed to its longest row before
/// the layers run, so short batches cost less. Output: [B, H], pooled as the encoder pools
/// (<see cref="BertPooling.Mean"/> or <see cref="BertPooling.Cls"/>; the pooler weights are not copied).
/// </remarks>
public sealed class BertTopLayers : nn.Module<Tensor, Tensor>, IBackbone
{
    private readonly ModuleList<BertLayer> layer;
    private readonly BertPooling _pooling;
    private readonly long _hidden;

    private BertTopLayers(BertEncoder encoder, int topLayers) : base(nameof(BertTopLayers))
    {
        var o = encoder.Options;
        _hidden = o.HiddenSize;
        _pooling = o.Pooling == BertPooling.Pooler ? BertPooling.Cls : o.Pooling;
        LowerLayers = checked((int)o.Layers) - topLayers;
        var copies = new BertLayer[topLayers];
        for (int i = 0; i < topLayers; i++)
        {
            copies[i] = new BertLayer(o);
            copies[i].load_state_dict(encoder.Layer(LowerLayers + i).state_dict());
        }
        layer = nn.ModuleList(copies);
        RegisterComponents();
    }

    /// <summary>
    /// Copies the weights of the top <paramref name="topLayers"/> layers of <paramref name="encoder"/> into a new,
    /// independent module (the encoder is not changed and can be disposed afterwards).
    /// </summary>
    /// <param name="encoder">A (pretrained) encoder.</param>
    /// <param name="topLayers">How many of its top layers to fine-tune, 1..<see cref="BertOptions.Layers"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topLayers"/> is out of range.</exception>
    public static BertTopLayers From(BertEncoder encoder, int topLayers)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (topLayers < 1 || topLayers > encoder.Options.Layers)
            throw new ArgumentOutOfRangeException(nameof(topLayers), topLayers, $"topLayers must be in [1, {encoder.Options.Layers}] for this {encoder.Options.Layers}-layer encoder.");
        return new BertTopLayers(encoder, topLayers);
    }

    /// <summary>How many lower layers the inputs must have gone through (the encoder's layers minus the top ones).</summary>
    public int LowerLayers { get; }

    /// <summary>The number of trainable transformer layers.</summary>
    public int TopLayers => layer.Count;

    /// <inheritdoc />
    public long OutputWidth => _hidden;

    /// <summary>The width of one input position: hidden size + 1 (the mask channel).</summary>
    public long InputChannels => _hidden + 1;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 3 || input.shape[2] != _hidden + 1)
            throw new ArgumentException($"BertTopLayers takes float [B, L, {_hidden + 1}] (token states and the mask channel), got {WeightAssignment.Shape(input.shape)}.", nameof(input));
        using var scope = NewDisposeScope();
        var mask = input.select(2, _hidden);
        long longest = Math.Max(1L, (long)MathF.Round(mask.sum(1).max().item<float>()));
        if (longest < input.shape[1])
        {
            input = input.narrow(1, 0, longest);
            mask = mask.narrow(1, 0, longest);
        }
        var x = input.narrow(2, 0, _hidden);
        var additive = ((1.0f - mask) * -10000.0f).unsqueeze(1).unsqueeze(2);
        foreach (var l in layer) x = l.call(x, additive);
        var pooled = _pooling == BertPooling.Cls ? x.select(1, 0) : BertEncoder.MeanPool(x, mask);
        return scope.MoveToOuter(pooled);
    }

    /// <summary>Packs token states [B, L, H] and an attention mask [B, L] into this module's input [B, L, H + 1].</summary>
    public static Tensor Pack(Tensor hidden, Tensor attentionMask)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(attentionMask);
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(cat(new[] { hidden, attentionMask.to(hidden.dtype).unsqueeze(-1) }, 2));
    }

    /// <summary>
    /// Runs the frozen lower layers of <paramref name="encoder"/> once over every example and returns the
    /// inputs of <see cref="BertTopLayers"/> with <paramref name="lowerLayers"/> lower layers: float32
    /// [N, <paramref name="length"/>, H + 1] on the CPU, each row padded to <paramref name="length"/>.
    /// Examples are batched by token count so that little padding is computed.
    /// </summary>
    /// <param name="encoder">The pretrained encoder (run in eval mode, without gradients).</param>
    /// <param name="texts">Tokenized examples, each at most <paramref name="length"/> tokens.</param>
    /// <param name="lowerLayers">How many layers to run (the encoder's layers minus the top layers).</param>
    /// <param name="length">The padded length L of every row.</param>
    /// <param name="batchSize">Examples per forward pass.</param>
    /// <param name="progress">Receives the number of examples done after each batch.</param>
    /// <param name="cancellationToken">Checked before each batch.</param>
    public static Tensor CacheInputs(BertEncoder encoder, IReadOnlyList<EncodedText> texts, int lowerLayers, int length,
        int batchSize = 32, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 2);
        for (int i = 0; i < texts.Count; i++)
        {
            if (texts[i].TokenCount > length)
                throw new ArgumentException($"Example {i} has {texts[i].TokenCount} tokens, more than length = {length}; encode with maxLength <= {length}.", nameof(texts));
        }
        long h = encoder.Options.HiddenSize;
        var output = zeros(texts.Count, length, h + 1);
        bool wasTraining = encoder.training;
        encoder.eval();
        try
        {
            using var noGrad = no_grad();
            var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].TokenCount).ToArray();
            int done = 0;
            for (int start = 0; start < order.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(batchSize, order.Length - start);
                var rows = order[start..(start + n)];
                using var scope = NewDisposeScope();
                var trimmed = rows.Select(i => Trim(texts[i])).ToArray();
                var batch = WordPieceTokenizer.Stack(trimmed);
                var hidden = encoder.EncodeLowerLayers(batch, lowerLayers);
                var packed = Pack(hidden, batch.select(1, 1));
                long l = packed.shape[1];
                var target = output.narrow(1, 0, l);
                target.index_copy_(0, tensor(Array.ConvertAll(rows, r => (long)r)), packed);
                done += n;
                progress?.Report(done);
            }
        }
        finally
        {
            if (wasTraining) encoder.train();
        }
        return output;
    }

    private static EncodedText Trim(EncodedText e)
    {
        int n = e.TokenCount;
        return n == e.Ids.Length ? e : new EncodedText(e.Ids[..n], e.AttentionMask[..n], e.TokenTypes[..n]);
    }
}
