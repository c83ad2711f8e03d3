using BenchmarkDotNet.Attributes;
using SliceLearning.Backbones.Text;
using SliceLearning.Models;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>
/// The text samples' training step: the top MiniLM layer(s) (<see cref="BertTopLayers"/>, a copy of the
/// pretrained top layer) over cached lower-layer states, then VANILLA's linear head or SRAM
/// (k = 16 slices + base, as TextSlices) with the library's default options (h = d = 384) or h = 128.
/// Batch 32, 64 cached token states per example (all real tokens), random slice membership (each
/// slice ~20 %), AdamW over every trainable parameter. Each invocation runs a VANILLA step and an
/// SRAM step back to back, alternating which goes first, and the per-pair ratios SRAM / VANILLA are
/// printed at cleanup, so load from other processes hits both alike.
/// Run: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*TopLayerSramPairedBenchmarks*'
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class TopLayerSramPairedBenchmarks
{
    private const int Batch = 32;
    private const int Tokens = 64;
    private const int Slices = 16;
    private Tensor _input = null!;
    private Tensor _labels = null!;
    private Tensor _membership = null!;
    private (ITrainableModel Model, optim.Optimizer Optimizer) _vanilla, _sram;
    private readonly List<double> _vanillaMs = new();
    private readonly List<double> _sramMs = new();

    /// <summary>SRAM's expert size h; 0 = the library default (the backbone width, 384).</summary>
    [Params(0, 128)]
    public int ExpertSize { get; set; }

    /// <summary>libtorch intra-op threads.</summary>
    [Params(1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ComputeDevice.SetCpuThreads(Threads);
        torch.manual_seed(1);
        using var encoder = BertEncoder.LoadMiniLm();
        _input = cat(new[] { randn(Batch, Tokens, encoder.Options.HiddenSize), ones(Batch, Tokens, 1) }, 2);
        _labels = randint(0, 2, new long[] { Batch }, dtype: ScalarType.Int64);
        _membership = cat(new[] { ones(Batch, 1), (rand(Batch, Slices) < 0.2).to(ScalarType.Float32) }, 1);
        var names = Enumerable.Range(0, Slices).Select(i => $"slice{i}").ToArray();
        ITrainableModel vanilla = VanillaModel.Create(BertTopLayers.From(encoder, 1), encoder.Options.HiddenSize, 2);
        ITrainableModel sram = SliceAwareModel.Create(BertTopLayers.From(encoder, 1), encoder.Options.HiddenSize, 2, names,
            o => o.ExpertSize = ExpertSize == 0 ? null : ExpertSize);
        _vanilla = (vanilla, SliceLearning.Training.OptimizerOptions.AdamW(1e-4).CreateOptimizer(vanilla.Module.parameters()));
        _sram = (sram, SliceLearning.Training.OptimizerOptions.AdamW(1e-4).CreateOptimizer(sram.Module.parameters()));
    }

    [Benchmark(Description = "top-layer VANILLA step + SRAM step (k=16)")]
    public float PairedSteps()
    {
        bool sramFirst = (_vanillaMs.Count % 2) == 1;
        var watch = new System.Diagnostics.Stopwatch();
        float loss = 0;
        for (int i = 0; i < 2; i++)
        {
            bool runSram = (i == 0) == sramFirst;
            watch.Restart();
            loss += Step(runSram ? _sram : _vanilla);
            (runSram ? _sramMs : _vanillaMs).Add(watch.Elapsed.TotalMilliseconds);
        }
        return loss;
    }

    private float Step((ITrainableModel Model, optim.Optimizer Optimizer) m)
    {
        m.Model.Module.train();
        using var scope = NewDisposeScope();
        m.Optimizer.zero_grad();
        var loss = m.Model.Loss(_input, _labels, _membership);
        loss.backward();
        m.Optimizer.step();
        return loss.item<float>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Skip the first pair (warm-up allocations); report every later pair.
        var ratios = _sramMs.Zip(_vanillaMs, (s, v) => s / v).Skip(1).Order().ToArray();
        if (ratios.Length > 0)
        {
            double Q(double q) => ratios[(int)Math.Round(q * (ratios.Length - 1))];
            Console.WriteLine($"// h={(ExpertSize == 0 ? "384 (default)" : ExpertSize)}: SRAM/VANILLA paired top-layer step-time ratio over {ratios.Length} pairs: median {Q(0.5):F3}, " +
                $"quartiles {Q(0.25):F3}..{Q(0.75):F3}, min {ratios[0]:F3}, max {ratios[^1]:F3}; " +
                $"median VANILLA {Median(_vanillaMs.Skip(1)):F0} ms, median SRAM {Median(_sramMs.Skip(1)):F0} ms");
        }
        _vanillaMs.Clear();
        _sramMs.Clear();
        foreach (var (model, optimizer) in new[] { _vanilla, _sram })
        {
            optimizer.Dispose();
            model.Module.Dispose();
        }
        _input.Dispose();
        _labels.Dispose();
        _membership.Dispose();
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v[v.Length / 2];
    }
}
