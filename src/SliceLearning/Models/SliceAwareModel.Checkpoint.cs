using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

public sealed partial class SliceAwareModel
{
    /// <summary>
    /// Recreates a slice-aware model from a checkpoint: builds it over <paramref name="backbone"/>
    /// with the saved slice names, class count, width and options, then loads the weights (including
    /// the backbone's). The file is verified in full before any weight is copied.
    /// </summary>
    /// <param name="path">A checkpoint written by <see cref="SliceModelBase.Save"/>.</param>
    /// <param name="backbone">A freshly constructed backbone of the same architecture as the saved one.</param>
    /// <exception cref="CheckpointMismatchException">The checkpoint is not a slice-aware model's or does not fit the backbone.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or is truncated or corrupt.</exception>
    public static SliceAwareModel Load(string path, nn.Module<Tensor, Tensor> backbone)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        return ModelCheckpoint.Recreate(path, info =>
        {
            var options = OptionsFromJson<SliceAwareOptions>(info.Options, path);
            long width = info.RequireBackboneWidth(path);
            options.Validate(width);
            return new SliceAwareModel(backbone, width, info.NumClasses, CheckSliceNames(info.SliceNames), options);
        });
    }
}
