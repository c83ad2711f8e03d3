using SliceLearning.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Simple;

/// <summary>
/// A basic convolutional network for small grey images (MNIST-sized by default): two blocks of
/// 5x5 convolution, ReLU and 2x2 max pooling, then one fully connected hidden layer with ReLU.
/// Input: [B, H*W] flattened pixels or [B, 1, H, W]; output [B, <see cref="OutputWidth"/>].
/// On 28x28 images with the default widths (16, 32, 64) it has about 46,000 parameters.
/// </summary>
public sealed class SmallCnnBackbone : nn.Module<Tensor, Tensor>, IBackbone
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc;
    private readonly Dropout? dropout;
    private readonly long _flat;

    /// <summary>Creates the network.</summary>
    /// <param name="height">Image height in pixels (at least 12).</param>
    /// <param name="width">Image width in pixels (at least 12).</param>
    /// <param name="channels1">Filters of the first convolution.</param>
    /// <param name="channels2">Filters of the second convolution.</param>
    /// <param name="hidden">Width of the fully connected hidden layer (the output width).</param>
    /// <param name="dropout">Dropout before the fully connected layer (train mode only), in [0, 1); 0 for none.</param>
    public SmallCnnBackbone(int height = 28, int width = 28, int channels1 = 16, int channels2 = 32, int hidden = 64, double dropout = 0)
        : base(nameof(SmallCnnBackbone))
    {
        if (height < 12) throw new ArgumentOutOfRangeException(nameof(height), height, "height must be at least 12.");
        if (width < 12) throw new ArgumentOutOfRangeException(nameof(width), width, "width must be at least 12.");
        ArgumentOutOfRangeException.ThrowIfLessThan(channels1, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels2, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        Height = height;
        Width = width;
        conv1 = nn.Conv2d(1, channels1, 5);
        conv2 = nn.Conv2d(channels1, channels2, 5);
        long h = ((height - 4) / 2 - 4) / 2, w = ((width - 4) / 2 - 4) / 2;
        _flat = channels2 * h * w;
        fc = nn.Linear(_flat, hidden);
        if (dropout > 0) this.dropout = nn.Dropout(dropout);
        OutputWidth = hidden;
        RegisterComponents();
    }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <inheritdoc />
    public long OutputWidth { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        bool flat = input.dim() == 2 && input.shape[1] == (long)Height * Width;
        bool image = input.dim() == 4 && input.shape[1] == 1 && input.shape[2] == Height && input.shape[3] == Width;
        if (!flat && !image)
            throw new ArgumentException($"SmallCnnBackbone takes [B, {Height * Width}] or [B, 1, {Height}, {Width}], got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        var x = flat ? input.reshape(input.shape[0], 1, Height, Width) : input;
        x = nn.functional.max_pool2d(nn.functional.relu(conv1.call(x)), 2);
        x = nn.functional.max_pool2d(nn.functional.relu(conv2.call(x)), 2);
        x = x.reshape(x.shape[0], _flat);
        if (dropout is not null) x = dropout.call(x);
        return scope.MoveToOuter(nn.functional.relu(fc.call(x)));
    }
}
