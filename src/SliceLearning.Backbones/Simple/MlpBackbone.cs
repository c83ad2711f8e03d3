using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Simple;

/// <summary>
/// A multilayer perceptron over feature vectors [B, inputWidth]: Linear, ReLU and dropout per
/// hidden layer. Its output width is the last hidden width.
/// </summary>
public sealed class MlpBackbone : nn.Module<Tensor, Tensor>, IBackbone
{
    private readonly Sequential layers;

    /// <summary>Creates the MLP.</summary>
    /// <param name="inputWidth">Features per example.</param>
    /// <param name="hiddenWidths">Widths of the hidden layers (at least one); the last is the output width.</param>
    /// <param name="dropout">Dropout after each activation (train mode only), in [0, 1).</param>
    /// <param name="device">Where to place the parameters; null means the CPU.</param>
    public MlpBackbone(long inputWidth, IReadOnlyList<long> hiddenWidths, double dropout = 0.0, Device? device = null) : base(nameof(MlpBackbone))
    {
        ArgumentNullException.ThrowIfNull(hiddenWidths);
        if (inputWidth < 1) throw new ArgumentOutOfRangeException(nameof(inputWidth), inputWidth, "inputWidth must be at least 1.");
        if (hiddenWidths.Count == 0 || hiddenWidths.Any(w => w < 1))
            throw new ArgumentException($"hiddenWidths must hold at least one width of at least 1, got [{string.Join(", ", hiddenWidths)}].", nameof(hiddenWidths));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long width = inputWidth;
        for (int i = 0; i < hiddenWidths.Count; i++)
        {
            modules.Add(($"linear{i}", nn.Linear(width, hiddenWidths[i])));
            modules.Add(($"relu{i}", nn.ReLU()));
            if (dropout > 0) modules.Add(($"dropout{i}", nn.Dropout(dropout)));
            width = hiddenWidths[i];
        }
        InputWidth = inputWidth;
        OutputWidth = width;
        layers = nn.Sequential(modules);
        RegisterComponents();
        if (device is not null) this.to(device);
    }

    /// <summary>Features per example.</summary>
    public long InputWidth { get; }

    /// <inheritdoc />
    public long OutputWidth { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 2 || input.shape[1] != InputWidth)
            throw new ArgumentException($"MlpBackbone takes [B, {InputWidth}], got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(layers.call(input));
    }
}
