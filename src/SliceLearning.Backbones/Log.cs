using Microsoft.Extensions.Logging;

namespace SliceLearning.Backbones;

/// <summary>Source-generated log messages of the backbones assembly.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 8001, EventName = "WeightsLoaded", Level = LogLevel.Information,
        Message = "Loaded {Model} weights from {Source} in {ElapsedMs} ms")]
    internal static partial void LoadedWeights(this ILogger logger, string source, string model, long elapsedMs);
}
