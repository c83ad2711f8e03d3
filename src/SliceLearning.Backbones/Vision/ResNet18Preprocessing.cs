using SliceLearning.Backbones.Import;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Vision;

/// <summary>
/// The input transform the ML.NET ResNet-18 weights were trained with (the package's
/// <c>ResNetPreprocess.onnx</c>): RGB in 0..255 becomes BGR, minus a per-pixel mean image
/// [3, 224, 224] (channel means B 103.06, G 115.90, R 123.15); there is no division by a std.
/// Other image sizes get the mean image resized bilinearly.
/// </summary>
public sealed class ResNet18Preprocessing : IDisposable
{
    private readonly Tensor _meanImage;

    private ResNet18Preprocessing(Tensor meanImage) => _meanImage = meanImage;

    /// <summary>The BGR mean image [1, 3, 224, 224].</summary>
    public Tensor MeanImage => _meanImage;

    /// <summary>Loads the mean image from <c>ResNetPreprocess.onnx</c>.</summary>
    /// <param name="path">The ResNet-18 package directory or the preprocessing .onnx file; null means
    /// <see cref="PretrainedWeights.DefaultResNet18PackageDirectory"/>.</param>
    /// <exception cref="InvalidDataException">The file lacks a [1, 3, 224, 224] float MeanImage.</exception>
    public static ResNet18Preprocessing Load(string? path = null)
    {
        var file = OnnxWeightFile.Load(PretrainedWeights.ResolveResNet18(path, preprocess: true));
        var mean = file.RequireFloat("MeanImage");
        if (!mean.Shape.SequenceEqual(new long[] { 1, 3, 224, 224 }))
            throw new InvalidDataException($"'{file.Source}': MeanImage has shape {mean.ShapeText}, expected [1, 3, 224, 224].");
        return new ResNet18Preprocessing(tensor(mean.FloatData!, mean.Shape, dtype: ScalarType.Float32));
    }

    /// <summary>Transforms RGB images [B, 3, H, W] with values 0..255 into the network's input.</summary>
    public Tensor Apply(Tensor rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        if (rgb.dim() != 4 || rgb.shape[1] != 3)
            throw new ArgumentException($"Expected RGB images [B, 3, H, W], got [{string.Join(", ", rgb.shape)}].", nameof(rgb));
        using var scope = NewDisposeScope();
        var bgr = rgb.to(ScalarType.Float32).flip(1);
        var mean = _meanImage.to(bgr.device);
        if (rgb.shape[2] != 224 || rgb.shape[3] != 224)
            mean = nn.functional.interpolate(mean, new[] { rgb.shape[2], rgb.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
        return scope.MoveToOuter(bgr - mean);
    }

    /// <inheritdoc />
    public void Dispose() => _meanImage.Dispose();
}
