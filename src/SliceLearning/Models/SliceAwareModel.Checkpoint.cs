using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

public sealed partial class SliceAwareModel
{
    /// <summary>Saves the weights, slice names, sizes and options atomically (see <see cref="ModelCheckpoint"/>).</summary>
    /// <param name="path">The checkpoint file; replaced only when the new file is complete.</param>
    public void Save(string path) => ModelCheckpoint.Save(this, path);

    /// <summary>
    /// Recreates a slice-aware model from a checkpoint: builds it over <paramref name="backbone"/>
    /// with the saved slice names, class count, width and options, then loads the weights (including
    /// the backbone's).
    /// </summary>
    /// <param name="path">A checkpoint written by <see cref="Save"/>.</param>
    /// <param name="backbone">A freshly constructed backbone of the same architecture as the saved one.</param>
    /// <exception cref="CheckpointMismatchException">The checkpoint is not a slice-aware model's or does not fit the backbone.</exception>
    public static SliceAwareModel Load(string path, nn.Module<Tensor, Tensor> backbone)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        var info = ModelCheckpoint.ReadInfo(path);
        if (info.ModelType != typeof(SliceAwareModel).FullName || info.Options is null || info.BackboneWidth is null)
            throw new CheckpointMismatchException($"The checkpoint '{path}' holds a {info.ModelType}, not a {nameof(SliceAwareModel)}.");
        var options = info.Options.ToOptions();
        var model = Create(backbone, info.BackboneWidth.Value, info.NumClasses, info.SliceNames, o =>
        {
            o.ExpertSize = options.ExpertSize;
            o.Temperature = options.Temperature;
            o.Attention = options.Attention;
            o.Backpropagation = options.Backpropagation;
            o.SliceHeadNormalization = options.SliceHeadNormalization;
            o.PredictionLossWeight = options.PredictionLossWeight;
            o.SliceHeadLossWeight = options.SliceHeadLossWeight;
            o.IndicatorLossWeight = options.IndicatorLossWeight;
        });
        try
        {
            ModelCheckpoint.Load(model, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
