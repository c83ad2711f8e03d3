using System.Globalization;
using BenchmarkDotNet.Attributes;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>
/// One training epoch through <see cref="SliceTrainer"/> (<c>Fit</c> with one epoch: the data
/// checks, shuffling, batching and 157 steps) on 10,000 rows of 2-D input, batch 64, Adam 0.003,
/// one CPU thread, for VANILLA and SRAM at k = 2, 64 and 256 SFs (each SF holds a random ~10% of
/// the rows) over the paper's synthetic backbone (2-layer MLP, d = h = 13). Run together with the
/// step benchmark:
/// <c>dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*SramStepBenchmarks*' '*SramEpochBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ShortJobConfig))]
public class SramEpochBenchmarks
{
    private const int Rows = 10_000;
    private const int Width = 13;
    private SliceTrainer _trainer = null!;
    private SliceDataset _data = null!;

    /// <summary>Which model and how many SFs.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "VANILLA";

    /// <summary>The cases one run measures.</summary>
    public static IEnumerable<string> Cases => new[] { "VANILLA", "SRAM k=2", "SRAM k=64", "SRAM k=256" };

    [GlobalSetup]
    public void Setup()
    {
        var parts = Case.Split(" k=");
        int k = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 2;
        ComputeDevice.SetCpuThreads(1);
        var random = new Random(7);
        var points = Enumerable.Range(0, Rows).Select(_ => new[] { (float)(random.NextDouble() * 2 - 1), (float)(random.NextDouble() * 2 - 1) }).ToArray();
        var member = new bool[Rows, k];
        for (int i = 0; i < Rows; i++) for (int s = 0; s < k; s++) member[i, s] = random.NextDouble() < 0.1;
        var builder = SliceSet.For<int>();
        for (int s = 0; s < k; s++)
        {
            int column = s;
            builder.Add("s" + s.ToString(CultureInfo.InvariantCulture), i => member[i, column]);
        }
        var slices = builder.Build();
        _data = SliceDataset.From(Enumerable.Range(0, Rows).ToArray(), i => points[i], i => points[i][0] + points[i][1] > 0 ? 1 : 0, slices);
        static nn.Module<Tensor, Tensor> Backbone() => nn.Sequential(nn.Linear(2, Width), nn.ReLU(), nn.Linear(Width, Width), nn.ReLU());
        ITrainableModel model = parts[0] == "SRAM"
            ? SliceAwareModel.Create(Backbone(), Width, 2, slices.SliceNames, o => o.ExpertSize = Width)
            : VanillaModel.Create(Backbone(), Width, 2);
        _trainer = SliceTrainer.For(model).WithData(_data).WithEpochs(1).WithBatchSize(64)
            .WithOptimizer(OptimizerOptions.Adam(0.003)).WithSeed(1);
        Epoch();
    }

    /// <summary>One epoch (each call continues from the weights the last one left).</summary>
    [Benchmark]
    public double Epoch() => _trainer.Fit().LossHistory[^1];

    [GlobalCleanup]
    public void Cleanup()
    {
        double cpu = ThreadCpuClock.PerCall(() => Epoch(), blockMicroseconds: 1_000_000);
        string line = string.Create(CultureInfo.InvariantCulture, $"{Case},{_trainer.Model.ParameterCount()},{ThreadCpuClock.PeakResidentSet()},{cpu:F0}{Environment.NewLine}");
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "sram-epoch-extra.csv"), line);
        _trainer.Model.Dispose();
        _data.Dispose();
    }
}
