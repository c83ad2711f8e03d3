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
        // The model's loss is SRAM's loss on the encoder's output: the same SRAM weights over an
        // identity backbone, fed the encoder's [B, 16] output, give the same number.
        using var overFeatures = SameSramOverIdentity(model, 16, new[] { "question", "short" });
        model.eval();
        using (var evalLoss = model.Loss(input, labels, membership))
        using (var features = encoder.call(input))
        using (var reference = overFeatures.Loss(features, labels, membership))
        {
            Assert.True(evalLoss.item<float>() > 0.1f);
            Assert.Equal(reference.item<float>(), evalLoss.item<float>(), 1e-6f);
        }
        model.train();
        using var loss = model.Loss(input, labels, membership);
        loss.backward();
        Assert.All(encoder.named_parameters().Where(p => !p.name.StartsWith("pooler", StringComparison.Ordinal)),
            p => Assert.True(p.parameter.grad is not null && p.parameter.grad.abs().sum().item<float>() > 0, p.name));
    }

    /// <summary>A SliceAwareModel over nn.Identity with <paramref name="model"/>'s SRAM weights and options.</summary>
    private static SliceAwareModel SameSramOverIdentity(SliceAwareModel model, long width, string[] slices)
    {
        var options = model.Options;
        var copy = SliceAwareModel.Create(nn.Identity(), width, model.NumClasses, slices, o =>
        {
            foreach (var p in typeof(SliceAwareOptions).GetProperties().Where(p => p.CanWrite)) p.SetValue(o, p.GetValue(options));
        });
        var source = model.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, t) in copy.state_dict()) t.copy_(source[name]);
        copy.eval();
        return copy;
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
        // VANILLA's logits are its linear head applied to the CNN's 12 features.
        var weights = cnn.state_dict();
        cnn.eval();
        using (var cnnFeatures = cnn.Backbone.call(ids))
        using (var byHand = cnnFeatures.matmul(weights["prediction_head.weight"].t()) + weights["prediction_head.bias"])
        using (var cnnLogits = cnn.Logits(ids))
            Assert.True(cnnLogits.allclose(byHand, rtol: 1e-5, atol: 1e-6));

        var script = TorchScriptBackbone.Load(TestWeights.FixturePath("tiny_mlp.pt"), outputWidth: 3);
        using var model = SliceAwareModel.Create(script, numClasses: 2, new[] { "a" }, o => o.ExpertSize = 4);
        using var x = randn(5, 4);
        using var y = model.Logits(x);
        Assert.Equal(new long[] { 5, 2 }, y.shape);
        // SRAM over the script's 3 outputs: the same SRAM over an identity backbone fed those outputs.
        using var overFeatures = SameSramOverIdentity(model, 3, new[] { "a" });
        model.eval();
        using var evalLogits = model.Logits(x);
        using var features = script.call(x);
        using var expected = overFeatures.Logits(features);
        Assert.True(evalLogits.allclose(expected, rtol: 0, atol: 0));
    }
}
