using BenchmarkDotNet.Attributes;
using SliceLearning.Slicing;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>Smoke benchmark: converting a slice matrix to a tensor (proves the harness runs).</summary>
[MemoryDiagnoser]
public class SliceMatrixToTensorBenchmarks
{
    private SliceMatrix _matrix = null!;

    [GlobalSetup]
    public void Setup()
    {
        var slices = SliceSet.For<int>().Add("even", i => i % 2 == 0).Add("small", i => i < 1000).Build();
        _matrix = slices.Apply(Enumerable.Range(0, 100_000).ToArray());
    }

    [Benchmark]
    public long ToFloatTensor()
    {
        using Tensor t = _matrix.ToTensor();
        return t.shape[0];
    }
}
