using System.Globalization;
using static TorchSharp.torch;

namespace SliceLearning.Runtime;

/// <summary>
/// The one place class indices (labels, predicted classes) are checked against the class count:
/// the first value outside [0, C) is reported with its row.
/// </summary>
internal static class LabelChecks
{
    /// <summary>
    /// Checks int64 labels on any device with two host syncs (min and max), finding the row only
    /// when one is out of range.
    /// </summary>
    /// <param name="labels">Class indices [N].</param>
    /// <param name="numClasses">C; null checks only that no label is negative (C not known yet).</param>
    /// <param name="paramName">The argument the labels came from.</param>
    /// <param name="rows">How the message names a row ("row", "training row", ...).</param>
    /// <exception cref="SliceDataException">A label is outside [0, C) (or negative); the message names it and its row.</exception>
    public static void InRange(Tensor labels, long? numClasses, string paramName, string rows = "row")
    {
        if (labels.numel() == 0) return;
        using var scope = NewDisposeScope();
        long min = labels.min().item<long>();
        long max = numClasses is null ? min : labels.max().item<long>();
        long? bad = min < 0 ? min : numClasses is long c && max >= c ? max : null;
        if (bad is not long value) return;
        long row = ScalarMath.Eq(labels, value).nonzero()[0, 0].item<long>();
        string message = numClasses is long classes
            ? string.Create(CultureInfo.InvariantCulture, $"Label {value} at {rows} {row} is outside [0, {classes}) for a {classes}-class model.")
            : string.Create(CultureInfo.InvariantCulture, $"Label {value} at {rows} {row} is negative; labels are class indices 0..C-1.");
        throw new SliceDataException(message, paramName, row: row);
    }

    /// <summary>Checks class indices held on the host.</summary>
    /// <param name="values">Class indices, one per row.</param>
    /// <param name="numClasses">C.</param>
    /// <param name="what">What the values are ("Label", "Prediction").</param>
    /// <param name="paramName">The argument the values came from.</param>
    /// <exception cref="SliceDataException">A value is outside [0, C); the message names it and its row.</exception>
    public static void InRange(ReadOnlySpan<int> values, int numClasses, string what, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if ((uint)values[i] >= (uint)numClasses)
                throw new SliceDataException(string.Create(CultureInfo.InvariantCulture, $"{what} {values[i]} at row {i} is outside [0, {numClasses})."), paramName, row: i);
        }
    }
}
