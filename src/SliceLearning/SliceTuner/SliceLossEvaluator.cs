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

    private sealed class DelegateEvaluator(Func<SliceSample, CancellationToken, IReadOnlyList<double>> func) : ISliceLossEvaluator
    {
        public IReadOnlyList<double> TrainAndEvaluate(SliceSample sample, CancellationToken cancellationToken) => func(sample, cancellationToken);
    }
}
