using SliceLearning.Backbones.Vision;
using SliceLearning.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Vision;

[Collection("Sequential")]
public sealed class ResNetTests
{
    private static readonly Lazy<ResNet> Pretrained = new(() => ResNet.LoadMlNetResNet18(TestWeights.ResNet18PackageDirectory));
    private readonly ITestOutputHelper _output;

    public ResNetTests(ITestOutputHelper output)
    {
        _output = output;
        ComputeDevice.SetCpuThreads(1);
    }

    private static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Fact]
    public void ResNet18_FromScratch_HasTorchvisionParameterCount_AndTakesAnySize()
    {
        torch.manual_seed(1);
        using var net = ResNet.ResNet18();
        // torchvision resnet18 has 11,689,512 parameters, 513,000 of them in the fc layer this backbone leaves out.
        Assert.Equal(11_176_512L, Count(net));
        Assert.Equal(512L, net.OutputWidth);
        Assert.Contains("layer2.0.downsample.0.weight", net.named_parameters().Select(p => p.name));
        net.eval();
        using var _ = no_grad();
        using var x = randn(2, 3, 40, 56);
        using var y = net.call(x);
        Assert.Equal(new long[] { 2, 512 }, y.shape);
        using var grey = ResNet.ResNet18(inputChannels: 1);
        grey.eval();
        using var g = grey.call(randn(1, 1, 28, 28));
        Assert.Equal(new long[] { 1, 512 }, g.shape);
    }

    [Fact]
    public void PretrainedResNet18_HasCntkLayout()
    {
        var net = Pretrained.Value;
        Assert.Equal(15_897_152L, Count(net)); // 22 convolutions and BatchNorms, an extra block in stage 4
        Assert.Equal(11_648L, net.named_buffers().Where(b => b.buffer.dtype == ScalarType.Float32).Sum(b => b.buffer.numel()));
        Assert.Contains("layer4.2.conv2.weight", net.named_parameters().Select(p => p.name));
    }

    [Fact]
    public void FreezeStages_StopsGradientsAndBatchNormStatistics_OfTheFrozenStagesOnly()
    {
        torch.manual_seed(2);
        using var net = ResNet.ResNet18();
        net.FreezeStages(2); // the stem and layer1
        net.train();
        var stemMean = net.named_buffers().Single(b => b.name == "bn1.running_mean").buffer;
        var l1Mean = net.named_buffers().Single(b => b.name == "layer1.0.bn1.running_mean").buffer;
        var l2Mean = net.named_buffers().Single(b => b.name == "layer2.0.bn1.running_mean").buffer;
        using var stemBefore = stemMean.clone();
        using var l1Before = l1Mean.clone();
        using var l2Before = l2Mean.clone();
        using (var scope = NewDisposeScope())
            net.call(randn(2, 3, 32, 32)).sum().backward();
        foreach (var (name, p) in net.named_parameters())
        {
            bool frozen = name.StartsWith("conv1", StringComparison.Ordinal) || name.StartsWith("bn1", StringComparison.Ordinal) || name.StartsWith("layer1.", StringComparison.Ordinal);
            Assert.Equal(!frozen, p.requires_grad);
            Assert.Equal(frozen, p.grad is null);
        }
        Assert.True(stemMean.allclose(stemBefore, rtol: 0, atol: 0));
        Assert.True(l1Mean.allclose(l1Before, rtol: 0, atol: 0));
        Assert.False(l2Mean.allclose(l2Before, rtol: 0, atol: 0));
        Assert.Equal(2, net.FrozenStages);
        net.FreezeStages(0);
        Assert.All(net.parameters(), p => Assert.True(p.requires_grad));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.FreezeStages(6));
    }

    [Fact]
    public void PretrainedResNet18_GradientsReachEveryParameter_AndFineTuningLowersTheLoss()
    {
        var net = Pretrained.Value;
        var snapshot = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        try
        {
            torch.manual_seed(4);
            // Eight 64x64 images, two classes told apart by a brightness pattern.
            using var images = rand(8, 3, 64, 64) * 100 - 50;
            using var labels = tensor(new long[] { 0, 1, 0, 1, 0, 1, 0, 1 });
            using (no_grad())
                images[TensorIndex.Slice(1, null, 2)].add_(30);
            using var head = nn.Linear(512, 2);
            net.train();
            using var opt = SliceLearning.Training.OptimizerOptions.AdamW(1e-3).CreateOptimizer(net.parameters().Concat(head.parameters()));
            var losses = new List<float>();
            for (int step = 0; step < 5; step++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                var loss = nn.functional.cross_entropy(head.call(net.call(images)), labels);
                loss.backward();
                if (step == 0)
                {
                    var names = net.named_parameters().ToList();
                    Assert.Equal(66, names.Count);
                    foreach (var (name, p) in names)
                        Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} gets no gradient");
                }
                opt.step();
                losses.Add(loss.item<float>());
            }
            _output.WriteLine("ResNet-18 fine-tuning losses: " + string.Join(" ", losses.Select(l => l.ToString("F4"))));
            // Seeded (images, head) and single-threaded: this run's losses, from about ln 2 to 3e-4.
            float[] expected = { 0.9229381f, 0.04146103f, 0.006573997f, 0.0005969084f, 0.00027098495f };
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(losses[i] - expected[i]) <= 1e-4 * expected[i], $"step {i + 1}: loss {losses[i]:R}, expected {expected[i]:R}");
        }
        finally
        {
            using var noGrad = no_grad();
            foreach (var (name, t) in net.state_dict()) t.copy_(snapshot[name]);
            foreach (var t in snapshot.Values) t.Dispose();
            net.eval();
        }
    }

    [Fact]
    public void Preprocessing_SubtractsTheBgrMeanImage_AtAnySize()
    {
        using var prep = ResNet18Preprocessing.Load(TestWeights.ResNet18PackageDirectory);
        using var black = zeros(1, 3, 224, 224);
        using var small = zeros(2, 3, 112, 96);
        foreach (var image in new[] { black, small, black })
        {
            using var x = prep.Apply(image);
            Assert.Equal(image.shape, x.shape);
            // A black image gives minus the mean image; its channel means are B 103.06, G 115.90, R 123.15 (BGR order).
            float[] channelMeans = (-x).mean(new long[] { 0, 2, 3 }).data<float>().ToArray();
            Assert.Equal(103.06, channelMeans[0], 0.6);
            Assert.Equal(115.90, channelMeans[1], 0.6);
            Assert.Equal(123.15, channelMeans[2], 0.6);
        }
        using var rgb = tensor(new float[] { 10, 20, 30 }, new long[] { 1, 3, 1, 1 }).expand(1, 3, 224, 224);
        using var bgr = prep.Apply(rgb) + prep.MeanImage;
        Assert.Equal(new float[] { 30, 20, 10 }, bgr[0, TensorIndex.Colon, 5, 7].data<float>().ToArray());
    }

    [Fact]
    public void ForwardStages_ThenForwardFrom_EqualsForward_AtEveryCut()
    {
        var net = Pretrained.Value;
        net.eval();
        using var _ = no_grad();
        torch.manual_seed(5);
        using var x = randn(2, 3, 64, 64) * 50;
        using var full = net.call(x);
        long[] channels = { 64, 64, 128, 256, 512 };
        for (int stages = 1; stages <= 5; stages++)
        {
            using var map = net.ForwardStages(x, stages);
            Assert.Equal(channels[stages - 1], map.shape[1]);
            using var rest = net.ForwardFrom(map, stages);
            Assert.True(full.allclose(rest, rtol: 1e-5, atol: 1e-5), $"cut after {stages} stage(s)");
        }
        using var wrong = zeros(2, 128, 4, 4);
        Assert.Contains("[B, 256, H, W]", Assert.Throws<ArgumentException>(() => net.ForwardFrom(wrong, 4)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.ForwardStages(x, 0));
    }

    [Fact]
    public void NonImageInput_IsRejected()
    {
        using var net = ResNet.ResNet18();
        using var x = zeros(3, 32);
        Assert.Contains("[B, C, H, W]", Assert.Throws<ArgumentException>(() => net.call(x)).Message);
        Assert.Throws<ArgumentException>(() => new ResNet(new[] { 2, 2, 2 }));
    }
}
