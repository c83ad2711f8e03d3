using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Per-slice validation loss of any <see cref="ITrainableModel"/>.</summary>
public static class SliceLossExtensions
{
    /// <summary>
    /// The mean cross-entropy of the model's predictions (its logits, no SFs) on the members of each
    /// slice of <paramref name="data"/>, in the order of <c>data.Slices.SliceNames</c> (base slice
    /// first, so element 0 is the loss on the whole set). A slice with no member gets NaN. Runs in
    /// evaluation mode without gradients and restores the previous mode.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="data">Labelled rows with their slice membership.</param>
    /// <param name="batchSize">Rows per forward pass.</param>
    /// <exception cref="SliceDataException">The data set is empty or a label is outside the model's classes; the message names the row.</exception>
    public static double[] SliceLosses(this ITrainableModel model, SliceDataset data, int batchSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Count == 0) throw new SliceDataException("Cannot compute slice losses on an empty data set (0 rows).", nameof(data));
        Runtime.LabelChecks.InRange(data.Labels, model.NumClasses, nameof(data));
        var module = model.Module;
        var perRow = new double[data.Count];
        ModelMode.InEvaluation(module, () =>
        {
            var device = ModelExtensions.DeviceOf(module);
            for (int start = 0; start < data.Count; start += batchSize)
            {
                int length = Math.Min(batchSize, data.Count - start);
                using var scope = NewDisposeScope();
                var x = data.Features.narrow(0, start, length).to(device);
                var y = data.Labels.narrow(0, start, length).to(device);
                var loss = nn.functional.cross_entropy(model.Logits(x), y, reduction: nn.Reduction.None).to(float64).cpu();
                loss.data<double>().CopyTo(perRow.AsSpan(start, length));
            }
            return 0;
        });
        var slices = data.Slices;
        var result = new double[slices.ColumnCount];
        for (int c = 0; c < result.Length; c++)
        {
            var members = slices.Members(c);
            double sum = 0;
            foreach (int r in members) sum += perRow[r];
            result[c] = members.Length == 0 ? double.NaN : sum / members.Length;
        }
        return result;
    }
}
