using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.SliceTuner;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.SliceTuner;

[Collection("Sequential")]
public sealed class TrainerLossEvaluatorTests
{
    public TrainerLossEvaluatorTests() => ComputeDevice.SetCpuThreads(1);

    private const int Slices = 3, Width = 6, Classes = 3;

    /// <summary>Rows of a 3-class task: class c centred at a different point per slice (slice = row % 3), seeded.</summary>
    private static SliceDataset Data(int rows, int seed, bool sliceColumns)
    {
        var rng = new Random(seed);
        var x = new float[rows * Width];
        var y = new long[rows];
        var membership = new bool[rows, sliceColumns ? Slices + 1 : 1];
        for (int r = 0; r < rows; r++)
        {
            int slice = r % Slices, label = rng.Next(Classes);
            y[r] = label;
            for (int k = 0; k < Width; k++) x[r * Width + k] = (float)(rng.NextDouble() - 0.5 + (k == label ? 1.5 : 0) + (k == 3 + slice ? 0.7 : 0));
            membership[r, 0] = true;
            if (sliceColumns) membership[r, 1 + slice] = true;
        }
        string[] names = sliceColumns ? ["base", "s0", "s1", "s2"] : ["base"];
        using var scope = NewDisposeScope();
        return new SliceDataset(tensor(x, new long[] { rows, Width }), tensor(y), SliceMatrix.FromRows(names, membership));
    }

    private static ITrainableModel Model() => VanillaModel.Create(nn.Sequential(nn.Linear(Width, 8), nn.ReLU()), 8, Classes);

    private static int[][] SliceRows(int rows) => Enumerable.Range(0, Slices).Select(s => Enumerable.Range(0, rows).Where(r => r % Slices == s).ToArray()).ToArray();

    [Fact]
    public void ParallelEstimation_EqualsSequential_BitForBit()
    {
        using var train = Data(90, 1, sliceColumns: false);
        using var validation = Data(60, 2, sliceColumns: true);
        var rows = SliceRows(90);
        CurveEstimate Run(int workers)
        {
            var evaluator = SliceLossEvaluator.FromTrainer(Model, train, rows, validation, t => t.WithEpochs(2).WithBatchSize(8));
            var options = new CurveEstimationOptions { Points = 4, Repeats = 2, MinFraction = 0.3, Seed = 7, MaxDegreeOfParallelism = workers };
            var estimate = new CurveEstimator(evaluator, options).Estimate(rows.Select(r => r.Length).ToArray());
            Assert.Equal(8, evaluator.Trainings);
            return estimate;
        }

        var sequential = Run(1);
        var parallel = Run(3);

        for (int i = 0; i < Slices; i++)
        {
            Assert.Equal(sequential.Fits[i].Points.Select(p => p.Size), parallel.Fits[i].Points.Select(p => p.Size));
            Assert.Equal(sequential.Fits[i].Points.Select(p => BitConverter.DoubleToInt64Bits(p.Loss)), parallel.Fits[i].Points.Select(p => BitConverter.DoubleToInt64Bits(p.Loss)));
            Assert.Equal(sequential.Fits[i].RSquared, parallel.Fits[i].RSquared);
        }
        // A real model gives different losses at different sizes (the test would pass trivially on constants).
        Assert.True(sequential.Fits[0].Points.Select(p => p.Loss).Distinct().Count() > 1);
    }

    [Fact]
    public void Estimate_SameSizesTwice_GivesTheSameTrainings()
    {
        var seen = new List<(int Seed, string Rows)>();
        var evaluator = SliceLossEvaluator.Create((s, _) => { seen.Add((s.Seed, string.Join(";", s.Indices.Select(i => string.Join(",", i))))); return s.Indices.Select(i => 1.0 / (1 + i.Length)).ToArray(); });
        var estimator = new CurveEstimator(evaluator, new CurveEstimationOptions { Points = 3, Repeats = 2, Seed = 4 });
        estimator.Estimate(new[] { 20, 30 });
        var first = seen.ToArray();
        seen.Clear();
        estimator.Estimate(new[] { 20, 30 });
        Assert.Equal(first, seen);
        seen.Clear();
        estimator.Estimate(new[] { 21, 30 });   // other sizes, other subsets and seeds
        Assert.NotEqual(first.Select(f => f.Seed), seen.Select(f => f.Seed));
    }

    [Fact]
    public void TrainAndMeasure_SameSeed_SameLosses_AndMatchesManualCrossEntropy()
    {
        using var train = Data(60, 3, sliceColumns: false);
        using var validation = Data(30, 4, sliceColumns: true);
        var evaluator = SliceLossEvaluator.FromTrainer(Model, train, SliceRows(60), validation, t => t.WithEpochs(1));
        var rows = Enumerable.Range(0, 60).ToArray();
        var a = evaluator.TrainAndMeasure(rows, 5, validation);
        var b = evaluator.TrainAndMeasure(rows, 5, validation);
        Assert.Equal(a, b);
        Assert.Equal(4, a.Length);
        // The base loss is the row-weighted mean of the three equal-sized slices' losses.
        Assert.Equal(a[0], (a[1] + a[2] + a[3]) / 3, 6);
        Assert.Equal(2, evaluator.Trainings);
    }

    [Fact]
    public void SliceLosses_IsTheMeanCrossEntropyPerSlice()
    {
        using var validation = Data(12, 5, sliceColumns: true);
        torch.manual_seed(3);
        using var model = Model();
        var losses = model.SliceLosses(validation, batchSize: 5);
        using var noGrad = no_grad();
        model.Module.eval();
        var perRow = nn.functional.cross_entropy(model.Logits(validation.Features), validation.Labels, reduction: nn.Reduction.None).data<float>().ToArray();
        Assert.Equal(perRow.Average(v => (double)v), losses[0], 5);
        for (int s = 0; s < Slices; s++)
            Assert.Equal(Enumerable.Range(0, 12).Where(r => r % Slices == s).Average(r => (double)perRow[r]), losses[1 + s], 5);
    }

    [Fact]
    public void FromTrainer_ValidationWithoutOneColumnPerSlice_NamesTheMismatch()
    {
        using var train = Data(30, 1, sliceColumns: false);
        using var validation = Data(30, 2, sliceColumns: false);
        var ex = Assert.Throws<SliceDataException>(() => SliceLossEvaluator.FromTrainer(Model, train, SliceRows(30), validation));
        Assert.Contains("has 0 slices besides the base", ex.Message);
        Assert.Contains("sliceRows lists 3", ex.Message);
    }

    [Fact]
    public void Options_MaxDegreeOfParallelismBelowOne_IsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new CurveEstimationOptions { MaxDegreeOfParallelism = 0 }.Validate());
        Assert.Contains("MaxDegreeOfParallelism must be at least 1. Got 0.", ex.Message);
    }
}
