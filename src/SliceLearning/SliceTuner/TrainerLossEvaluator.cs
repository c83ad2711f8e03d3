using SliceLearning.Models;
using SliceLearning.Training;
using static TorchSharp.torch;

namespace SliceLearning.SliceTuner;

/// <summary>
/// A Slice Tuner loss evaluator that trains a fresh model from a factory with <see cref="SliceTrainer"/>
/// and measures each slice's validation loss with <see cref="SliceLossExtensions.SliceLosses"/>
/// (mean cross-entropy of the predictions). Create it with <see cref="SliceLossEvaluator.FromTrainer"/>.
/// </summary>
/// <remarks>
/// <para>Slice i's example j is row <c>sliceRows[i][j]</c> of the training data set. The rows are read
/// at every training, so rows a data acquirer appends to a slice's list are used from then on.</para>
/// <para>Seeding: for a training with seed s, torch's generator is seeded with s and the model is
/// created (under a process-wide lock, so the initial weights depend on s only), then the trainer
/// shuffles with s. The trainer settings' own seed is replaced.</para>
/// <para>Thread safety: trainings may run in parallel (<see cref="CurveEstimationOptions.MaxDegreeOfParallelism"/>).
/// They give the same losses as sequential ones when the model draws no torch random numbers while
/// training (no dropout), because torch has one global generator; initialisation is always
/// deterministic. Use one torch thread per worker.</para>
/// </remarks>
public sealed class TrainerLossEvaluator : ISliceLossEvaluator
{
    private static readonly Lock TorchSeedGate = new();
    private readonly Func<ITrainableModel> _modelFactory;
    private readonly SliceDataset _train;
    private readonly IReadOnlyList<IReadOnlyList<int>> _sliceRows;
    private readonly SliceDataset _validation;
    private readonly Action<SliceTrainer>? _configure;
    private int _trainings;

    internal TrainerLossEvaluator(Func<ITrainableModel> modelFactory, SliceDataset train, IReadOnlyList<IReadOnlyList<int>> sliceRows,
        SliceDataset validation, Action<SliceTrainer>? configureTrainer)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(sliceRows);
        ArgumentNullException.ThrowIfNull(validation);
        if (sliceRows.Count == 0) throw new ArgumentException("At least one slice is needed.", nameof(sliceRows));
        if (validation.Slices.SliceCount != sliceRows.Count)
            throw new SliceDataException(
                $"The validation data has {validation.Slices.SliceCount} slices besides the base ({string.Join(", ", validation.Slices.SliceNames.Skip(1))}) " +
                $"but sliceRows lists {sliceRows.Count}; slice i's validation rows are the members of validation slice column i + 1.", nameof(validation));
        for (int i = 0; i < sliceRows.Count; i++)
        {
            if (validation.Slices.MemberCount(i + 1) == 0)
                throw new SliceDataException($"Validation slice '{validation.Slices.SliceNames[i + 1]}' (Slice Tuner slice #{i}) has no rows; its loss cannot be measured.",
                    nameof(validation), sliceName: validation.Slices.SliceNames[i + 1]);
        }
        _modelFactory = modelFactory;
        _train = train;
        _sliceRows = sliceRows;
        _validation = validation;
        _configure = configureTrainer;
    }

    /// <summary>The number of trainings run so far (thread-safe).</summary>
    public int Trainings => Volatile.Read(ref _trainings);

    /// <summary>The validation data set the per-slice losses are measured on.</summary>
    public SliceDataset Validation => _validation;

    /// <inheritdoc />
    /// <exception cref="SliceDataException">An example number is outside its slice's row list, or a row outside the training data.</exception>
    public IReadOnlyList<double> TrainAndEvaluate(SliceSample sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Indices.Count != _sliceRows.Count)
            throw new SliceDataException($"The sample has {sample.Indices.Count} slices but the evaluator was built for {_sliceRows.Count}.", nameof(sample));
        var rows = new int[sample.TotalCount];
        int n = 0;
        for (int i = 0; i < sample.Indices.Count; i++)
        {
            var list = _sliceRows[i];
            foreach (int j in sample.Indices[i])
            {
                if ((uint)j >= (uint)list.Count)
                    throw new SliceDataException($"Example {j} of slice #{i} is outside its {list.Count} rows.", nameof(sample), sliceName: $"#{i}");
                rows[n++] = list[j];
            }
        }
        var losses = TrainAndMeasure(rows, sample.Seed, _validation, cancellationToken);
        return losses[1..];
    }

    /// <summary>
    /// Trains a fresh model on <paramref name="trainRows"/> (rows of the training data set) with
    /// <paramref name="seed"/> and returns its loss on every slice column of <paramref name="validation"/>
    /// (base first: element 0 is the loss on the whole set). For final models and reports.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A row is outside the training data.</exception>
    public double[] TrainAndMeasure(IReadOnlyList<int> trainRows, int seed, SliceDataset validation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainRows);
        ArgumentNullException.ThrowIfNull(validation);
        if (trainRows.Count == 0) throw new SliceDataException("A training needs at least one row; the sample is empty.", nameof(trainRows));
        using var subset = _train.Subset(trainRows as int[] ?? trainRows.ToArray());
        ITrainableModel model;
        lock (TorchSeedGate)
        {
            manual_seed(seed);
            model = _modelFactory() ?? throw new InvalidOperationException("The model factory returned null.");
        }
        using (model)
        {
            var trainer = SliceTrainer.For(model).WithData(subset);
            _configure?.Invoke(trainer);
            trainer.WithData(subset).WithShuffleSeed(seed).Fit(cancellationToken);
            Interlocked.Increment(ref _trainings);
            return model.SliceLosses(validation);
        }
    }
}
