using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using SliceLearning.Slicing;

namespace SliceLearning.Benchmarks;

/// <summary>
/// SF application throughput: 1,000,000 rows x 64 cheap lambda SFs (64M SF evaluations per
/// operation). Baseline: the naive single-threaded loop a user would write (row-major, one
/// interface call per cell, a bool[N, k+1] result). Compared with SliceSet.Apply (parallel,
/// 64-row blocks, bit-packed) and the same applier pinned to one thread.
/// Run: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*SliceApplyBenchmarks*'
/// Each operation takes hundreds of milliseconds, so one invocation per iteration; the iteration
/// hooks also record the process CPU time of each operation and print its median at the end
/// ("// CPU time per op" lines in the log), which shows the work done independently of how much
/// of the (shared) machine the benchmark got.
/// </summary>
[MemoryDiagnoser]
[MinColumn, MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 12)]
public class SliceApplyBenchmarks
{
    /// <summary>One example: a few numeric and categorical fields.</summary>
    public readonly record struct Row(int Id, float X, float Y, int Category, int Length);

    private const int Rows = 1_000_000;
    private const int Functions = 64;
    private Row[] _data = null!;
    private SliceSet<Row> _slices = null!;
    private SliceApplyOptions _oneThread = null!;
    private readonly List<(double WallMs, double CpuMs)> _iterations = new();
    private TimeSpan _cpuStart;
    private long _wallStart;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _data = new Row[Rows];
        for (int i = 0; i < Rows; i++)
            _data[i] = new Row(i, (float)random.NextDouble(), (float)random.NextDouble(), random.Next(16), random.Next(1, 60));
        var builder = SliceSet.For<Row>();
        for (int f = 0; f < Functions; f++)
        {
            float threshold = (f % 16 + 1) / 17f;
            int category = f % 16;
            int length = 5 + f;
            switch (f % 4)
            {
                case 0: builder.Add($"x_gt_{f}", r => r.X > threshold); break;
                case 1: builder.Add($"cat_{f}", r => r.Category == category); break;
                case 2: builder.Add($"long_{f}", r => r.Length > length); break;
                default: builder.Add($"xy_{f}", r => r.X + r.Y < 2 * threshold); break;
            }
        }
        _slices = builder.Build();
        _oneThread = new SliceApplyOptions { MaxDegreeOfParallelism = 1 };
    }

    [IterationSetup]
    public void StartClock()
    {
        _cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        _wallStart = Stopwatch.GetTimestamp();
    }

    [IterationCleanup]
    public void StopClock() => _iterations.Add((
        Stopwatch.GetElapsedTime(_wallStart).TotalMilliseconds,
        (Process.GetCurrentProcess().TotalProcessorTime - _cpuStart).TotalMilliseconds));

    [GlobalCleanup]
    public void Report()
    {
        // The last 12 iterations are the measured ones (after jitting, pilot and warmup).
        var measured = _iterations.TakeLast(12).ToList();
        if (measured.Count == 0) return;
        double Median(IEnumerable<double> v) { var s = v.OrderBy(x => x).ToList(); return s[s.Count / 2]; }
        Console.WriteLine($"// CPU time per op: median {Median(measured.Select(m => m.CpuMs)):F0} ms CPU, {Median(measured.Select(m => m.WallMs)):F0} ms wall over {measured.Count} iterations");
    }

    [Benchmark(Baseline = true, Description = "naive loop, 1 thread, bool[N,k+1]")]
    public int NaiveLoop()
    {
        var result = new bool[Rows, Functions + 1];
        for (int row = 0; row < _data.Length; row++)
        {
            result[row, 0] = true;
            for (int f = 0; f < _slices.Count; f++) result[row, f + 1] = _slices[f].IsMember(_data[row]);
        }
        return result.GetLength(0);
    }

    [Benchmark(Description = "SliceSet.Apply, 1 thread")]
    public int ApplyOneThread() => _slices.Apply(_data, _oneThread).RowCount;

    [Benchmark(Description = "SliceSet.Apply, parallel")]
    public int ApplyParallel() => _slices.Apply(_data).RowCount;
}
