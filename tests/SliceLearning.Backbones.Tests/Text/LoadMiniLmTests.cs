using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SliceLearning.Backbones.Text;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Text;

/// <summary><see cref="BertEncoder.LoadMiniLm"/> on the real package, and CLS pooling against OnnxRuntime.</summary>
[Collection("Sequential")]
public sealed class LoadMiniLmTests
{
    public LoadMiniLmTests() => ComputeDevice.SetCpuThreads(1);

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Text)> Messages { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public void LoadMiniLm_FromThePackage_GivesThePretrainedWeights_AndTheChosenOptions()
    {
        var logger = new ListLogger();
        using var loaded = BertEncoder.LoadMiniLm(TestWeights.MiniLmPackageDirectory, BertPooling.Cls, dropout: 0.0, logger: logger);
        Assert.Equal((BertPooling.Cls, 0.0, 6, 384, 384L), (loaded.Options.Pooling, loaded.Options.Dropout, loaded.Options.Layers, loaded.Options.HiddenSize, loaded.OutputWidth));
        // Every tensor equals the one read from the package's ONNX graph by the parity tests.
        var expected = MiniLmParityTests.SharedEncoder.state_dict();
        var actual = loaded.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, t) in actual) Assert.True(t.allclose(expected[name], rtol: 0, atol: 0), $"{name} differs");
        var message = Assert.Single(logger.Messages);
        Assert.Contains("BertEncoder", message.Text);
        Assert.Contains(TestWeights.MiniLmAssembly, message.Text);
        // A missing path is named.
        var missing = Assert.Throws<FileNotFoundException>(() => BertEncoder.LoadMiniLm("/nonexistent/minilm"));
        Assert.Contains("/nonexistent/minilm", missing.Message);
    }

    [Fact]
    public void ClsPooling_IsTheFirstTokensState_AsOnnxRuntimeComputesIt()
    {
        var tok = MiniLmParityTests.Tokenizer.Value;
        using var batch = tok.EncodeBatch(new[] { "A cyclist crosses the road.", "The stock market fell sharply today, again." });
        long b = batch.shape[0], l = batch.shape[2];
        var dims = new[] { (int)b, (int)l };
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(batch.select(1, 0).contiguous().data<long>().ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(batch.select(1, 1).contiguous().data<long>().ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(batch.select(1, 2).contiguous().data<long>().ToArray(), dims)),
        };
        using var session = TestWeights.OrtSession(TestWeights.MiniLmOnnx);
        using var results = session.Run(inputs);
        float[] ortHidden = results.Single(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();

        var enc = MiniLmParityTests.SharedEncoder;
        enc.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var hidden = enc.EncodeTokens(batch.select(1, 0), batch.select(1, 1), batch.select(1, 2));
        float[] cls = enc.Pool(hidden, batch.select(1, 1), BertPooling.Cls).data<float>().ToArray();
        Assert.Equal(b * 384, cls.Length);
        double maxDiff = 0;
        for (int i = 0; i < b; i++)
            for (int h = 0; h < 384; h++)
                maxDiff = Math.Max(maxDiff, Math.Abs(cls[i * 384 + h] - ortHidden[i * l * 384 + h]));   // token 0 of row i
        Assert.True(maxDiff <= 1e-4, $"CLS state max abs diff {maxDiff:E2}");
        // An encoder built with CLS pooling returns exactly that from forward, and it is not the mean.
        using var clsEncoder = new BertEncoder(new BertOptions { Pooling = BertPooling.Cls });
        clsEncoder.load_state_dict(enc.state_dict());
        clsEncoder.eval();
        var forward = clsEncoder.call(batch);
        Assert.True(forward.allclose(tensor(cls, new long[] { b, 384 }), rtol: 0, atol: 0));
        Assert.False(forward.allclose(enc.Pool(hidden, batch.select(1, 1), BertPooling.Mean), atol: 1e-2));
    }
}
