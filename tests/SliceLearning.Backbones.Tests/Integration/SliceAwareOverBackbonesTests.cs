using SliceLearning.Backbones.Simple;
using SliceLearning.Backbones.Text;
using SliceLearning.Backbones.TorchScript;
using SliceLearning.Models;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Integration;

/// <summary>The backbones plug into the core's SliceAwareModel through their declared output width.</summary>
[Collection("Sequential")]
public sealed class SliceAwareOverBackbonesTests
{
    public SliceAwareOverBackbonesTests() => ComputeDevice.SetCpuThreads(1);

    [Fact]
    public void SliceAwareModel_OverABertEncoder_TrainsTheEncoderThroughTheSliceLoss()
    {
        torch.manual_seed(7);
        var encoder = new BertEncoder(new BertOptions { Layers = 1, HiddenSize = 16, AttentionHeads = 2, IntermediateSize = 32, VocabularySize = 30522 });
        using var model = SliceAwareModel.Create(encoder, numClasses: 2, new[] { "question", "short" }, o => o.ExpertSize = 8);
        Assert.Equal(16L, model.BackboneWidth);
        using var input = SliceLearning.Backbones.Tests.Text.MiniLmParityTests.Tokenizer.Value.EncodeBatch(new[] { "Is it raining?", "No.", "The road is wet after the storm." });
        using var labels = tensor(new long[] { 1, 0, 1 });
        using var membership = tensor(new float[] { 1, 1, 0, 1, 0, 1, 1, 0, 0 }, new long[] { 3, 3 });
        model.train();
        using var loss = model.Loss(input, labels, membership);
        Assert.True(loss.item<float>() > 0);
        loss.backward();
        Assert.All(encoder.named_parameters().Where(p => !p.name.StartsWith("pooler", StringComparison.Ordinal)),
            p => Assert.True(p.parameter.grad is not null && p.parameter.grad.abs().sum().item<float>() > 0, p.name));
    }

    [Fact]
    public void VanillaModel_OverTextCnnAndTorchScript_UsesTheirWidths()
    {
        torch.manual_seed(8);
        using var cnn = VanillaModel.Create(new TextCnnBackbone(100, embeddingWidth: 8, filtersPerWidth: 4), numClasses: 3);
        Assert.Equal(12L, cnn.BackboneWidth);
        using var ids = randint(1, 100, new long[] { 2, 9 }, dtype: ScalarType.Int64);
        using var logits = cnn.Logits(ids);
        Assert.Equal(new long[] { 2, 3 }, logits.shape);

        var script = TorchScriptBackbone.Load(TestWeights.FixturePath("tiny_mlp.pt"), outputWidth: 3);
        using var model = SliceAwareModel.Create(script, numClasses: 2, new[] { "a" }, o => o.ExpertSize = 4);
        using var x = randn(5, 4);
        using var y = model.Logits(x);
        Assert.Equal(new long[] { 5, 2 }, y.shape);
    }
}
