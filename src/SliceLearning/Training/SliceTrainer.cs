using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.Training.DataParallel;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Training;

/// <summary>
/// Fluent trainer for any <see cref="ITrainableModel"/> (SRAM or a baseline): mini-batches with
/// seeded shuffling, Adam/AdamW/SGD, a learning-rate schedule, early stopping on a validation
/// metric, logging, progress and cancellation. The <c>With...</c> steps only record settings;
/// <see cref="Fit"/> validates them, seeds once and trains.
/// </summary>
/// <remarks>
/// The seed (<see cref="WithSeed"/>) drives torch's generator (and so dropout and any
/// initialisation done during training) and the shuffling of the training rows. Two fits with one
/// seed are bit-identical on the CPU with one thread (<see cref="ComputeDevice.SetCpuThreads"/>);
/// TorchSharp offers no deterministic mode for multi-threaded or CUDA kernels.
/// </remarks>
public sealed class SliceTrainer
{
    /// <summary>Default number of epochs.</summary>
    public const int DefaultEpochs = 10;

    /// <summary>Default mini-batch size.</summary>
    public const int DefaultBatchSize = 64;

    private readonly ITrainableModel _model;
    private SliceDataset? _train;
    private SliceDataset? _validation;
    private bool _ownsData;
    private int _epochs = DefaultEpochs;
    private int _batchSize = DefaultBatchSize;
    private OptimizerOptions _optimizer = new();
    private LearningRateSchedule _schedule = LearningRateSchedule.Constant;
    private int? _patience;
    private ValidationMetric _metric = ValidationMetric.OverallF1;
    private bool _restoreBest = true;
    private int? _seed;
    private double? _maxGradientNorm;
    private bool _seedTorch = true;
    private DevicePreference _device = DevicePreference.Cpu;
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private IProgress<TrainingProgress>? _progress;
    private DataParallelSteps? _parallel;

    private SliceTrainer(ITrainableModel model) => _model = model;

    /// <summary>Starts configuring the training of <paramref name="model"/>.</summary>
    public static SliceTrainer For(ITrainableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new SliceTrainer(model);
    }

    /// <summary>Trains on <paramref name="train"/>; validates after each epoch on <paramref name="validation"/> when given. The caller keeps ownership of both.</summary>
    public SliceTrainer WithData(SliceDataset train, SliceDataset? validation = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ReleaseOwnedData();
        _train = train;
        _validation = validation;
        _ownsData = false;
        return this;
    }

