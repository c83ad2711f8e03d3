using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace SliceLearning.Slicing;

/// <summary>
/// Applies k SFs to N rows in parallel. Rows go in 64-row blocks, so each block is one word of
/// every bit-packed column and each thread writes whole words: no locks, no false sharing of bits.
/// Within a block the loop is SF-major (one SF over 64 rows), which keeps the SF's code and the
/// word being built hot.
/// </summary>
internal static class SliceApplier<T>
{
    /// <summary>Words (64-row blocks) per parallel work item.</summary>
    internal const int WordsPerChunk = 16;

    public static SliceApplyResult Apply(
        ISlicingFunction<T>[] functions, IReadOnlyList<string> names, IReadOnlyList<T> data,
        SliceApplyOptions options, IProgress<SliceApplyProgress>? progress, CancellationToken cancellationToken)
    {
        int n = data.Count;
        int k = functions.Length;
        int words = SliceMatrix.WordCount(n);
        var columns = new ulong[k + 1][];
        for (int c = 0; c <= k; c++) columns[c] = new ulong[words];

        // Lambda SFs: call the delegate directly (one indirection instead of two).
        var predicates = functions.Select(f => f is SlicingFunction<T> s ? s.Predicate : null).ToArray();
        T[]? array = data as T[];
        List<T>? list = data as List<T>;
        var errors = new ErrorSink(functions.Select(f => f.Name).ToArray(), options);
        int chunks = (words + WordsPerChunk - 1) / WordsPerChunk;
        int done = 0;
        int reportStep = Math.Max(WordsPerChunk * 64, n / 100);

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        progress?.Report(new SliceApplyProgress(0, n));
        Parallel.For(0, chunks, parallel, () => new T[64], (chunk, loop, buffer) =>
        {
            if (errors.Stopped) { loop.Stop(); return buffer; }
            int firstWord = chunk * WordsPerChunk;
            int lastWord = Math.Min(words, firstWord + WordsPerChunk);
            for (int w = firstWord; w < lastWord; w++)
            {
                int start = w << 6;
                int count = Math.Min(64, n - start);
                ReadOnlySpan<T> rows;
                if (array is not null) rows = array.AsSpan(start, count);
                else if (list is not null) rows = CollectionsMarshal.AsSpan(list).Slice(start, count);
                else
                {
                    for (int i = 0; i < count; i++) buffer[i] = data[start + i];
                    rows = buffer.AsSpan(0, count);
                }
                for (int f = 0; f < k; f++)
                {
                    columns[f + 1][w] = predicates[f] is { } predicate
                        ? Word(predicate, rows, start, f, errors)
                        : Word(functions[f], rows, start, f, errors);
                    if (errors.Stopped) { loop.Stop(); return buffer; }
                }
            }
            int rowsInChunk = Math.Min(n, lastWord << 6) - (firstWord << 6);
            int after = Interlocked.Add(ref done, rowsInChunk);
            if (progress is not null && after / reportStep != (after - rowsInChunk) / reportStep && after < n)
                progress.Report(new SliceApplyProgress(after, n));
            return buffer;
        }, _ => { });

        if (errors.Failure is { } failure)
        {
            throw new SliceDataException(
                $"Slicing function '{failure.SliceName}' threw on row {failure.Row}: {failure.Exception.GetType().Name}: {failure.Exception.Message}",
                "data", failure.SliceName, failure.Row, failure.Exception);
        }
        cancellationToken.ThrowIfCancellationRequested();
        progress?.Report(new SliceApplyProgress(n, n));

        var logger = options.LoggerFactory.CreateLogger("SliceLearning.Slicing.SliceSet");
        var recorded = errors.Recorded();
        for (int f = 0; f < k; f++)
        {
            if (errors.Counts[f] > 0)
            {
                var first = errors.FirstByFunction[f]!;
                SliceLog.SlicingFunctionFailed(logger, functions[f].Name, errors.Counts[f], n, first.Row, first.Exception);
            }
        }
        SliceLog.SlicesApplied(logger, k, n);
        return new SliceApplyResult(new SliceMatrix(names, n, columns), errors.Counts, recorded);
    }

    private static ulong Word(Func<T, bool> predicate, ReadOnlySpan<T> rows, int start, int function, ErrorSink errors)
    {
        ulong bits = 0;
        int i = 0;
        while (i < rows.Length)
        {
            try
            {
                for (; i < rows.Length; i++)
                {
                    if (predicate(rows[i])) bits |= 1UL << i;
                }
            }
            catch (Exception ex)
            {
                if (!errors.Add(function, start + i, ex)) return bits;
                i++;
            }
        }
        return bits;
    }

    private static ulong Word(ISlicingFunction<T> sf, ReadOnlySpan<T> rows, int start, int function, ErrorSink errors)
    {
        ulong bits = 0;
        int i = 0;
        while (i < rows.Length)
        {
            try
            {
                for (; i < rows.Length; i++)
                {
                    if (sf.IsMember(rows[i])) bits |= 1UL << i;
                }
            }
            catch (Exception ex)
            {
                if (!errors.Add(function, start + i, ex)) return bits;
                i++;
            }
        }
        return bits;
    }

    /// <summary>Collects SF failures from all threads.</summary>
    private sealed class ErrorSink
    {
        private readonly SliceApplyOptions _options;
        private readonly string[] _names;
        private readonly object _gate = new();
        private readonly List<(int Function, SliceFunctionError Error)> _kept = new();
        private volatile bool _stopped;

        public ErrorSink(string[] functionNames, SliceApplyOptions options)
        {
            _options = options;
            _names = functionNames;
            Counts = new int[functionNames.Length];
            FirstByFunction = new SliceFunctionError?[functionNames.Length];
        }

        public int[] Counts { get; }

        public SliceFunctionError?[] FirstByFunction { get; }

        public SliceFunctionError? Failure { get; private set; }

        public bool Stopped => _stopped;

        /// <summary>Records a failure; false when the run must stop (policy Fail).</summary>
        public bool Add(int function, int row, Exception ex)
        {
            var error = new SliceFunctionError(_names[function], row, ex);
            lock (_gate)
            {
                if (_options.ErrorPolicy == SliceErrorPolicy.Fail)
                {
                    // Of the failures seen before every thread stops, report the lowest row.
                    if (Failure is null || row < Failure.Row) Failure = error;
                    _stopped = true;
                    return false;
                }
                Counts[function]++;
                if (FirstByFunction[function] is not { } first || row < first.Row) FirstByFunction[function] = error;
                _kept.Add((function, error));
                // Keep the list bounded: the lowest (SF, row) pairs survive.
                int max = _options.MaxRecordedErrors;
                if (_kept.Count > 4 * Math.Max(16, max))
                {
                    _kept.Sort(Order);
                    _kept.RemoveRange(max, _kept.Count - max);
                }
                return true;
            }
        }

        public IReadOnlyList<SliceFunctionError> Recorded()
        {
            _kept.Sort(Order);
            return _kept.Take(_options.MaxRecordedErrors).Select(e => e.Error).ToArray();
        }

        private static int Order((int Function, SliceFunctionError Error) a, (int Function, SliceFunctionError Error) b)
        {
            int c = a.Function.CompareTo(b.Function);
            return c != 0 ? c : a.Error.Row.CompareTo(b.Error.Row);
        }
    }
}
