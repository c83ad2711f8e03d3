namespace SliceLearning.SliceTuner;

/// <summary>
/// Which training examples of each slice one training run uses. Slice i's examples are numbered
/// 0 .. size_i - 1 (in the order the user keeps them, acquired ones appended at the end);
/// <see cref="Indices"/>[i] lists the ones to train on.
/// </summary>
public sealed class SliceSample
{
    internal SliceSample(IReadOnlyList<int[]> indices, int seed, EstimationMethod method, int repeat, int point, int? targetSlice)
    {
        Indices = indices;
        Seed = seed;
        Method = method;
        Repeat = repeat;
        Point = point;
        TargetSlice = targetSlice;
    }

    /// <summary>Per slice, the example numbers to train on (each within 0 .. size - 1, no duplicates).</summary>
    public IReadOnlyList<int[]> Indices { get; }

    /// <summary>The seed the training run should use (derived from the estimation seed, the repeat and the point).</summary>
    public int Seed { get; }

    /// <summary>The estimation method that asked for this run.</summary>
    public EstimationMethod Method { get; }

    /// <summary>The zero-based repeat.</summary>
    public int Repeat { get; }

    /// <summary>The zero-based point of the curve (subset size rank, smallest first).</summary>
    public int Point { get; }

    /// <summary>For exhaustive estimation, the slice whose subset varies (the others are whole); null for amortized.</summary>
    public int? TargetSlice { get; }

    /// <summary>Total number of examples in the sample.</summary>
    public int TotalCount => Indices.Sum(i => i.Length);
}

/// <summary>
/// The model-specific part of Slice Tuner: trains a fresh model on a sample of the training data
/// and returns each slice's validation loss. SliceLearning never sees the model or the data.
/// </summary>
public interface ISliceLossEvaluator
{
    /// <summary>Trains on <paramref name="sample"/> and returns one validation loss per slice (same order as the slices).</summary>
    /// <param name="sample">Which examples of each slice to train on, and the seed to use.</param>
    /// <param name="cancellationToken">Cancels the training.</param>
    IReadOnlyList<double> TrainAndEvaluate(SliceSample sample, CancellationToken cancellationToken);
}

/// <summary>Creates an <see cref="ISliceLossEvaluator"/> from a delegate.</summary>
public static class SliceLossEvaluator
{
    /// <summary>Wraps <paramref name="trainAndEvaluate"/> as an evaluator.</summary>
    public static ISliceLossEvaluator Create(Func<SliceSample, CancellationToken, IReadOnlyList<double>> trainAndEvaluate)
    {
        ArgumentNullException.ThrowIfNull(trainAndEvaluate);
        return new DelegateEvaluator(trainAndEvaluate);
    }

    /// <summary>
    /// An evaluator that trains a fresh model from <paramref name="modelFactory"/> with
    /// <see cref="Training.SliceTrainer"/> on each sample and returns each slice's mean
    /// cross-entropy on <paramref name="validation"/> (see <see cref="TrainerLossEvaluator"/>).
    /// </summary>
    /// <param name="modelFactory">Creates an untrained model; called once per training, after torch is seeded with the training's seed.</param>
    /// <param name="train">All training rows the slices refer to (the caller keeps ownership).</param>
    /// <param name="sliceRows">Per slice, its rows of <paramref name="train"/>; example j of slice i is <c>sliceRows[i][j]</c>. Read at each training, so appended rows count.</param>
    /// <param name="validation">Validation rows; Slice Tuner slice i is its slice column i + 1 (column 0 is the base slice). The caller keeps ownership.</param>
    /// <param name="configureTrainer">Sets epochs, batch size, optimizer, schedule (not the data or the seed, which the evaluator sets); null for the trainer's defaults.</param>
    /// <exception cref="SliceDataException">The validation data does not have one non-empty slice per entry of <paramref name="sliceRows"/>.</exception>
    public static TrainerLossEvaluator FromTrainer(Func<Models.ITrainableModel> modelFactory, Training.SliceDataset train, IReadOnlyList<IReadOnlyList<int>> sliceRows,
        Training.SliceDataset validation, Action<Training.SliceTrainer>? configureTrainer = null) =>
        new(modelFactory, train, sliceRows, validation, configureTrainer);

    private sealed class DelegateEvaluator(Func<SliceSample, CancellationToken, IReadOnlyList<double>> func) : ISliceLossEvaluator
    {
        public IReadOnlyList<double> TrainAndEvaluate(SliceSample sample, CancellationToken cancellationToken) => func(sample, cancellationToken);
    }
}
