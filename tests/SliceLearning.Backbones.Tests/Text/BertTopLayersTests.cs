using SliceLearning.Backbones.Text;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Text;

[Collection("Sequential")]
public sealed class BertTopLayersTests
{
    public BertTopLayersTests() => ComputeDevice.SetCpuThreads(1);

    private static WordPieceTokenizer Tok => MiniLmParityTests.Tokenizer.Value;

    private static readonly string[] Texts = { "A cyclist crosses the road.", "Great coffee, but the bag arrived torn and half empty!", "Ok." };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    public void TopLayersOverCachedLowerLayers_EqualTheFullEncoder(int top)
    {
        var enc = MiniLmParityTests.SharedEncoder;
        enc.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var encoded = Texts.Select(t => Tok.Encode(t, 32)).ToArray();
        var expected = enc.call(WordPieceTokenizer.Stack(encoded));
        using var head = BertTopLayers.From(enc, top);
        head.eval();
        Assert.Equal(6 - top, head.LowerLayers);
        Assert.Equal(384, head.OutputWidth);
        var cached = BertTopLayers.CacheInputs(enc, encoded, head.LowerLayers, length: 40, batchSize: 2);
        Assert.Equal(new long[] { 3, 40, 385 }, cached.shape);
        var actual = head.call(cached);
        double diff = (actual - expected).abs().max().item<float>();
        Assert.True(diff < 1e-4, $"max abs diff {diff}");
    }

    [Fact]
    public void FromCopiesWeights_TrainingTheCopyLeavesTheEncoderUnchanged()
    {
        var enc = MiniLmParityTests.SharedEncoder;
        using var head = BertTopLayers.From(enc, 1);
        var before = enc.state_dict()["encoder.layer.5.output.dense.weight"].clone();
        using (no_grad()) foreach (var p in head.parameters()) p.add_(1.0f);
        Assert.True(before.eq(enc.state_dict()["encoder.layer.5.output.dense.weight"]).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => BertTopLayers.From(enc, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BertTopLayers.From(enc, 7));
        var ex = Assert.Throws<ArgumentException>(() => BertTopLayers.CacheInputs(enc, new[] { Tok.Encode("a b c d e f", 32) }, 5, length: 4));
        Assert.Contains("length = 4", ex.Message);
    }
}
