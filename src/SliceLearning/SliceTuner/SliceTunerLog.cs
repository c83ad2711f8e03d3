using Microsoft.Extensions.Logging;

namespace SliceLearning.SliceTuner;

internal static partial class SliceTunerLog
{
    [LoggerMessage(EventId = 7001, EventName = "EstimationStarted", Level = LogLevel.Debug,
        Message = "Estimating learning curves ({Method}) for {Slices} slices with {Trainings} trainings")]
    public static partial void EstimationStarted(ILogger logger, EstimationMethod method, int slices, int trainings);

    [LoggerMessage(EventId = 7002, EventName = "EstimationFinished", Level = LogLevel.Information,
        Message = "Estimated learning curves with {Trainings} trainings in {Seconds:F1} s")]
    public static partial void EstimationFinished(ILogger logger, int trainings, double seconds);

    [LoggerMessage(EventId = 7003, EventName = "CurveNotUsable", Level = LogLevel.Warning,
        Message = "The learning curve of slice #{Slice} is not usable ({Status}): {Reason}")]
    public static partial void CurveNotUsable(ILogger logger, int slice, CurveFitStatus status, string reason);

    [LoggerMessage(EventId = 7004, EventName = "IterationFinished", Level = LogLevel.Information,
        Message = "Iteration {Iteration}: acquired {Acquired} examples (change ratio {ChangeRatio:F3}, limit T {Limit}), budget left {BudgetLeft}, imbalance ratio {Imbalance:F3}")]
    public static partial void IterationFinished(ILogger logger, int iteration, int acquired, double changeRatio, double limit, double budgetLeft, double imbalance);

    [LoggerMessage(EventId = 7005, EventName = "IterativeStopped", Level = LogLevel.Information,
        Message = "Iterative acquisition stopped after {Iterations} iterations: {Reason}")]
    public static partial void IterativeStopped(ILogger logger, int iterations, IterativeStopReason reason);

    [LoggerMessage(EventId = 7006, EventName = "CurveReplaced", Level = LogLevel.Warning,
        Message = "Slice #{Slice}: its learning curve is not usable ({Status}); under policy {Policy} it is replaced by a = {A:G4}, b = {B:G4} for this iteration")]
    public static partial void CurveReplaced(ILogger logger, int slice, CurveFitStatus status, UnusableCurvePolicy policy, double a, double b);
}
