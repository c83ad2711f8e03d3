using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SliceLearning.Backbones.Vision;
using SliceLearning.Runtime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Vision;

/// <summary>The TorchSharp ResNet-18 and preprocessing against OnnxRuntime running the package's graphs.</summary>
[Collection("Sequential")]
public sealed class ResNetParityTests
{
    private readonly ITestOutputHelper _output;

    public ResNetParityTests(ITestOutputHelper output)
    {
        _output = output;
        ComputeDevice.SetCpuThreads(1);
    }

    [Fact]
    public void PreprocessingAndFeatures_MatchOnnxRuntime_OnTwoRandomImages()
    {
        torch.manual_seed(11);
        using var rgb = (torch.rand(2, 3, 224, 224) * 255).floor_();
        using var model = ResNet.LoadMlNetResNet18(TestWeights.ResNet18PackageDirectory);
        using var prep = ResNet18Preprocessing.Load(TestWeights.ResNet18PackageDirectory);
        model.eval();
        using var noGrad = no_grad();
        using var x = prep.Apply(rgb);
        using var features = model.call(x);
        Assert.Equal(new long[] { 2, 512 }, features.shape);

        using var prepSession = TestWeights.OrtSession(TestWeights.ResNet18PreprocessOnnx);
        using var netSession = TestWeights.OrtSession(TestWeights.ResNet18Onnx);
        double prepDiff = 0, featDiff = 0, maxFeature = 0;
        for (int i = 0; i < 2; i++)
        {
            float[] image = rgb[i].contiguous().data<float>().ToArray();
            var dims = new[] { 1, 3, 224, 224 };
            using var prepOut = prepSession.Run(new[] { NamedOnnxValue.CreateFromTensor("OriginalInput", new DenseTensor<float>(image, dims)) });
            float[] ortPrep = prepOut.Single().AsTensor<float>().ToArray();
            float[] tsPrep = x[i].contiguous().data<float>().ToArray();
            prepDiff = Math.Max(prepDiff, ortPrep.Zip(tsPrep, (a, b) => Math.Abs(a - b)).Max());

            using var netOut = netSession.Run(new[] { NamedOnnxValue.CreateFromTensor("Input247", new DenseTensor<float>(ortPrep, dims)) });
            float[] ortFeatures = netOut.Single().AsTensor<float>().ToArray();
            Assert.Equal(512, ortFeatures.Length);
            float[] tsFeatures = features[i].data<float>().ToArray();
            featDiff = Math.Max(featDiff, ortFeatures.Zip(tsFeatures, (a, b) => Math.Abs(a - b)).Max());
            maxFeature = Math.Max(maxFeature, ortFeatures.Max());
        }
        _output.WriteLine($"ResNet-18 parity, 2 random RGB images 224x224: preprocessing max abs diff {prepDiff:E2}, features {featDiff:E2} (max feature {maxFeature:F2})");
        Assert.True(maxFeature > 1.0, $"reference features look degenerate (max {maxFeature})");
        Assert.True(prepDiff <= 1e-4, $"preprocessing max abs diff {prepDiff:E2}");
        Assert.True(featDiff <= 1e-4, $"features max abs diff {featDiff:E2}");
    }
}
