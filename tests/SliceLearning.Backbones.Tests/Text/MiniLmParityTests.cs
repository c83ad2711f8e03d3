using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SliceLearning.Backbones.Text;
using SliceLearning.Runtime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Text;

/// <summary>The TorchSharp MiniLM against OnnxRuntime running the package's own ONNX graph.</summary>
[Collection("Sequential")]
public sealed class MiniLmParityTests
{
    private static readonly Lazy<BertEncoder> Encoder = new(() =>
    {
        var encoder = new BertEncoder();
        encoder.LoadOnnxWeights(TestWeights.MiniLmFile);
        return encoder;
    });
    internal static BertEncoder SharedEncoder => Encoder.Value;
    internal static readonly Lazy<WordPieceTokenizer> Tokenizer = new(() => WordPieceTokenizer.LoadMiniLm(TestWeights.MiniLmPackageDirectory));

    private readonly ITestOutputHelper _output;

    public MiniLmParityTests(ITestOutputHelper output)
    {
        _output = output;
        ComputeDevice.SetCpuThreads(1);
    }

    [Fact]
    public void LastHiddenStateAndPooler_MatchOnnxRuntime_OnPaddedPairBatch()
    {
        var tok = Tokenizer.Value;
        using var batch = tok.EncodeBatch(new[]
        {
            ("A cyclist crosses the road.", "A person on a bicycle is crossing the street."),
            ("The stock market fell sharply today.", "Zoë's café — naïve cyclists at 42km/h!"),
            ("Short.", "x"),
        }, maxLength: 64);
        long b = batch.shape[0], l = batch.shape[2];
        long[] ids = batch.select(1, 0).contiguous().data<long>().ToArray();
        long[] mask = batch.select(1, 1).contiguous().data<long>().ToArray();
        long[] types = batch.select(1, 2).contiguous().data<long>().ToArray();
        Assert.Contains(0L, mask); // the batch really is padded
        Assert.Contains(1L, types); // and has second segments

        using var session = TestWeights.OrtSession(TestWeights.MiniLmOnnx);
        var dims = new[] { (int)b, (int)l };
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, dims)),
        };
        using var results = session.Run(inputs);
        float[] ortHidden = results.Single(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
        float[] ortPooler = results.Single(r => r.Name != "last_hidden_state").AsTensor<float>().ToArray();

        var enc = Encoder.Value;
        enc.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var hidden = enc.EncodeTokens(batch.select(1, 0), batch.select(1, 1), batch.select(1, 2));
        Assert.Equal(new[] { b, l, 384L }, hidden.shape);
        float[] tsHidden = hidden.contiguous().data<float>().ToArray();

        // Compare on real tokens (padding positions attend over padding and carry no meaning).
        double maxDiff = 0, maxAbs = 0;
        for (long i = 0; i < b * l; i++)
        {
            if (mask[i] == 0) continue;
            for (int h = 0; h < 384; h++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(tsHidden[i * 384 + h] - ortHidden[i * 384 + h]));
                maxAbs = Math.Max(maxAbs, Math.Abs(ortHidden[i * 384 + h]));
            }
        }
        Assert.True(maxAbs > 1.0, $"reference values look degenerate (max |x| = {maxAbs})");
        Assert.True(maxDiff <= 1e-4, $"last_hidden_state max abs diff {maxDiff:E2}");

        var pooled = enc.Pool(hidden, batch.select(1, 1), BertPooling.Pooler);
        float[] tsPooler = pooled.data<float>().ToArray();
        double poolerDiff = tsPooler.Zip(ortPooler, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(poolerDiff <= 1e-4, $"pooler max abs diff {poolerDiff:E2}");
        _output.WriteLine($"MiniLM parity, batch {b}x{l}: last_hidden_state max abs diff {maxDiff:E2} (max |value| {maxAbs:F2}), pooler {poolerDiff:E2}");
    }
}
