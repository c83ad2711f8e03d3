using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SliceLearning.Backbones.Simple;
using SliceLearning.Backbones.Text;
using SliceLearning.Backbones.Vision;
using SliceLearning.Models;
using SliceLearning.Modules;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>
/// A short in-process job (no second build): a pilot picks the invocation count for 250 ms
/// iterations, then two warm-up and seven measured iterations. Report the median: the machines
/// are shared, and outliers come from other processes.
/// </summary>
public sealed class ShortInProcessConfig : ManualConfig
{
    public ShortInProcessConfig()
    {
        // In-process runs are cut off after 5 minutes by default; a loaded 2-core machine needs longer.
        AddJob(Job.Default.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true))
            .WithWarmupCount(2).WithIterationCount(7).WithLaunchCount(1)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithId("short-inprocess"));
        AddColumn(BenchmarkDotNet.Columns.StatisticColumn.Median, BenchmarkDotNet.Columns.StatisticColumn.Min);
    }
}

/// <summary>
/// CPU time of each backbone at batch 1 and 16: an inference forward (eval mode, no gradients) and a
/// training step (forward, a 2-class linear head, cross-entropy, backward, AdamW step). Divide by the
/// batch size for time per example. libtorch runs with <see cref="Threads"/> intra-op threads.
/// Backbones: MiniLM = pretrained all-MiniLM-L6-v2 (<see cref="BertEncoder.LoadMiniLm"/>), ResNet18 = the
/// pretrained ML.NET ResNet-18 (<see cref="ResNet.LoadMlNetResNet18"/>, blocks [2, 2, 2, 3]).
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

    [Params("MiniLM", "ResNet18", "TextCNN", "MLP")]
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
            "MiniLM" => ((nn.Module<Tensor, Tensor>)BertEncoder.LoadMiniLm(), MiniLmInput(Batch, 64)),
            "ResNet18" => (ResNet.LoadMlNetResNet18(), randn(Batch, 3, 224, 224) * 50),
            "TextCNN" => (new TextCnnBackbone(20_000), randint(1, 20_000, new long[] { Batch, 64 }, dtype: ScalarType.Int64)),
            "MLP" => (new MlpBackbone(256, new long[] { 256, 128 }), randn(Batch, 256)),
            _ => throw new InvalidOperationException(Backbone),
        };
        long width = ((IBackbone)_backbone).OutputWidth;
        _head = nn.Linear(width, 2);
        _labels = randint(0, 2, new long[] { Batch }, dtype: ScalarType.Int64);
        _optimizer = SliceLearning.Training.OptimizerOptions.AdamW(1e-5).CreateOptimizer(_backbone.parameters().Concat(_head.parameters()));
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

