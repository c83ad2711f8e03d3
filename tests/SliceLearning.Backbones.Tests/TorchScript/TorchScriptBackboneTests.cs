using System.Globalization;
using SliceLearning.Backbones.TorchScript;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.TorchScript;

/// <summary>Fixtures/tiny_mlp.pt was written by scripts/make-torchscript-fixture.py (PyTorch 1.13, Debian's python3-torch).</summary>
[Collection("Sequential")]
public sealed class TorchScriptBackboneTests
{
    private static readonly float[] Input = { 1, 2, 3, 4, -1, 0.5f, 0, 2 };

    public TorchScriptBackboneTests() => ComputeDevice.SetCpuThreads(1);

    private static string Fixture => TestWeights.FixturePath("tiny_mlp.pt");

    [Fact]
    public void LoadedModule_ReproducesPyTorchsOutput_AndTheHandComputedOne()
    {
        using var x = tensor(Input, new long[] { 2, 4 });
        using var backbone = TorchScriptBackbone.Load(Fixture, x);
        Assert.Equal(3L, backbone.OutputWidth);
        backbone.eval();
        using var _ = no_grad();
        float[] y = backbone.call(x).data<float>().ToArray();

        float[] pytorch = File.ReadAllLines(TestWeights.FixturePath("tiny_mlp_expected.txt"))
            .Where(l => !l.StartsWith('#'))
            .SelectMany(l => l.Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(6, pytorch.Length);
        for (int i = 0; i < 6; i++) Assert.Equal(pytorch[i], y[i], 1e-6f);

        // The script sets every tensor to w[i] = 0.01 (i + 1) - 0.1 in row-major order.
        static float[] W(int n) => Enumerable.Range(0, n).Select(i => 0.01f * (i + 1) - 0.1f).ToArray();
        float[] w1 = W(32), b1 = W(8), w2 = W(24), b2 = W(3);
        for (int r = 0; r < 2; r++)
        {
            var h = new double[8];
            for (int j = 0; j < 8; j++)
            {
                double s = b1[j];
                for (int k = 0; k < 4; k++) s += w1[j * 4 + k] * Input[r * 4 + k];
                h[j] = Math.Tanh(s);
            }
            for (int o = 0; o < 3; o++)
            {
                double s = b2[o];
                for (int j = 0; j < 8; j++) s += w2[o * 8 + j] * h[j];
                Assert.Equal(s, y[r * 3 + o], 1e-5);
            }
        }
    }

    [Fact]
    public void Parameters_AreTrainableFromCSharp()
    {
        using var backbone = TorchScriptBackbone.Load(Fixture, outputWidth: 3);
        var parameters = backbone.named_parameters().ToList();
        Assert.Equal(4, parameters.Count);
        Assert.Contains(parameters, p => p.name.EndsWith("fc1.weight", StringComparison.Ordinal));
        backbone.train();
        using var x = tensor(Input, new long[] { 2, 4 });
        using var target = zeros(2, 3);
        using var opt = SliceLearning.Training.OptimizerOptions.Sgd(0.5).CreateOptimizer(backbone.parameters());
        float first = 0, last = 0;
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.mse_loss(backbone.call(x), target);
            loss.backward();
            if (step == 0)
                Assert.All(backbone.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
            opt.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        // The first loss is the mean square of PyTorch's own output for this input (target 0); after
        // four plain SGD steps this run gives 0.0015501808.
        float[] pytorch = File.ReadAllLines(TestWeights.FixturePath("tiny_mlp_expected.txt"))
            .Where(l => !l.StartsWith('#'))
            .SelectMany(l => l.Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
        double meanSquare = pytorch.Average(v => (double)v * v);
        Assert.Equal(0.025480606, first, 1e-8);
        Assert.Equal(meanSquare, first, 1e-6);
        Assert.Equal(0.0015501808, last, 1e-8);
    }

    [Fact]
    public void NonTorchScriptFile_GivesAClearError()
    {
        var ex = Assert.Throws<InvalidDataException>(() => TorchScriptBackbone.Load(TestWeights.FixturePath("tiny_mlp_expected.txt"), outputWidth: 3));
        Assert.Contains("is not a TorchScript file libtorch can load", ex.Message);
        Assert.Throws<FileNotFoundException>(() => TorchScriptBackbone.Load("/nonexistent/model.pt", outputWidth: 3));
    }
}
