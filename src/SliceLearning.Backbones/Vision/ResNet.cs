using Microsoft.Extensions.Logging;
using SliceLearning.Backbones.Import;
using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SliceLearning.Backbones.Vision;

/// <summary>Where a <see cref="ResNet"/>'s strided layers put their padding.</summary>
public enum ResNetPadding
{
    /// <summary>PyTorch/torchvision: symmetric padding (7x7/2 stem pads 3, 3x3 convs and the max pool pad 1).</summary>
    Symmetric = 0,

    /// <summary>
    /// CNTK's "same" padding, used by the ML.NET ResNet-18 weights: strided layers pad one pixel
    /// less at the bottom/right than at the top/left (stem [3, 3, 2, 2], 3x3/2 convs and max pool [1, 1, 0, 0]).
    /// </summary>
    CntkSame,
}

/// <summary>
/// A ResNet with basic blocks (ResNet-18/34 family) that returns the globally average-pooled
/// features [B, 512] of any input size (adaptive pooling). Parameter names follow torchvision
/// (conv1, bn1, layer1..layer4, downsample); there is no classifier (the model adds its own head).
/// </summary>
public sealed class ResNet : nn.Module<Tensor, Tensor>, IBackbone
{
    private static readonly long[] Widths = { 64, 128, 256, 512 };

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly ResNetPadding _padding;
    private readonly int[] _blocks;
    private int _frozenStages;

