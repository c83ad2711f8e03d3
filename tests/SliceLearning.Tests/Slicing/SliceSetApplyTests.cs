using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using Microsoft.Extensions.Logging;
using SliceLearning.Slicing;

namespace SliceLearning.Tests.Slicing;

public sealed class SliceSetApplyTests
{
    private static SliceSet<int> Arithmetic() => SliceSet.For<int>()
        .Add("even", i => i % 2 == 0)
        .Add("div3", i => i % 3 == 0)
        .Add("small", i => i < 70)
        .Add("none", _ => false)
        .Build();

    private static bool[,] Naive(SliceSet<int> set, IReadOnlyList<int> data)
    {
        var result = new bool[data.Count, set.Count + 1];
        for (int r = 0; r < data.Count; r++)
        {
            result[r, 0] = true;
            for (int f = 0; f < set.Count; f++) result[r, f + 1] = set[f].IsMember(data[r]);
        }
        return result;
    }

    private static void AssertMatches(bool[,] expected, SliceMatrix actual)
    {
        Assert.Equal(expected.GetLength(0), actual.RowCount);
        Assert.Equal(expected.GetLength(1), actual.ColumnCount);
        for (int r = 0; r < actual.RowCount; r++)
            for (int c = 0; c < actual.ColumnCount; c++)
                Assert.True(expected[r, c] == actual[r, c], $"row {r}, column {c}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1023)]
    [InlineData(1024)]
    [InlineData(1025)]
    [InlineData(5000)]
    public void Apply_MatchesNaiveLoop_AtBlockBoundaries(int n)
    {
        var set = Arithmetic();
        var data = Enumerable.Range(0, n).ToArray();
        var matrix = set.Apply(data);
        AssertMatches(Naive(set, data), matrix);
        Assert.Equal(n, matrix.MemberCount(0));
        Assert.Equal((n + 1) / 2, matrix.MemberCount(1));
        Assert.Equal(Math.Min(n, 70), matrix.MemberCount(3));
        Assert.Equal(0, matrix.MemberCount(4));
    }

    [Fact]
    public void Apply_WorksOnListsAndOtherReadOnlyLists_AndClassSfs()
    {
        var set = SliceSet.For<int>().Add<IsOdd>().Add("big", i => i > 2000).AddRange(new[] { new SlicingFunction<int>("seven", i => i % 7 == 0) }).Build();
        var array = Enumerable.Range(0, 3000).ToArray();
        var expected = Naive(set, array);
        AssertMatches(expected, set.Apply(array.ToList()));
        AssertMatches(expected, set.Apply(new ReadOnlyCollection<int>(array)));
        AssertMatches(expected, set.Apply(array, new SliceApplyOptions { MaxDegreeOfParallelism = 1 }));
        Assert.Equal(new[] { "base", "odd", "big", "seven" }, set.SliceNames);
    }

    [Fact]
    public void Apply_AcceptsCovariantArrays()
    {
        var set = SliceSet.For<object>().Add("short", o => o.ToString()!.Length < 3).Build();
        IReadOnlyList<object> words = new[] { "a", "abcd", "xy", "long word" };
        Assert.Equal(new[] { 0, 2 }, set.Apply(words).Members(1));
    }

    [Fact]
    public void ThrowingSf_FailPolicy_NamesSfRowAndInnerException()
    {
        var set = SliceSet.For<int>()
            .Add("fine", i => i > 5)
            .Add("fragile", i => i == 700 ? throw new InvalidOperationException("boom") : i < 3)
            .Build();
        var ex = Assert.Throws<SliceDataException>(() => set.Apply(Enumerable.Range(0, 2000).ToArray()));
        Assert.Equal("fragile", ex.SliceName);
        Assert.Equal(700, ex.Row);
        Assert.IsType<InvalidOperationException>(ex.InnerException);
        Assert.Contains("Slicing function 'fragile' threw on row 700: InvalidOperationException: boom", ex.Message);
    }

    [Fact]
    public void ThrowingSf_TreatAsNonMember_CountsAndLogs()
    {
        var set = SliceSet.For<int>()
            .Add("fine", i => i % 2 == 0)
            .Add("fragile", i => i % 100 == 7 ? throw new FormatException("bad row") : true)
            .Build();
        var logger = new ListLoggerFactory();
        var result = set.ApplyWithDiagnostics(Enumerable.Range(0, 1000).ToArray(),
            new SliceApplyOptions { ErrorPolicy = SliceErrorPolicy.TreatAsNonMember, MaxRecordedErrors = 3, LoggerFactory = logger });
        Assert.Equal(new[] { 0, 10 }, result.ErrorCounts);
        Assert.Equal(10, result.TotalErrors);
        Assert.Equal(new[] { 7, 107, 207 }, result.Errors.Select(e => e.Row));
        Assert.All(result.Errors, e => Assert.Equal("fragile", e.SliceName));
        Assert.IsType<FormatException>(result.Errors[0].Exception);
        Assert.Equal(990, result.Matrix.MemberCount(2));
        Assert.False(result.Matrix[7, 2]);
        Assert.True(result.Matrix[8, 2]);
        Assert.Equal(500, result.Matrix.MemberCount(1));
        var warning = Assert.Single(logger.Messages, m => m.Level == LogLevel.Warning);
        Assert.Equal("Slicing function 'fragile' threw on 10 of 1000 rows (first at row 7); those rows are treated as non-members.", warning.Text);
    }

    [Fact]
    public void Progress_IsMonotonic_AndEndsAtTotal()
    {
        var reports = new ConcurrentQueue<SliceApplyProgress>();
        // Every other report is slow to arrive: a report made earlier on one worker would then land
        // after a later one from another worker unless the reports are ordered.
        int calls = 0;
        var progress = new SyncProgress(p =>
        {
            if (Interlocked.Increment(ref calls) % 2 == 0) Thread.Sleep(3);
            reports.Enqueue(p);
        });
        int n = 200_000;
        Arithmetic().Apply(Enumerable.Range(0, n).ToArray(), new SliceApplyOptions { MaxDegreeOfParallelism = 4 }, progress);
        var list = reports.ToList();
        Assert.Equal(new SliceApplyProgress(0, n), list[0]);
        Assert.Equal(new SliceApplyProgress(n, n), list[^1]);
        Assert.InRange(list.Count, 10, 110); // about every 1%
        // Workers on several threads finish chunks in any order; the reports still only grow.
        for (int i = 1; i < list.Count; i++)
            Assert.True(list[i].RowsDone > list[i - 1].RowsDone, $"report {i} ({list[i].RowsDone}) after {list[i - 1].RowsDone}");
        Assert.All(list, p => Assert.Equal(n, p.TotalRows));
        Assert.Equal(1.0, list[^1].Fraction);
    }

    [Fact]
    public void Cancellation_StopsTheWork()
    {
        using var cts = new CancellationTokenSource();
        int calls = 0;
        var set = SliceSet.For<int>().Add("slow", i =>
        {
            if (Interlocked.Increment(ref calls) == 10_000) cts.Cancel();
            return true;
        }).Build();
        Assert.ThrowsAny<OperationCanceledException>(() => set.Apply(Enumerable.Range(0, 1_000_000).ToArray(), cts.Token));
        Assert.True(calls < 1_000_000, $"{calls} calls");
    }

    [Fact]
    public void Options_DefaultsAndValidation()
    {
        var o = new SliceApplyOptions();
        Assert.Equal(SliceErrorPolicy.Fail, o.ErrorPolicy);
        Assert.Equal(-1, o.MaxDegreeOfParallelism);
        Assert.Equal(10, o.MaxRecordedErrors);
        var ex = Assert.Throws<ArgumentException>(() => Arithmetic().Apply(new[] { 1 }, new SliceApplyOptions { MaxDegreeOfParallelism = 0, MaxRecordedErrors = -2 }));
        Assert.Contains("MaxDegreeOfParallelism must be -1 (one thread per core) or positive. Got 0.", ex.Message);
        Assert.Contains("MaxRecordedErrors must be 0 or positive. Got -2.", ex.Message);
    }

    [Fact]
    public void Matrix_UsesUnderOneBytePerCell()
    {
        var matrix = Arithmetic().Apply(Enumerable.Range(0, 10_000).ToArray());
        // 5 columns x 157 words x 8 bytes = 6280 bytes for 50,000 cells.
        Assert.Equal(5L * 157 * 8, matrix.PackedBytes);
        Assert.True(matrix.PackedBytes < (long)matrix.RowCount * matrix.ColumnCount);
    }

    private sealed class IsOdd : ISlicingFunction<int>
    {
        public string Name => "odd";

        public bool IsMember(int example) => example % 2 == 1;
    }

    private sealed class SyncProgress(Action<SliceApplyProgress> report) : IProgress<SliceApplyProgress>
    {
        public void Report(SliceApplyProgress value) => report(value);
    }

    internal sealed class ListLoggerFactory : ILoggerFactory, ILogger
    {
        public ConcurrentQueue<(LogLevel Level, string Text)> Messages { get; } = new();

        public void AddProvider(ILoggerProvider provider) { }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue((logLevel, formatter(state, exception)));
    }
}
