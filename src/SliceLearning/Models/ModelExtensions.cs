using SliceLearning.Evaluation;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>Prediction, evaluation and size helpers for every <see cref="ITrainableModel"/>.</summary>
public static class ModelExtensions
{
    /// <summary>
    /// Predicts class probabilities [N, C] (softmax of the logits, on the CPU) and classes for N
    /// examples, in batches, in evaluation mode without gradients (the previous mode is restored).
    /// Needs no SFs. The caller disposes <c>Probabilities</c>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="features">Backbone input [N, ...]; moved to the model's device batch by batch.</param>
    /// <param name="batchSize">Rows per forward pass.</param>
    /// <exception cref="SliceDataException">The features are empty, have a NaN or infinite value (the message names the row), or do not fit the backbone.</exception>
    /// <remarks>Safe to call from several threads, also while the model trains: calls take the model's mode lock in turn, so the train/eval flag is never left wrong.</remarks>
    public static (Tensor Probabilities, int[] Classes) Predict(this ITrainableModel model, Tensor features, int batchSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (model is SliceModelBase { IsDisposed: true }) throw new ObjectDisposedException(model.GetType().Name);
        if (features.dim() == 0 || features.shape[0] == 0)
            throw new SliceDataException("Cannot predict on an empty set of features (0 rows).", nameof(features));
        ModelInputChecks.Finite(features);
        return PredictChecked(model, features, batchSize);
    }

    /// <summary>Predict without the finiteness check (data sets are checked when built).</summary>
    internal static (Tensor Probabilities, int[] Classes) PredictChecked(ITrainableModel model, Tensor features, int batchSize)
    {
        var module = model.Module;
        return ModelMode.InEvaluation(module, () =>
        {
            using var scope = NewDisposeScope();
            var device = DeviceOf(module);
            long n = features.shape[0];
            var parts = new List<Tensor>();
            for (long start = 0; start < n; start += batchSize)
            {
                long length = Math.Min(batchSize, n - start);
                var batch = features.narrow(0, start, length).to(device);
                parts.Add(model.Logits(batch).softmax(1).cpu());
            }
            var probabilities = parts.Count == 1 ? parts[0] : cat(parts, 0);
            long[] classes64 = probabilities.argmax(1).data<long>().ToArray();
            var classes = Array.ConvertAll(classes64, c => (int)c);
            return (scope.MoveToOuter(probabilities), classes);
        });
    }

    /// <summary>
    /// Predicts <paramref name="data"/> (features only: SFs are not used for prediction) and
    /// measures every slice of it: a <see cref="SliceReport"/> with a row per slice, the base
    /// slice ("base") being all rows.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="data">Labelled data with slice membership.</param>
    /// <param name="options">Bootstrap settings of the report; null for the defaults.</param>
    public static SliceReport Evaluate(this ITrainableModel model, SliceDataset data, SliceReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        // A SliceDataset's features were checked to be finite when it was built.
        var (probabilities, classes) = PredictChecked(model, data.Features, 1024);
        probabilities.Dispose();
        var labels = Array.ConvertAll(data.Labels.data<long>().ToArray(), l => (int)l);
        return SliceReport.Create(data.Slices, labels, classes, model.NumClasses, options);
    }

    /// <summary>Number of scalar parameters of the model (trainable or not), including the backbone.</summary>
    public static long ParameterCount(this ITrainableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long total = 0;
        foreach (var p in model.Module.parameters()) total += p.numel();
        return total;
    }

    internal static Device DeviceOf(nn.Module module)
    {
        foreach (var p in module.parameters()) return p.device;
        return CPU;
    }
}
