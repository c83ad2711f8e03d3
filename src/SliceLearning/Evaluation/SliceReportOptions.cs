using System.Globalization;
namespace SliceLearning.Evaluation;

/// <summary>Options of <see cref="SliceReport.Create"/>.</summary>
/// <remarks>
/// Defaults: <see cref="BootstrapResamples"/> 1000, <see cref="ConfidenceLevel"/> 0.95,
/// <see cref="Seed"/> 42, <see cref="MaxDegreeOfParallelism"/> -1 (one thread per core).
/// </remarks>
public sealed class SliceReportOptions
{
    /// <summary>Number of bootstrap resamples per slice for the confidence intervals; 0 turns intervals off.</summary>
    /// <value>The default value is 1000.</value>
    public int BootstrapResamples { get; set; } = 1000;

    /// <summary>Two-sided confidence level of the intervals, in (0, 1).</summary>
    /// <value>The default value is 0.95.</value>
    public double ConfidenceLevel { get; set; } = 0.95;

    /// <summary>Seed of the bootstrap. The same seed and data give the same intervals on any number of threads.</summary>
    /// <value>The default value is 42.</value>
    public int Seed { get; set; } = 42;

    /// <summary>Maximum number of threads used for the bootstrap (resamples run in parallel); -1 means one per logical core.</summary>
    /// <value>The default value is -1.</value>
    public int MaxDegreeOfParallelism { get; set; } = -1;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">Lists every invalid option with its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (BootstrapResamples < 0)
            problems.Add($"{nameof(BootstrapResamples)} must be 0 (no intervals) or positive. Got {BootstrapResamples}.");
        if (!(ConfidenceLevel > 0 && ConfidenceLevel < 1))
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(ConfidenceLevel)} must be in (0, 1). Got {ConfidenceLevel}."));
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
            problems.Add($"{nameof(MaxDegreeOfParallelism)} must be -1 (one thread per core) or positive. Got {MaxDegreeOfParallelism}.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(SliceReportOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }
}
