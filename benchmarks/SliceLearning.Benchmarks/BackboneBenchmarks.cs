using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SliceLearning.Backbones.Simple;
using SliceLearning.Backbones.Text;
using SliceLearning.Backbones.Vision;
using SliceLearning.Modules;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>A short in-process job: one warm-up and five measured runs, one invocation each.</summary>
public sealed class ShortInProcessConfig : ManualConfig
{
    public ShortInProcessConfig()
    {
        AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(1).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1).WithLaunchCount(1)
            .WithId("short-inprocess"));
    }
}

/// <summary>
/// CPU time of each backbone at batch 1 and 16: an inference forward (eval mode, no gradients) and a
/// training step (forward, a 2-class linear head, cross-entropy, backward, AdamW step). Divide by the
/// batch size for time per example. libtorch runs with <see cref="Threads"/> intra-op threads.
/// Inputs: MiniLM 64 tokens (random ids, no padding), ResNet-18 224x224 images, text CNN 64 tokens
/// over a 20k vocabulary with 100-d embeddings, MLP 256 -> 256 -> 128.
/// Run: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*BackboneBenchmarks*'
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class BackboneBenchmarks
{
    private nn.Module<Tensor, Tensor> _backbone = null!;
    private nn.Module<Tensor, Tensor> _head = null!;
    private optim.Optimizer _optimizer = null!;
    private Tensor _input = null!;
    private Tensor _labels = null!;

    [Params("MiniLM-L6 (pretrained)", "ResNet-18 (ML.NET pretrained)", "TextCNN", "MLP")]
    public string Backbone { get; set; } = "";

    [Params(1, 16)]
    public int Batch { get; set; }

    /// <summary>libtorch intra-op threads; 1 avoids OpenMP spin-waiting on a shared 2-core machine.</summary>
    [Params(1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ComputeDevice.SetCpuThreads(Threads);
        torch.manual_seed(1);
        (_backbone, _input) = Backbone switch
        {
            "MiniLM-L6 (pretrained)" => ((nn.Module<Tensor, Tensor>)BertEncoder.LoadMiniLm(), MiniLmInput(Batch, 64)),
            "ResNet-18 (ML.NET pretrained)" => (ResNet.LoadMlNetResNet18(), randn(Batch, 3, 224, 224) * 50),
            "TextCNN" => (new TextCnnBackbone(20_000), randint(1, 20_000, new long[] { Batch, 64 }, dtype: ScalarType.Int64)),
            "MLP" => (new MlpBackbone(256, new long[] { 256, 128 }), randn(Batch, 256)),
            _ => throw new InvalidOperationException(Backbone),
        };
        long width = ((IBackbone)_backbone).OutputWidth;
        _head = nn.Linear(width, 2);
        _labels = randint(0, 2, new long[] { Batch }, dtype: ScalarType.Int64);
        _optimizer = optim.AdamW(_backbone.parameters().Concat(_head.parameters()), lr: 1e-5);
    }

    internal static Tensor MiniLmInput(long batch, long length)
    {
        var ids = randint(1000, 30_000, new long[] { batch, length }, dtype: ScalarType.Int64);
        ids[TensorIndex.Colon, 0] = tensor(101L);
        ids[TensorIndex.Colon, length - 1] = tensor(102L);
        return stack(new[] { ids, ones_like(ids), zeros_like(ids) }, 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _head.Dispose();
        _backbone.Dispose();
        _input.Dispose();
        _labels.Dispose();
    }

    [Benchmark(Description = "inference")]
    public float Inference()
    {
        _backbone.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return _backbone.call(_input).sum().item<float>();
    }

    [Benchmark(Description = "train step")]
    public float TrainStep()
    {
        _backbone.train();
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(_head.call(_backbone.call(_input)), _labels);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }
}