    /// <summary>Creates a ResNet with basic blocks and He-initialized convolutions.</summary>
    /// <param name="blocksPerStage">Blocks in each of the four stages; [2, 2, 2, 2] is ResNet-18, [3, 4, 6, 3] ResNet-34.</param>
    /// <param name="padding">Where strided layers pad.</param>
    /// <param name="inputChannels">Image channels (3 for RGB/BGR, 1 for grey).</param>
    /// <param name="device">Where to place the parameters; null means the CPU.</param>
    public ResNet(IReadOnlyList<int> blocksPerStage, ResNetPadding padding = ResNetPadding.Symmetric, long inputChannels = 3, Device? device = null)
        : base(nameof(ResNet))
    {
        ArgumentNullException.ThrowIfNull(blocksPerStage);
        if (blocksPerStage.Count != 4 || blocksPerStage.Any(b => b < 1))
            throw new ArgumentException($"blocksPerStage must hold four counts of at least 1, got [{string.Join(", ", blocksPerStage)}].", nameof(blocksPerStage));
        if (inputChannels < 1)
            throw new ArgumentOutOfRangeException(nameof(inputChannels), inputChannels, "inputChannels must be at least 1.");
        if (!Enum.IsDefined(padding))
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "Unknown padding.");
        _padding = padding;
        _blocks = blocksPerStage.ToArray();
        conv1 = nn.Conv2d(inputChannels, 64, 7, stride: 2, padding: padding == ResNetPadding.Symmetric ? 3 : 0, bias: false);
        bn1 = nn.BatchNorm2d(64);
        var stages = new Sequential[4];
        long inWidth = 64;
        for (int s = 0; s < 4; s++)
        {
            var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
            for (int b = 0; b < _blocks[s]; b++)
            {
                long stride = s > 0 && b == 0 ? 2 : 1;
                blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), new BasicBlock(inWidth, Widths[s], stride, padding)));
                inWidth = Widths[s];
            }
            stages[s] = nn.Sequential(blocks);
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        RegisterComponents();
        InitializeWeights();
        if (device is not null) this.to(device);
    }

    /// <summary>A standard ResNet-18 (torchvision layout, blocks [2, 2, 2, 2]) to train from scratch.</summary>
    public static ResNet ResNet18(long inputChannels = 3, Device? device = null) =>
        new(new[] { 2, 2, 2, 2 }, ResNetPadding.Symmetric, inputChannels, device);

    /// <summary>
    /// Loads the ImageNet ResNet-18 of the <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> package: a
    /// CNTK build with blocks [2, 2, 2, 3] and "same" padding. It expects BGR images with the
    /// package's mean image subtracted; see <see cref="ResNet18Preprocessing"/>.
    /// </summary>
    /// <param name="path">The package directory or its <c>ResNet18.onnx</c>; null means
    /// <see cref="PretrainedWeights.DefaultResNet18PackageDirectory"/>.</param>
    /// <param name="device">Where to place the parameters; null means the CPU.</param>
    /// <param name="logger">Receives one message with the file and load time.</param>
    /// <exception cref="FileNotFoundException">The weights are not at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not readable ONNX or not this ResNet-18.</exception>
    public static ResNet LoadMlNetResNet18(string? path = null, Device? device = null, ILogger? logger = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var file = OnnxWeightFile.Load(PretrainedWeights.ResolveResNet18(path, preprocess: false));
        var model = new ResNet(new[] { 2, 2, 2, 3 }, ResNetPadding.CntkSame);
        model.LoadOnnxWeights(file);
        if (device is not null) model.to(device);
        (logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).LoadedWeights(file.Source, "ResNet", watch.ElapsedMilliseconds);
        return model;
    }

    /// <inheritdoc />
    public long OutputWidth => Widths[^1];

    /// <summary>The number of leading stages whose parameters are frozen (0 = none; 1 = the stem; 1 + s = the stem and layer1..layer s).</summary>
    public int FrozenStages => _frozenStages;

    /// <summary>
    /// Freezes the first <paramref name="stages"/> stages (stage 0 is the stem conv1/bn1, stages
    /// 1..4 are layer1..layer4): their parameters stop requiring gradients and their BatchNorm
    /// layers stay in eval mode (running statistics fixed) even when the model trains. 0 unfreezes all.
    /// </summary>
    /// <param name="stages">0 to 5.</param>
    public void FreezeStages(int stages)
    {
        if (stages < 0 || stages > 5)
            throw new ArgumentOutOfRangeException(nameof(stages), stages, "stages must be between 0 (nothing frozen) and 5 (the stem and all four layers).");
        _frozenStages = stages;
        var parts = StageModules();
        for (int s = 0; s < parts.Length; s++)
            foreach (var m in parts[s])
                foreach (var p in m.parameters())
                    p.requires_grad = s >= stages;
        train(training);
    }

    /// <summary>Sets train/eval mode; BatchNorm layers of frozen stages always stay in eval mode.</summary>
    public override void train(bool on = true)
    {
        base.train(on);
        var parts = StageModules();
        for (int s = 0; s < _frozenStages; s++)
            foreach (var m in parts[s])
                foreach (var bn in m.modules().OfType<BatchNorm2d>().Concat(m is BatchNorm2d b ? new[] { b } : Array.Empty<BatchNorm2d>()))
                    bn.eval();
    }

    /// <summary>
    /// Copies the weights of the ML.NET/CNTK ResNet ONNX graph: the k-th Conv node's weight goes to
    /// the k-th convolution and the k-th BatchNormalization node's (scale, bias, mean, variance) to
    /// the k-th BatchNorm, in graph order (a downsampling block's projection comes first). Counts,
    /// strides and every shape are checked.
    /// </summary>
    /// <exception cref="InvalidDataException">The graph is not this architecture.</exception>
    public void LoadOnnxWeights(OnnxWeightFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var order = new List<(string Conv, string Bn, long Stride)> { ("conv1", "bn1", 2) };
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < _blocks[s]; b++)
            {
                string prefix = $"layer{s + 1}.{b}";
                long stride = s > 0 && b == 0 ? 2 : 1;
                if (s > 0 && b == 0) order.Add(($"{prefix}.downsample.0", $"{prefix}.downsample.1", 2));
                order.Add(($"{prefix}.conv1", $"{prefix}.bn1", stride));
                order.Add(($"{prefix}.conv2", $"{prefix}.bn2", 1));
            }
        var convs = file.Nodes.Where(n => n.OpType == "Conv").ToList();
        var bns = file.Nodes.Where(n => n.OpType == "BatchNormalization").ToList();
        string expected = $"a ResNet with basic blocks [{string.Join(", ", _blocks)}]";
        if (convs.Count != order.Count || bns.Count != order.Count)
            throw new InvalidDataException(
                $"'{file.Source}' does not match {expected}: it has {convs.Count} Conv and {bns.Count} BatchNormalization nodes, the model needs {order.Count} of each.");

        var sources = new Dictionary<string, WeightAssignment.Source>(StringComparer.Ordinal);
        void Add(string key, string initName)
        {
            var init = file.RequireFloat(initName);
            sources[key] = new(init.FloatData!, init.Shape, $"initializer '{init.Name}'");
        }
        for (int k = 0; k < order.Count; k++)
        {
            var (convName, bnName, stride) = order[k];
            var conv = convs[k];
            if (conv.Inputs.Count != 2)
                throw new InvalidDataException($"'{file.Source}' does not match {expected}: Conv node {k} has {conv.Inputs.Count} inputs (a bias?), '{convName}' has no bias.");
            if (conv.IntListAttributes.TryGetValue("strides", out var strides) && strides.Any(x => x != stride))
                throw new InvalidDataException($"'{file.Source}' does not match {expected}: Conv node {k} ('{convName}') has strides [{string.Join(", ", strides)}], expected {stride}.");
            Add($"{convName}.weight", conv.Inputs[1]);
            var bn = bns[k];
            if (bn.Inputs.Count != 5)
                throw new InvalidDataException($"'{file.Source}' does not match {expected}: BatchNormalization node {k} has {bn.Inputs.Count} inputs, expected 5.");
            Add($"{bnName}.weight", bn.Inputs[1]);
            Add($"{bnName}.bias", bn.Inputs[2]);
            Add($"{bnName}.running_mean", bn.Inputs[3]);
            Add($"{bnName}.running_var", bn.Inputs[4]);
        }
        WeightAssignment.Assign(this, sources, file.Source, expected);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(ForwardFrom(ForwardStages(input, 5), 5));
    }

    /// <summary>
    /// Runs only the first <paramref name="stages"/> stages (numbered as in <see cref="FreezeStages"/>: 1 = the
    /// stem with its max pool, 1 + s = the stem and layer1..layer s) and returns their feature map
    /// [B, C, H', W'], not pooled. With <see cref="ForwardFrom"/> this lets frozen leading stages be computed
    /// once and cached: <c>ForwardFrom(ForwardStages(x, n), n)</c> equals <c>forward(x)</c>.
    /// </summary>
    /// <param name="input">Images [B, C, H, W].</param>
    /// <param name="stages">1 to 5.</param>
    public Tensor ForwardStages(Tensor input, int stages)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4)
            throw new ArgumentException($"ResNet takes images [B, C, H, W], got {input.dim()} dimensions.", nameof(input));
        if (stages < 1 || stages > 5)
            throw new ArgumentOutOfRangeException(nameof(stages), stages, "stages must be between 1 (the stem) and 5 (the stem and all four layers).");
        using var scope = NewDisposeScope();
        var x = _padding == ResNetPadding.CntkSame ? F.pad(input, (3L, 2L, 3L, 2L)) : input;
        x = bn1.call(conv1.call(x)).relu_();
        x = _padding == ResNetPadding.CntkSame
            ? F.max_pool2d(F.pad(x, (1L, 0L, 1L, 0L), value: double.NegativeInfinity), 3, 2)
            : F.max_pool2d(x, 3, 2, 1);
        var layers = new[] { layer1, layer2, layer3, layer4 };
        for (int s = 0; s < stages - 1; s++) x = layers[s].call(x);
        return scope.MoveToOuter(x);
    }

    /// <summary>
    /// Continues from the feature map that <see cref="ForwardStages"/> returned for <paramref name="completedStages"/>
    /// stages: runs the remaining layers and the global average pool, giving [B, 512].
    /// </summary>
    /// <param name="features">The feature map after <paramref name="completedStages"/> stages [B, C, H', W'].</param>
    /// <param name="completedStages">1 to 5 (5: only the pooling is left).</param>
    public Tensor ForwardFrom(Tensor features, int completedStages)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (completedStages < 1 || completedStages > 5)
            throw new ArgumentOutOfRangeException(nameof(completedStages), completedStages, "completedStages must be between 1 (the stem) and 5 (the stem and all four layers).");
        long expectedChannels = completedStages == 1 ? 64 : Widths[completedStages - 2];
        if (features.dim() != 4 || features.shape[1] != expectedChannels)
            throw new ArgumentException(
                $"After {completedStages} stage(s) the feature map is [B, {expectedChannels}, H, W], got [{string.Join(", ", features.shape)}].", nameof(features));
        using var scope = NewDisposeScope();
        var x = features;
        var layers = new[] { layer1, layer2, layer3, layer4 };
        for (int s = completedStages - 1; s < 4; s++) x = layers[s].call(x);
        return scope.MoveToOuter(x.mean(new long[] { 2, 3 }));
    }

    private nn.Module[][] StageModules() => new[]
    {
        new nn.Module[] { conv1, bn1 },
        new nn.Module[] { layer1 }, new nn.Module[] { layer2 }, new nn.Module[] { layer3 }, new nn.Module[] { layer4 },
    };

    private void InitializeWeights()
    {
        using var noGrad = no_grad();
        foreach (var m in modules().OfType<Conv2d>())
            nn.init.kaiming_normal_(m.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
    }
}

/// <summary>Two 3x3 convolutions with BatchNorm and a residual connection (projected when the shape changes).</summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;
    private readonly bool _padBeforeConv1;

    internal BasicBlock(long inWidth, long outWidth, long stride, ResNetPadding padding) : base(nameof(BasicBlock))
    {
        _padBeforeConv1 = padding == ResNetPadding.CntkSame && stride == 2;
        conv1 = nn.Conv2d(inWidth, outWidth, 3, stride: stride, padding: _padBeforeConv1 ? 0 : 1, bias: false);
        bn1 = nn.BatchNorm2d(outWidth);
        conv2 = nn.Conv2d(outWidth, outWidth, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outWidth);
        if (stride != 1 || inWidth != outWidth)
            downsample = nn.Sequential(nn.Conv2d(inWidth, outWidth, 1, stride: stride, bias: false), nn.BatchNorm2d(outWidth));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = _padBeforeConv1 ? F.pad(x, (1L, 0L, 1L, 0L)) : x;
        h = bn1.call(conv1.call(h)).relu_();
        h = bn2.call(conv2.call(h));
        var shortcut = downsample is null ? x : downsample.call(x);
        return scope.MoveToOuter((h + shortcut).relu_());
    }
}
