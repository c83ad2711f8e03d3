using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SliceLearning.Slicing;

/// <summary>What <see cref="SliceSet{T}.Apply(IReadOnlyList{T}, SliceApplyOptions?, IProgress{SliceApplyProgress}?, CancellationToken)"/> does when an SF throws.</summary>
public enum SliceErrorPolicy
{
    /// <summary>Stop and throw a <see cref="SliceDataException"/> naming the SF and the row, with the SF's exception inside.</summary>
    Fail,

    /// <summary>Treat the row as a non-member of that slice, count the failure per SF, log a warning, and go on.</summary>
    TreatAsNonMember,
}

/// <summary>Options for applying a <see cref="SliceSet{T}"/> to data.</summary>
/// <remarks>
/// Defaults: <see cref="ErrorPolicy"/> <see cref="SliceErrorPolicy.Fail"/>, <see cref="MaxDegreeOfParallelism"/> -1
/// (one thread per core), <see cref="MaxRecordedErrors"/> 10, <see cref="LoggerFactory"/> <see cref="NullLoggerFactory.Instance"/>.
/// </remarks>
public sealed class SliceApplyOptions
{
    /// <summary>What to do when an SF throws.</summary>
    /// <value>The default value is <see cref="SliceErrorPolicy.Fail"/>.</value>
    public SliceErrorPolicy ErrorPolicy { get; set; } = SliceErrorPolicy.Fail;

    /// <summary>Maximum number of threads; -1 means one per logical core (<see cref="Environment.ProcessorCount"/>).</summary>
    /// <value>The default value is -1.</value>
    public int MaxDegreeOfParallelism { get; set; } = -1;

    /// <summary>With <see cref="SliceErrorPolicy.TreatAsNonMember"/>, how many failures to keep (SF, row, exception) in <see cref="SliceApplyResult.Errors"/>; all are counted.</summary>
    /// <value>The default value is 10.</value>
    public int MaxRecordedErrors { get; set; } = 10;

    /// <summary>Where warnings about failing SFs go.</summary>
    /// <value>The default value is <see cref="NullLoggerFactory.Instance"/>.</value>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">Lists every invalid option with its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(ErrorPolicy))
            problems.Add($"{nameof(ErrorPolicy)} must be Fail or TreatAsNonMember. Got {(int)ErrorPolicy}.");
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
            problems.Add($"{nameof(MaxDegreeOfParallelism)} must be -1 (one thread per core) or positive. Got {MaxDegreeOfParallelism}.");
        if (MaxRecordedErrors < 0)
            problems.Add($"{nameof(MaxRecordedErrors)} must be 0 or positive. Got {MaxRecordedErrors}.");
        if (LoggerFactory is null)
            problems.Add($"{nameof(LoggerFactory)} must not be null; use NullLoggerFactory.Instance for no logging.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(SliceApplyOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }
}

/// <summary>Progress of applying SFs: rows whose membership is complete in every slice.</summary>
/// <param name="RowsDone">Rows finished so far.</param>
/// <param name="TotalRows">Rows in the data set.</param>
public readonly record struct SliceApplyProgress(int RowsDone, int TotalRows)
{
    /// <summary>RowsDone / TotalRows, in [0, 1] (1 for an empty data set).</summary>
    public double Fraction => TotalRows == 0 ? 1 : (double)RowsDone / TotalRows;
}

/// <summary>One failure of an SF on one row.</summary>
/// <param name="SliceName">The SF that threw.</param>
/// <param name="Row">The zero-based row.</param>
/// <param name="Exception">What the SF threw.</param>
public sealed record SliceFunctionError(string SliceName, int Row, Exception Exception);

/// <summary>The slice matrix plus what went wrong while computing it.</summary>
public sealed class SliceApplyResult
{
    internal SliceApplyResult(SliceMatrix matrix, int[] errorCounts, IReadOnlyList<SliceFunctionError> errors)
    {
        Matrix = matrix;
        ErrorCounts = errorCounts;
        Errors = errors;
    }

    /// <summary>The membership matrix (base slice first).</summary>
    public SliceMatrix Matrix { get; }

    /// <summary>Per SF (in the set's order, without the base slice), how many rows it threw on.</summary>
    public IReadOnlyList<int> ErrorCounts { get; }

    /// <summary>Total SF failures over all SFs and rows.</summary>
    public long TotalErrors => ErrorCounts.Sum(c => (long)c);

    /// <summary>The first failures (up to <see cref="SliceApplyOptions.MaxRecordedErrors"/>), ordered by SF then row.</summary>
    public IReadOnlyList<SliceFunctionError> Errors { get; }
}

internal static partial class SliceLog
{
    [LoggerMessage(EventId = 401, EventName = "SlicingFunctionFailed", Level = LogLevel.Warning,
        Message = "Slicing function '{SliceName}' threw on {ErrorCount} of {RowCount} rows (first at row {FirstRow}); those rows are treated as non-members.")]
    public static partial void SlicingFunctionFailed(ILogger logger, string sliceName, int errorCount, int rowCount, int firstRow, Exception firstException);

    [LoggerMessage(EventId = 402, EventName = "SlicesApplied", Level = LogLevel.Debug,
        Message = "Applied {SliceCount} slicing functions to {RowCount} rows.")]
    public static partial void SlicesApplied(ILogger logger, int sliceCount, int rowCount);
}