/// <summary>
/// SRAM's cost on a real backbone: one training step (forward, loss, backward, AdamW) of a
/// <see cref="SliceAwareModel"/> with k = 16 slices and expert size 128 over the pretrained MiniLM
/// encoder at sequence length 64, against the vanilla model (the same encoder and a linear head).
/// Batch 16, random token ids and random slice membership (base column all ones).
/// Run: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*SramOverMiniLmBenchmarks*'
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class SramOverMiniLmBenchmarks
{
    private const int Batch = 16;
    private const int Slices = 16;
    private ITrainableModel _model = null!;
    private optim.Optimizer _optimizer = null!;
    private Tensor _input = null!;
    private Tensor _labels = null!;
    private Tensor _membership = null!;

    /// <summary>libtorch intra-op threads.</summary>
    [Params(1)]
    public int Threads { get; set; }

    private void Common()
    {
        ComputeDevice.SetCpuThreads(Threads);
        torch.manual_seed(1);
        _input = BackboneBenchmarks.MiniLmInput(Batch, 64);
        _labels = randint(0, 2, new long[] { Batch }, dtype: ScalarType.Int64);
        var slices = (rand(Batch, Slices) < 0.2).to(ScalarType.Float32);
        _membership = cat(new[] { ones(Batch, 1), slices }, 1);
    }

    [GlobalSetup(Target = nameof(Vanilla))]
    public void SetupVanilla()
    {
        Common();
        var model = VanillaModel.Create(BertEncoder.LoadMiniLm(), numClasses: 2);
        _model = model;
        _optimizer = SliceLearning.Training.OptimizerOptions.AdamW(1e-5).CreateOptimizer(model.parameters());
    }

    [GlobalSetup(Target = nameof(Sram))]
    public void SetupSram()
    {
        Common();
        var names = Enumerable.Range(0, Slices).Select(i => $"slice{i}").ToArray();
        var model = SliceAwareModel.Create(BertEncoder.LoadMiniLm(), numClasses: 2, names, o => o.ExpertSize = 128);
        _model = model;
        _optimizer = SliceLearning.Training.OptimizerOptions.AdamW(1e-5).CreateOptimizer(model.parameters());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _optimizer.Dispose();
        _model.Module.Dispose();
        _input.Dispose();
        _labels.Dispose();
        _membership.Dispose();
    }

    [Benchmark(Baseline = true, Description = "vanilla step")]
    public float Vanilla() => Step();

    [Benchmark(Description = "SRAM step (k=16, h=128)")]
    public float Sram() => Step();

    private float Step()
    {
        _model.Module.train();
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var loss = _model.Loss(_input, _labels, _membership);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }
}

/// <summary>
/// The same comparison as <see cref="SramOverMiniLmBenchmarks"/>, measured robustly on a shared
/// machine: each invocation runs one vanilla step and one SRAM step back to back (alternating which
/// goes first) and times both, so load from other processes hits both alike. The per-pair ratios
/// SRAM / vanilla are printed (median, quartiles) at cleanup, in the BenchmarkDotNet log.
/// Run: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*SramOverMiniLmPairedBenchmarks*'
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class SramOverMiniLmPairedBenchmarks
{
    private readonly SramOverMiniLmBenchmarks _vanilla = new();
    private readonly SramOverMiniLmBenchmarks _sram = new();
    private readonly List<double> _vanillaMs = new();
    private readonly List<double> _sramMs = new();

    /// <summary>libtorch intra-op threads.</summary>
    [Params(1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _vanilla.Threads = _sram.Threads = Threads;
        _vanilla.SetupVanilla();
        _sram.SetupSram();
    }

    [Benchmark(Description = "vanilla step + SRAM step (k=16, h=128)")]
    public float PairedSteps()
    {
        bool sramFirst = (_vanillaMs.Count % 2) == 1;
        var watch = new System.Diagnostics.Stopwatch();
        float loss = 0;
        for (int i = 0; i < 2; i++)
        {
            bool runSram = (i == 0) == sramFirst;
            watch.Restart();
            loss += runSram ? _sram.Sram() : _vanilla.Vanilla();
            (runSram ? _sramMs : _vanillaMs).Add(watch.Elapsed.TotalMilliseconds);
        }
        return loss;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Skip the first pair (warm-up allocations); report every later pair.
        var ratios = _sramMs.Zip(_vanillaMs, (s, v) => s / v).Skip(1).Order().ToArray();
        if (ratios.Length > 0)
        {
            double Q(double q) => ratios[(int)Math.Round(q * (ratios.Length - 1))];
            Console.WriteLine($"// SRAM/vanilla paired step-time ratio over {ratios.Length} pairs: median {Q(0.5):F3}, " +
                $"quartiles {Q(0.25):F3}..{Q(0.75):F3}, min {ratios[0]:F3}, max {ratios[^1]:F3}; " +
                $"median vanilla {Median(_vanillaMs.Skip(1)):F0} ms, median SRAM {Median(_sramMs.Skip(1)):F0} ms");
        }
        _vanilla.Cleanup();
        _sram.Cleanup();
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v[v.Length / 2];
    }
}
