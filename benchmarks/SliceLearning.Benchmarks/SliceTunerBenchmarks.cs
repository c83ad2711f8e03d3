using BenchmarkDotNet.Attributes;
using SliceLearning.SliceTuner;

namespace SliceLearning.Benchmarks;

/// <summary>
/// One-shot acquisition solve (exact continuous optimum + integer rounding) for many slices.
/// Random problem: sizes 10..500, a in [0.1, 0.9], b in [0.5, 3.5], unit costs, budget 10 per slice, lambda 1.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class OneShotSolveBenchmarks
{
    private AcquisitionProblem _problem = null!;

    [Params(10, 1_000, 10_000, 100_000)]
    public int Slices { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _problem = new AcquisitionProblem(
            Enumerable.Range(0, Slices).Select(_ => rng.Next(10, 500)).ToArray(),
            Enumerable.Range(0, Slices).Select(_ => new LearningCurve(0.1 + 0.8 * rng.NextDouble(), 0.5 + 3 * rng.NextDouble())).ToArray());
    }

    [Benchmark]
    public int OneShot() => AcquisitionPlanner.OneShot(_problem, budget: 10.0 * Slices, lambda: 1).TotalAmount;
}

/// <summary>
/// Learning-curve estimation for 10 slices of 500 examples, K = 10 points, 5 repeats: amortized
/// (50 trainings) against exhaustive (500 trainings). The "training" is a synthetic stand-in whose
/// cost is proportional to the examples in the sample (20 passes of a 32-wide dot product per
/// example), so the ratio reflects both the training count and the smaller amortized samples.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class CurveEstimationBenchmarks
{
    private static readonly int[] Sizes = Enumerable.Repeat(500, 10).ToArray();
    private ISliceLossEvaluator _evaluator = null!;

    [Params(EstimationMethod.Amortized, EstimationMethod.Exhaustive)]
    public EstimationMethod Method { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var weights = Enumerable.Range(0, 32).Select(i => (float)Math.Sin(i)).ToArray();
        _evaluator = SliceLossEvaluator.Create((sample, _) =>
        {
            float acc = 0;
            for (int pass = 0; pass < 20; pass++)
                foreach (var slice in sample.Indices)
                    foreach (int j in slice)
                        for (int k = 0; k < weights.Length; k++) acc += weights[k] * ((j + k + pass) & 7);
            return sample.Indices.Select(idx => Math.Pow(Math.Max(idx.Length, 1), -0.4) + 1e-12 * acc).ToArray();
        });
    }

    [Benchmark]
    public int Estimate()
    {
        var estimate = new CurveEstimator(_evaluator, new CurveEstimationOptions { Method = Method, Points = 10, Repeats = 5 }).Estimate(Sizes);
        return estimate.Trainings;
    }
}