    /// <summary>
    /// Trains on examples: featurizes, labels and slices them with <paramref name="slices"/>. The
    /// trainer builds the data sets and disposes them when <see cref="Fit"/> ends.
    /// </summary>
    public SliceTrainer WithData<T>(IReadOnlyList<T> train, IReadOnlyList<T>? validation, Func<T, float[]> featurize, Func<T, int> label, SliceSet<T> slices)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(featurize);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(slices);
        ReleaseOwnedData();
        _train = SliceDataset.From(train, featurize, label, slices);
        _validation = validation is null ? null : SliceDataset.From(validation, featurize, label, slices);
        _ownsData = true;
        return this;
    }

    /// <summary>Number of passes over the training data (default <see cref="DefaultEpochs"/>).</summary>
    public SliceTrainer WithEpochs(int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        _epochs = epochs;
        return this;
    }

    /// <summary>Rows per training step (default <see cref="DefaultBatchSize"/>); the last batch of an epoch may be smaller.</summary>
    public SliceTrainer WithBatchSize(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _batchSize = batchSize;
        return this;
    }

    /// <summary>The optimizer (default: Adam, learning rate 1e-3).</summary>
    public SliceTrainer WithOptimizer(OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _optimizer = options.Clone();
        return this;
    }

    /// <summary>The learning-rate schedule (default <see cref="LearningRateSchedule.Constant"/>).</summary>
    public SliceTrainer WithLearningRateSchedule(LearningRateSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        _schedule = schedule;
        return this;
    }

    /// <summary>
    /// Stops when <paramref name="metric"/> (default overall F1) has not improved on the
    /// validation set for <paramref name="patience"/> epochs, and by default restores the weights of
    /// the best epoch. Needs validation data.
    /// </summary>
    public SliceTrainer WithEarlyStopping(int patience, ValidationMetric? metric = null, bool restoreBestWeights = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        _patience = patience;
        _metric = metric ?? ValidationMetric.OverallF1;
        _restoreBest = restoreBestWeights;
        return this;
    }

    /// <summary>The validation metric reported each epoch without early stopping (default overall F1).</summary>
    public SliceTrainer WithValidationMetric(ValidationMetric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        _metric = metric;
        return this;
    }

    /// <summary>
    /// Clips the gradients after every backward pass so that their global L2 norm (over all
    /// parameters together, as one vector) is at most <paramref name="maxNorm"/> (default: no clipping).
    /// </summary>
    /// <param name="maxNorm">The largest allowed global gradient norm, a finite number &gt; 0 (1.0 is a common choice).</param>
    public SliceTrainer WithGradientClipping(double maxNorm)
    {
        if (!(maxNorm > 0) || !double.IsFinite(maxNorm))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The gradient clipping norm must be a finite number > 0.");
        _maxGradientNorm = maxNorm;
        return this;
    }

    /// <summary>Seeds torch and the shuffling once at the start of <see cref="Fit"/> (see the remarks on the class).</summary>
    public SliceTrainer WithSeed(int seed)
    {
        _seed = seed;
        _seedTorch = true;
        return this;
    }

    /// <summary>
    /// Seeds only the shuffling; torch's generator is left as it is (for callers that seeded it
    /// themselves before creating the model, e.g. the Slice Tuner loss evaluator, so the global
    /// generator is seeded once per training).
    /// </summary>
    internal SliceTrainer WithShuffleSeed(int seed)
    {
        _seed = seed;
        _seedTorch = false;
        return this;
    }

    /// <summary>Where to train (default CPU). The model is moved there.</summary>
    public SliceTrainer OnDevice(DevicePreference device)
    {
        if (!Enum.IsDefined(device)) throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown device preference.");
        _device = device;
        return this;
    }

    /// <summary>Logs start, epochs (Debug), early stopping and the end through <paramref name="loggerFactory"/>.</summary>
    public SliceTrainer WithLogging(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _loggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Reports a <see cref="TrainingProgress"/> after every epoch.</summary>
    public SliceTrainer WithProgress(IProgress<TrainingProgress> progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        _progress = progress;
        return this;
    }

    /// <summary>
    /// Trains data-parallel: this process is one rank of <paramref name="coordinator"/>'s group and
    /// the data given to <see cref="WithData(SliceDataset, SliceDataset?)"/> is its shard. Rank 0's
    /// initial weights are broadcast, every step's gradients are summed over the ranks (the step
    /// loss is the mean over the rows all ranks took), validation scores are computed over all
    /// shards exactly, and all ranks stop together. Every rank must use the same settings and seed.
    /// A failure on one rank stops every rank through <see cref="IDataParallelCoordinator.Fail"/>.
    /// </summary>
    public SliceTrainer WithDataParallel(IDataParallelCoordinator coordinator)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        _parallel = coordinator.WorldSize > 1 ? new DataParallelSteps(coordinator) : null;
        return this;
    }

    /// <summary>
    /// Trains the model. Cancellation is checked before every batch; on cancellation the model
    /// keeps the weights of the last completed step and <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    /// <exception cref="InvalidOperationException">No data, or early stopping without validation data.</exception>
    /// <exception cref="SliceDataException">The data does not fit the model (label out of range, other slices, empty).</exception>
    public TrainingResult Fit(CancellationToken cancellationToken = default)
    {
        try
        {
            return FitCore(cancellationToken);
        }
        catch (Exception e) when (_parallel is not null && e is not OperationCanceledException)
        {
            // One rank failing must stop all of them, never leave the others waiting in a collective.
            _parallel.Group.Fail(e);
            throw;
        }
        finally
        {
            ReleaseOwnedData();
        }
    }

    private void ReleaseOwnedData()
    {
        if (!_ownsData) return;
        _train?.Dispose();
        _validation?.Dispose();
        _train = _validation = null;
        _ownsData = false;
    }

    private TrainingResult FitCore(CancellationToken cancellationToken)
    {
        var train = _train ?? throw new InvalidOperationException("No training data: call WithData(...) before Fit().");
        var validation = _validation;
        if (_patience is not null && validation is null)
            throw new InvalidOperationException("Early stopping needs validation data: pass it to WithData(train, validation).");
        CheckData(train, "training");
        if (validation is not null)
        {
            CheckData(validation, "validation");
            _metric.Check(validation.Slices);
        }

        var logger = _loggerFactory.CreateLogger<SliceTrainer>();
        var clock = Stopwatch.StartNew();
        var device = ComputeDevice.Resolve(_device);
        var module = _model.Module;
        module.to(device);
        if (_seed is int seed && _seedTorch) manual_seed(seed);
        var random = _seed is int s ? new Random(s) : new Random();
        Log.TrainingStarted(logger, _model.GetType().Name, _model.ParameterCount(), device.ToString(), train.Count, _epochs, _batchSize,
            _optimizer.Kind.ToString(), _optimizer.LearningRate, _seed?.ToString(CultureInfo.InvariantCulture) ?? "none");

        int[] shardSizes = _parallel?.ShardSizes(train.Count) ?? [train.Count];
        int totalRows = shardSizes.Sum();
        int stepsPerEpoch = DataParallelSteps.StepsPerEpoch(shardSizes, _batchSize);
        _parallel?.BroadcastWeights(module);
        var parameters = module.parameters().Where(p => p.requires_grad).ToArray();
        bool[][] rowMembership = _parallel is null ? [] : MembershipRows(train);
        StepNormalization.StepCounts[] stepCounts = [];

        using var optimizer = CreateOptimizer(module);
        var losses = new List<double>();
        var scores = new List<double>();
        double best = double.NegativeInfinity;
        int bestEpoch = 0, sinceBest = 0, epoch = 0;
        bool stoppedEarly = false;
        Dictionary<string, Tensor>? bestWeights = null;
        var order = Enumerable.Range(0, train.Count).ToArray();
        try
        {
            for (epoch = 1; epoch <= _epochs; epoch++)
            {
                double lr = _schedule.RateAt(epoch - 1, _epochs, _optimizer.LearningRate);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                module.train();
                random.Shuffle(order);
                if (_parallel is not null) stepCounts = _parallel.AgreeOnEpoch(order, rowMembership, train.Slices.ColumnCount, stepsPerEpoch, _batchSize);
                double lossSum = 0;
                for (int step = 0; step < stepsPerEpoch; step++)
                {
                    int start = step * _batchSize;
                    int length = Math.Clamp(order.Length - start, 0, _batchSize);
                    using var scope = NewDisposeScope();
                    optimizer.zero_grad();
                    Tensor? index = length == 0 ? null : tensor(Array.ConvertAll(order[start..(start + length)], i => (long)i), new long[] { length });
                    Tensor? membership = index is null ? null : train.Membership.index_select(0, index).to(device);
                    if (_parallel is null)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var loss = _model.Loss(train.Features.index_select(0, index!).to(device), train.Labels.index_select(0, index!).to(device), membership!);
                        loss.backward();
                        lossSum += loss.item<float>() * (double)length;
                    }
                    else
                    {
                        lossSum += ParallelStep(train, index, membership, length, stepCounts[step], parameters, device, cancellationToken);
                    }
                    // Native clip of the step's (summed) gradients: doubles cross the boundary, no managed Scalar is created.
                    if (_maxGradientNorm is double maxNorm) nn.utils.clip_grad_norm_(parameters, maxNorm);
                    optimizer.step();
                }
                double epochLoss = (_parallel?.Sum(lossSum) ?? lossSum) / totalRows;
                losses.Add(epochLoss);

                double? score = null;
                if (validation is not null)
                {
                    double value = Validate(validation, device);
                    scores.Add(value);
                    score = value;
                    // A NaN score (e.g. F1 of a model predicting one class on some metrics) never beats a number;
                    // it is kept only until the first epoch with a real score.
                    if (bestEpoch == 0 || (!double.IsNaN(value) && (value > best || double.IsNaN(best))))
                    {
                        best = value;
                        bestEpoch = epoch;
                        sinceBest = 0;
                        if (_patience is not null && _restoreBest) bestWeights = Snapshot(module, bestWeights);
                    }
                    else
                    {
                        sinceBest++;
                    }
                }
                else
                {
                    bestEpoch = epoch;
                }

                if (logger.IsEnabled(LogLevel.Debug))
                    Log.EpochCompleted(logger, epoch, _epochs, epochLoss, validation is null ? "no validation" : _metric.Name, score ?? double.NaN, lr);
                _progress?.Report(new TrainingProgress(epoch, _epochs, epochLoss, score, validation is null ? null : _metric.Name, lr, clock.Elapsed));

                if (_patience is int patience && sinceBest >= patience && epoch < _epochs)
                {
                    Log.EarlyStopped(logger, epoch, _metric.Name, patience, best, bestEpoch);
                    stoppedEarly = true;
                    break;
                }
            }
            int epochsRun = Math.Min(epoch, _epochs);
            bool restored = false;
            if (bestWeights is not null && bestEpoch != epochsRun)
            {
                module.load_state_dict(bestWeights);
                restored = true;
            }
            Log.TrainingFinished(logger, epochsRun, clock.Elapsed.TotalSeconds, bestEpoch);
            return new TrainingResult(epochsRun, bestEpoch, losses, scores,
                validation is null ? null : best, validation is null ? null : _metric.Name, stoppedEarly, restored, clock.Elapsed);
        }
        finally
        {
            if (bestWeights is not null) foreach (var t in bestWeights.Values) t.Dispose();
        }
    }

    /// <summary>
    /// One data-parallel step on this rank's <paramref name="length"/> rows (possibly none): each
    /// rank back-propagates its share of the step's loss (the counts were agreed at the start of the
    /// epoch) and the gradients are summed. Returns this rank's share of the step's summed loss.
    /// </summary>
    private double ParallelStep(SliceDataset train, Tensor? index, Tensor? membership, int length, StepNormalization.StepCounts counts,
        IReadOnlyList<TorchSharp.Modules.Parameter> parameters, Device device, CancellationToken cancellationToken)
    {
        var parallel = _parallel!;
        double contribution = 0;
        if (length > 0)
        {
            var x = train.Features.index_select(0, index!).to(device);
            var y = train.Labels.index_select(0, index!).to(device);
            if (_model is IStepNormalizedLoss)
            {
                // The model divides by the step's counts over all ranks: its loss is this rank's share.
                using var normalization = StepNormalization.Use(counts);
                var share = _model.Loss(x, y, membership!);
                share.backward();
                contribution = share.item<float>() * (double)counts.Rows;
            }
            else
            {
                // A mean over this rank's rows, weighted by its share of the step's rows.
                var loss = _model.Loss(x, y, membership!);
                using var weight = (length / (double)counts.Rows).ToScalar();
                loss.mul(weight).backward();
                contribution = loss.item<float>() * (double)length;
            }
        }
        else
        {
            DataParallelSteps.ZeroGradients(parameters);
        }
        if (parallel.SumGradients(parameters, cancellationToken.IsCancellationRequested))
            throw new OperationCanceledException("Training was cancelled on at least one rank.", cancellationToken);
        return contribution;
    }

    private static bool[][] MembershipRows(SliceDataset data)
    {
        var rows = new bool[data.Count][];
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r] = new bool[data.Slices.ColumnCount];
            for (int c = 0; c < rows[r].Length; c++) rows[r][c] = data.Slices[r, c];
        }
        return rows;
    }

    private double Validate(SliceDataset validation, Device device)
    {
        var module = _model.Module;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            var predictions = new int[validation.Count];
            double lossSum = 0;
            const int chunk = 4096;
            for (int start = 0; start < validation.Count; start += chunk)
            {
                int length = Math.Min(chunk, validation.Count - start);
                using var scope = NewDisposeScope();
                var x = validation.Features.narrow(0, start, length).to(device);
                var y = validation.Labels.narrow(0, start, length).to(device);
                var membership = validation.Membership.narrow(0, start, length).to(device);
                lossSum += _model.Loss(x, y, membership).item<float>() * (double)length;
                var classes = _model.Logits(x).argmax(1).cpu().data<long>().ToArray();
                for (int i = 0; i < length; i++) predictions[start + i] = (int)classes[i];
            }
            var labels = Array.ConvertAll(validation.Labels.data<long>().ToArray(), l => (int)l);
            var slices = validation.Slices;
            int rows = validation.Count;
            if (_parallel is not null)
            {
                // Exact over all shards: gather the rows, not per-rank averages of F1.
                (labels, predictions, slices) = _parallel.GatherValidation(labels, predictions, slices);
                lossSum = _parallel.Sum(lossSum);
                rows = labels.Length;
            }
            var outcome = new ValidationOutcome(labels, predictions, slices, _model.NumClasses, lossSum / rows);
            return _metric.Score(outcome);
        }
        finally
        {
            module.train();
        }
    }

    private void CheckData(SliceDataset data, string role)
    {
        if (data.IsDisposed)
            throw new ObjectDisposedException(nameof(SliceDataset), $"The {role} data set was disposed before Fit; keep it alive until training ends.");
        if (data.Count == 0)
            throw new SliceDataException($"The {role} data set is empty (0 rows).", role);
        using var scope = NewDisposeScope();
        long max = data.Labels.max().item<long>();
        if (max >= _model.NumClasses)
        {
            long row = ScalarMath.Eq(data.Labels, max).nonzero()[0, 0].item<long>();
            throw new SliceDataException($"Label {max} at {role} row {row} is outside [0, {_model.NumClasses}) for a {_model.NumClasses}-class model.", role, row: row);
        }
        var expected = _model.SliceNames;
        if (expected.Count > 0 && !expected.SequenceEqual(data.Slices.SliceNames, StringComparer.Ordinal))
            throw new SliceDataException(
                $"The {role} data has slices ({string.Join(", ", data.Slices.SliceNames)}) but the model was built for ({string.Join(", ", expected)}); " +
                "apply the same SliceSet the model was created with.", role);
    }

    // The scalar-safe optimizers do TorchSharp's updates without its intermittent finalizer
    // crash (see Optimizers/ScalarSafeOptimizers.cs).
    private optim.Optimizer CreateOptimizer(nn.Module module) => Optimizers.OptimizerFactory.Create(_optimizer, module.parameters());

    private static Dictionary<string, Tensor> Snapshot(nn.Module module, Dictionary<string, Tensor>? previous)
    {
        if (previous is not null) foreach (var t in previous.Values) t.Dispose();
        var copy = new Dictionary<string, Tensor>();
        using var noGrad = no_grad();
        foreach (var (name, t) in module.state_dict())
        {
            using var detached = t.detach();
            copy[name] = detached.clone().DetachFromDisposeScope();
        }
        return copy;
    }
}
