using System.Globalization;
using BenchmarkDotNet.Attributes;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>
/// One training step through the trainer's own step (<c>TrainingStep</c>: zero gradients, loss on
/// the unchecked path, backward, the trainer's Adam) for VANILLA, SRAM at k = 1, 2, 16, 64 and
/// 256 SFs, and HPS and MoE at k = 2, on one backbone. Width 13 is the paper's synthetic setting
/// (2-D input, 2-layer MLP backbone d = 13, expert size h = 13, batch 64); width 256 (set
/// SRAM_BENCH_WIDTHS=13,256) is a 256-wide MLP (256-D input, d = h = 256). One CPU thread. Run:
/// <c>dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*SramStepBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortJobConfig))]
public class SramStepBenchmarks : IDisposable
{
    private const int BatchSize = 64;
    private ITrainableModel _model = null!;
    private optim.Optimizer _optimizer = null!;
    private TrainingStep _step = null!;
    private Tensor _x = null!, _y = null!, _membership = null!;

    /// <summary>Which model and how many SFs: "VANILLA", "SRAM k=2", "HPS k=2", ... (sets <see cref="Model"/> and <see cref="K"/> in setup).</summary>
    [ParamsSource(nameof(Cases))]
    public string? Case { get; set; }

    /// <summary>The cases one run measures.</summary>
    public static IEnumerable<string> Cases =>
        new[] { "VANILLA", "SRAM k=1", "SRAM k=2", "SRAM k=16", "SRAM k=64", "SRAM k=256", "HPS k=2", "MoE k=2" };

    /// <summary>Number of SFs k (the model has m = k + 1 slices).</summary>
    public int K { get; set; } = 1;

    /// <summary>Backbone width d, also the expert size h.</summary>
    [ParamsSource(nameof(Widths))]
    public int Width { get; set; }

    /// <summary>The widths to run: 13, or the comma-separated list in SRAM_BENCH_WIDTHS.</summary>
    public static IEnumerable<int> Widths =>
        (Environment.GetEnvironmentVariable("SRAM_BENCH_WIDTHS") ?? "13").Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture));

    /// <summary>Which model one step trains: Vanilla, SRAM, HPS or MoE.</summary>
    public string Model { get; set; } = "SRAM";

    /// <summary>Architectural cost of the expert projections per example: k·d·h multiply-adds.</summary>
    public long ExpertMacs => (long)K * Width * Width;

    [GlobalSetup]
    public void Setup()
    {
        if (Case is not null)
        {
            var parts = Case.Split(" k=");
            Model = parts[0] == "VANILLA" ? "Vanilla" : parts[0];
            K = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 1;
        }
        ComputeDevice.SetCpuThreads(1);
        manual_seed(1);
        long input = Width == 13 ? 2 : Width;
        nn.Module<Tensor, Tensor> Backbone() => nn.Sequential(nn.Linear(input, Width), nn.ReLU(), nn.Linear(Width, Width), nn.ReLU());
        var names = Enumerable.Range(0, K).Select(i => "s" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        _model = Model switch
        {
            "SRAM" => SliceAwareModel.Create(Backbone(), Width, 2, names, o => o.ExpertSize = Width),
            "HPS" => HardParameterSharingModel.Create(Backbone(), Width, 2, names),
            "MoE" => MixtureOfExpertsModel.Create(Backbone, Width, 2, names),
            _ => VanillaModel.Create(Backbone(), Width, 2),
        };
        // Learning rate 0: Adam does all its work but the weights stay put, so every one of the
        // thousands of repetitions of this one batch does the same work (with a real rate the batch
        // is memorised and the gradients drift towards zero).
        _optimizer = new SliceLearning.Training.Optimizers.ScalarSafeAdam(_model.Module.parameters(), 0.0);
        _step = new TrainingStep(_model, _optimizer);
        _x = randn(BatchSize, input);
        _y = randint(0, 2, new long[] { BatchSize }, dtype: ScalarType.Int64);
        _membership = (rand(BatchSize, K + 1) < 0.1).to(ScalarType.Float32);
        _membership[TensorIndex.Colon, 0] = ones(BatchSize);
        for (int i = 0; i < 3; i++) Step();
    }

    /// <summary>One step as the trainer runs it; the loss stays on the device (the trainer reads the losses once per epoch).</summary>
    [Benchmark]
    public void Step()
    {
        using var scope = NewDisposeScope();
        _step.Run(_x, _y, _membership);
    }

    internal Tensor ForwardLoss() => ((SliceModelBase)_model).LossWithTermsCore(_x, _y, _membership).Loss;

    // The trainer's forward, loss and backward for the batch (the step without zero-grad and optimizer).
    internal Tensor LossAndBackward() => ((SliceModelBase)_model).BackwardCore(_x, _y, _membership);

    internal int ParameterTensors => _model.Module.parameters().Count();

    internal void ZeroGrad() => _optimizer.zero_grad();

    internal void OptimizerStep()
    {
        using var scope = NewDisposeScope();
        _optimizer.step();
    }

    /// <summary>Thread CPU microseconds per call of <paramref name="action"/>, median of 5 blocks of ~0.2 s.</summary>
    internal static double Measure(Action action) => ThreadCpuClock.PerCall(action);

    /// <summary>Releases the model and tensors (for <see cref="StepProfile"/>).</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
        _x.Dispose(); _y.Dispose(); _membership.Dispose();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // BenchmarkDotNet runs each case in its own process: the process's peak RSS is this case's.
        string hwm = ThreadCpuClock.PeakResidentSet();
        long parameters = _model.ParameterCount();
        double cpu = Measure(Step);
        string line = string.Create(CultureInfo.InvariantCulture, $"{Model},{K},{Width},{parameters},{ExpertMacs},{hwm},{cpu:F1}{Environment.NewLine}");
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "sram-step-extra.csv"), line);
        Dispose();
    }
}
