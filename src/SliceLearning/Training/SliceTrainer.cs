using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using SliceLearning.Training.DataParallel;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Training;

/// <summary>What the trainer does when a training loss becomes NaN or infinite.</summary>
public enum DivergenceHandling
{
    /// <summary>Throw a <see cref="TrainingDivergedException"/> naming the epoch, step and loss term. The default.</summary>
    Throw = 0,

    /// <summary>
    /// Log a warning, restore the weights of the best validation epoch (or, without validation
    /// data, those at the start of the epoch that diverged) and stop; the result reports it.
    /// </summary>
    RestoreBestAndStop,
}

/// <summary>
/// Fluent trainer for any <see cref="ITrainableModel"/> (SRAM or a baseline): mini-batches with
/// seeded shuffling, Adam/AdamW/SGD, a learning-rate schedule, early stopping on a validation
/// metric, checkpoints and resume, divergence handling, logging, progress and cancellation. The
/// <c>With...</c> steps only record settings; <see cref="Fit"/> validates them and trains.
/// </summary>
/// <remarks>
/// <para><b>One seed.</b> <see cref="For{TModel}(int, Func{TModel})"/> seeds torch before it
/// calls the model factory (so the seed decides the initial weights), and the same seed decides,
/// for each epoch e, torch's generator (dropout and any other randomness during training) and the
/// shuffling of the training rows, both derived from (seed, e) only. Two fits with one seed are
/// bit-identical on the CPU with one thread (<see cref="ComputeDevice.SetCpuThreads"/>), and a run
/// resumed from a checkpoint equals the uninterrupted run; TorchSharp offers no deterministic mode
/// for multi-threaded or CUDA kernels.</para>
/// <para><b>Threads.</b> A trainer is not thread-safe: configure and fit it from one thread. While
/// it fits, other threads may call <see cref="ModelExtensions.Predict"/> and
/// <see cref="ModelExtensions.Evaluate"/> on the model: each training step and each prediction holds
/// the model's mode lock, so predictions see evaluation mode and the weights between two steps, and
/// training steps always run in training mode.</para>
/// </remarks>
public class SliceTrainer
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
    private readonly List<(string Name, nn.Module Module, double LearningRate)> _parameterGroups = [];
    private LearningRateSchedule _schedule = LearningRateSchedule.Constant;
    private int? _patience;
    private ValidationMetric? _metric;
    private string? _metricSetBy;
    private bool _restoreBest = true;
    private int? _seed;
    private bool _seedTorch = true;
    private DevicePreference _device = DevicePreference.Cpu;
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private IProgress<TrainingProgress>? _progress;
    private string? _checkpointPath;
    private string? _resumePath;
    private DivergenceHandling _divergence = DivergenceHandling.Throw;
    private double? _maxGradientNorm;
    private DataParallelSteps? _parallel;

    private protected SliceTrainer(ITrainableModel model) => _model = model;

    /// <summary>Starts configuring the training of <paramref name="model"/>.</summary>
    public static SliceTrainer For(ITrainableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new SliceTrainer(model);
    }

    /// <summary>
    /// Seeds torch with <paramref name="seed"/>, creates the model with <paramref name="createModel"/>
    /// (so the seed decides its initial weights) and starts configuring its training with the same
    /// seed (see the remarks on the class). The model is <see cref="SliceTrainer{TModel}.Model"/>.
    /// </summary>
    /// <param name="seed">Decides initialisation, dropout and shuffling.</param>
    /// <param name="createModel">Builds the model (backbone included); called once, now.</param>
    public static SliceTrainer<TModel> For<TModel>(int seed, Func<TModel> createModel) where TModel : ITrainableModel
    {
        ArgumentNullException.ThrowIfNull(createModel);
        manual_seed(seed);
        var model = createModel();
        if (model is null) throw new ContractViolationException("The model factory returned null; it must return a new model.");
        var trainer = new SliceTrainer<TModel>(model);
        trainer._seed = seed;
        return trainer;
    }

    /// <summary>The model this trainer trains.</summary>
    public ITrainableModel Model => _model;

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

    /// <summary>
    /// Trains the parameters of <paramref name="module"/> (a part of the model, e.g. the pretrained
    /// backbone it was created over) at their own base learning rate; every other parameter keeps
    /// the optimizer's <see cref="OptimizerOptions.LearningRate"/>, and every other optimizer setting
    /// applies to all. The schedule scales each group's base rate the same way. Call once per group;
    /// a parameter may belong to one group only. Typical use: a pretrained encoder at 1e-4 under
    /// fresh heads at 1e-3.
    /// </summary>
    /// <param name="name">The group's name, used in messages.</param>
    /// <param name="module">The module whose parameters form the group; each must be a parameter of the trained model.</param>
    /// <param name="learningRate">The group's base learning rate: positive and finite.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or already used, or <paramref name="learningRate"/> is not positive and finite.</exception>
    /// <remarks><see cref="Fit"/> throws <see cref="InvalidOperationException"/> when a group's module has no parameters, holds a parameter the model does not have, or shares one with another group.</remarks>
    public SliceTrainer WithParameterGroup(string name, nn.Module module, double learningRate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(module);
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate,
                string.Create(CultureInfo.InvariantCulture, $"The learning rate of parameter group '{name}' must be a positive finite number. Got {learningRate}."));
        if (_parameterGroups.Any(g => g.Name == name))
            throw new ArgumentException($"There is already a parameter group named '{name}'; give each group its own name.", nameof(name));
        _parameterGroups.Add((name, module, learningRate));
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
    /// Stops when the validation metric has not improved for <paramref name="patience"/> epochs,
    /// and by default restores the weights of the best epoch. Needs validation data. The metric is
    /// <paramref name="metric"/>, else the one given to <see cref="WithValidationMetric"/>, else
    /// overall F1.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="WithValidationMetric"/> already chose another metric.</exception>
    public SliceTrainer WithEarlyStopping(int patience, ValidationMetric? metric = null, bool restoreBestWeights = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        if (metric is not null) SetMetric(metric, nameof(WithEarlyStopping));
        _patience = patience;
        _restoreBest = restoreBestWeights;
        return this;
    }

    /// <summary>The validation metric scored each epoch and used by early stopping (default overall F1).</summary>
    /// <exception cref="InvalidOperationException"><see cref="WithEarlyStopping"/> already chose another metric.</exception>
    public SliceTrainer WithValidationMetric(ValidationMetric metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        SetMetric(metric, nameof(WithValidationMetric));
        return this;
    }

    /// <summary>
    /// The seed of torch's generator and of the shuffling during <see cref="Fit"/> (see the remarks
    /// on the class). Models built before do not see it: to let one seed decide the initial weights
    /// too, use <see cref="For{TModel}(int, Func{TModel})"/>.
    /// </summary>
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

    /// <summary>Where to train (default CPU). The model is moved there.</summary>
    public SliceTrainer OnDevice(DevicePreference device)
    {
        if (!Enum.IsDefined(device)) throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown device preference.");
        _device = device;
        return this;
    }

    /// <summary>Logs start, epochs (Debug), early stopping, divergence and the end through <paramref name="loggerFactory"/>.</summary>
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
    /// After every epoch, saves a checkpoint to <paramref name="path"/> (atomically, see
    /// <see cref="ModelCheckpoint"/>) with the weights, the optimizer state, the epoch and what
    /// early stopping needs, so that <see cref="ResumeFrom"/> can continue the run.
    /// </summary>
    public SliceTrainer WithCheckpoints(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _checkpointPath = path;
        return this;
    }

    /// <summary>
    /// Continues the run saved at <paramref name="path"/> by <see cref="WithCheckpoints"/>: loads
    /// the weights, optimizer state and epoch, and trains the remaining epochs. With the same
    /// settings and seed the result equals the uninterrupted run (on the CPU with one thread).
    /// </summary>
    public SliceTrainer ResumeFrom(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _resumePath = path;
        return this;
    }

    /// <summary>What to do when a loss term becomes NaN or infinite (default <see cref="DivergenceHandling.Throw"/>).</summary>
    public SliceTrainer WithDivergenceHandling(DivergenceHandling handling)
    {
        if (!Enum.IsDefined(handling)) throw new ArgumentOutOfRangeException(nameof(handling), handling, "Unknown divergence handling.");
        _divergence = handling;
        return this;
    }

    /// <summary>
    /// Trains data-parallel: this process is one rank of <paramref name="coordinator"/>'s group and
    /// the data given to <see cref="WithData(SliceDataset, SliceDataset?)"/> is its shard. Rank 0's
    /// initial weights are broadcast, every step's gradients are summed over the ranks (the step
    /// loss is the mean over the rows all ranks took), validation scores are computed over all
    /// shards exactly, and all ranks stop together. Every rank must use the same settings and seed.
    /// A failure on one rank stops every rank through <see cref="IDataParallelCoordinator.Fail"/>.
    /// Only rank 0 writes checkpoints (<see cref="WithCheckpoints"/>); every rank resumes from the same file.
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
    /// <exception cref="TrainingDivergedException">A loss term became NaN or infinite (with <see cref="DivergenceHandling.Throw"/>).</exception>
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

    private void SetMetric(ValidationMetric metric, string by)
    {
        if (_metric is not null && !ReferenceEquals(_metric, metric) && _metric.Name != metric.Name)
            throw new InvalidOperationException(
                $"{by} asks for the validation metric '{metric.Name}', but {_metricSetBy} already chose '{_metric.Name}'; early stopping and the reported score use one metric.");
        _metric = metric;
        _metricSetBy = by;
    }

    private void ReleaseOwnedData()
    {
        if (!_ownsData) return;
        _train?.Dispose();
        _validation?.Dispose();
        _train = _validation = null;
        _ownsData = false;
    }

    /// <summary>The seed of epoch <paramref name="epoch"/> (1-based): a fixed function of the trainer's seed and the epoch only.</summary>
    internal static int EpochSeed(int seed, int epoch) => unchecked(seed * 1_000_003 + epoch * 7_919);

    private TrainingResult FitCore(CancellationToken cancellationToken)
    {
        var train = _train ?? throw new InvalidOperationException("No training data: call WithData(...) before Fit().");
        var validation = _validation;
        var metric = _metric ?? ValidationMetric.OverallF1;
        if (_patience is not null && validation is null)
            throw new InvalidOperationException("Early stopping needs validation data: pass it to WithData(train, validation).");
        if (_model is SliceModelBase { IsDisposed: true })
            throw new ObjectDisposedException(_model.GetType().Name, "Cannot train a disposed model.");
        CheckData(train, "training");
        if (validation is not null)
        {
            CheckData(validation, "validation");
            metric.Check(validation.Slices);
        }

        var logger = _loggerFactory.CreateLogger<SliceTrainer>();
        var clock = Stopwatch.StartNew();
        var device = ComputeDevice.Resolve(_device);
        var module = _model.Module;
        module.to(device);
        // Without a seed, one random seed for the run keeps the per-epoch derivation the same.
        int seed = _seed ?? Random.Shared.Next();
        Log.TrainingStarted(logger, _model.GetType().Name, _model.ParameterCount(), device.ToString(), train.Count, _epochs, _batchSize,
            _optimizer.Kind.ToString(), _optimizer.LearningRate, _seed?.ToString(CultureInfo.InvariantCulture) ?? "none");

        int[] shardSizes = _parallel?.ShardSizes(train.Count) ?? [train.Count];
        int totalRows = shardSizes.Sum();
        int stepsPerEpoch = DataParallelSteps.StepsPerEpoch(shardSizes, _batchSize);
        _parallel?.BroadcastWeights(module);
        bool[][] rowMembership = _parallel is null ? [] : MembershipRows(train);

        using var optimizer = CreateOptimizer(module, out var baseRates);
        var step = new TrainingStep(_model, optimizer) { MaxGradientNorm = _maxGradientNorm };
        var state = new RunState();
        if (_resumePath is not null)
        {
            Resume(_resumePath, optimizer, state);
            seed = _seed ?? seed;
        }

        var order = new int[train.Count];
        bool stoppedEarly = false, diverged = false, restored = false;
        int epoch = state.Epoch;
        try
        {
            for (epoch = state.Epoch + 1; epoch <= _epochs; epoch++)
            {
                double lr = _schedule.RateAt(epoch - 1, _epochs, _optimizer.LearningRate);
                int groupIndex = 0;
                foreach (var group in optimizer.ParamGroups) group.LearningRate = _schedule.RateAt(epoch - 1, _epochs, baseRates[groupIndex++]);
                int epochSeed = EpochSeed(seed, epoch);
                if (_seedTorch) manual_seed(epochSeed);
                for (int i = 0; i < order.Length; i++) order[i] = i;
                new Random(epochSeed).Shuffle(order);
                byte[]? epochStart = _divergence == DivergenceHandling.RestoreBestAndStop && state.BestWeights is null
                    ? ModelCheckpoint.SerializeModule(module) : null;

                var (epochLoss, divergence) = _parallel is null
                    ? RunEpoch(train, order, device, step, epoch, cancellationToken)
                    : RunParallelEpoch(train, order, rowMembership, stepsPerEpoch, totalRows, device, optimizer, epoch, cancellationToken);
                if (divergence is not null)
                {
                    if (_divergence == DivergenceHandling.Throw) throw divergence;
                    byte[]? restore = state.BestWeights ?? epochStart;
                    if (restore is not null)
                    {
                        lock (ModelMode.LockOf(module)) ModelCheckpoint.CheckpointFile.LoadWeights(module, restore, "(best weights)");
                        restored = true;
                    }
                    Log.Diverged(logger, divergence.Epoch, divergence.Step, divergence.Term, state.BestWeights is not null ? $"epoch {state.BestEpoch}" : $"the start of epoch {epoch}");
                    diverged = true;
                    break;
                }
                state.Losses.Add(epochLoss);

                double? score = null;
                if (validation is not null)
                {
                    double value = Validate(validation, device, metric);
                    state.Scores.Add(value);
                    score = value;
                    // A NaN score never beats a number; it is kept only until the first epoch with a real score.
                    if (state.BestEpoch == 0 || (!double.IsNaN(value) && (value > state.Best || double.IsNaN(state.Best))))
                    {
                        state.Best = value;
                        state.BestEpoch = epoch;
                        state.SinceBest = 0;
                        if ((_patience is not null && _restoreBest) || _divergence == DivergenceHandling.RestoreBestAndStop)
                            state.BestWeights = ModelCheckpoint.SerializeModule(module);
                    }
                    else
                    {
                        state.SinceBest++;
                    }
                }
                else
                {
                    state.BestEpoch = epoch;
                }
                state.Epoch = epoch;

                if (logger.IsEnabled(LogLevel.Debug))
                    Log.EpochCompleted(logger, epoch, _epochs, epochLoss, validation is null ? "no validation" : metric.Name, score ?? double.NaN, lr);
                _progress?.Report(new TrainingProgress(epoch, _epochs, epochLoss, score, validation is null ? null : metric.Name, lr, clock.Elapsed));
                if (_checkpointPath is not null && (_parallel is null || _parallel.Rank == 0)) SaveCheckpoint(_checkpointPath, optimizer, state, seed);

                if (_patience is int patience && state.SinceBest >= patience && epoch < _epochs)
                {
                    Log.EarlyStopped(logger, epoch, metric.Name, patience, state.Best, state.BestEpoch);
                    stoppedEarly = true;
                    break;
                }
            }
            int epochsRun = state.Epoch;
            if (!diverged && _patience is not null && _restoreBest && state.BestWeights is not null && state.BestEpoch != epochsRun)
            {
                lock (ModelMode.LockOf(module)) ModelCheckpoint.CheckpointFile.LoadWeights(module, state.BestWeights, "(best weights)");
                restored = true;
            }
            Log.TrainingFinished(logger, epochsRun, clock.Elapsed.TotalSeconds, state.BestEpoch);
            return new TrainingResult(epochsRun, state.BestEpoch, state.Losses, state.Scores,
                validation is null ? null : state.Best, validation is null ? null : metric.Name, stoppedEarly, restored, clock.Elapsed)
            {
                Diverged = diverged,
            };
        }
        finally
        {
            lock (ModelMode.LockOf(module)) module.train();
        }
    }

    /// <summary>One pass over the training rows; the loss terms are read once, at the end.</summary>
    private (double Loss, TrainingDivergedException? Divergence) RunEpoch(SliceDataset train, int[] order, Device device, TrainingStep step, int epoch, CancellationToken cancellationToken)
    {
        var module = _model.Module;
        var features = train.Features;
        var labels = train.Labels;
        var membership = train.Membership;
        int steps = (order.Length + _batchSize - 1) / _batchSize;
        var terms = new Tensor[steps];
        var weights = new double[steps];
        using var epochScope = NewDisposeScope();
        for (int s = 0, start = 0; s < steps; s++, start += _batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int length = Math.Min(_batchSize, order.Length - start);
            using var scope = NewDisposeScope();
            var index = tensor(Array.ConvertAll(order[start..(start + length)], i => (long)i), new long[] { length });
            var x = features.index_select(0, index).to(device);
            var y = labels.index_select(0, index).to(device);
            var m = membership.index_select(0, index).to(device);
            lock (ModelMode.LockOf(module))
            {
                if (!module.training) module.train();
                terms[s] = scope.MoveToOuter(step.Run(x, y, m));
            }
            weights[s] = length;
        }
        using var all = stack(terms).cpu();
        float[] values = all.data<float>().ToArray();
        int width = values.Length / steps;
        double sum = 0;
        for (int s = 0; s < steps; s++)
        {
            for (int t = 0; t < width; t++)
            {
                if (float.IsFinite(values[s * width + t])) continue;
                // Name the first non-finite component (the total only if every component is finite).
                int term = t;
                for (int c = 1; c < width; c++) if (!float.IsFinite(values[s * width + c])) { term = c; break; }
                return (double.NaN, new TrainingDivergedException(epoch, s + 1, step.TermNames[term], values[s * width + term]));
            }
            sum += values[s * width] * weights[s];
        }
        return (sum / order.Length, null);
    }

    /// <summary>One data-parallel pass: every rank takes the same number of steps (some with no rows).</summary>
    private (double Loss, TrainingDivergedException? Divergence) RunParallelEpoch(SliceDataset train, int[] order, bool[][] rowMembership, int stepsPerEpoch, int totalRows,
        Device device, optim.Optimizer optimizer, int epoch, CancellationToken cancellationToken)
    {
        var parallel = _parallel!;
        var module = _model.Module;
        var parameters = module.parameters().Where(p => p.requires_grad).ToArray();
        var stepCounts = parallel.AgreeOnEpoch(order, rowMembership, train.Slices.ColumnCount, stepsPerEpoch, _batchSize);
        double lossSum = 0;
        int firstBad = 0;
        for (int s = 0; s < stepsPerEpoch; s++)
        {
            int start = s * _batchSize;
            int length = Math.Clamp(order.Length - start, 0, _batchSize);
            using var scope = NewDisposeScope();
            Tensor? index = length == 0 ? null : tensor(Array.ConvertAll(order[start..(start + length)], i => (long)i), new long[] { length });
            Tensor? membership = index is null ? null : train.Membership.index_select(0, index).to(device);
            lock (ModelMode.LockOf(module))
            {
                if (!module.training) module.train();
                optimizer.zero_grad();
                double contribution = ParallelStep(train, index, membership, length, stepCounts[s], parameters, device, cancellationToken);
                if (!double.IsFinite(contribution) && firstBad == 0) firstBad = s + 1;
                lossSum += contribution;
                if (_maxGradientNorm is double max) nn.utils.clip_grad_norm_(parameters, max);
                optimizer.step();
            }
        }
        double epochLoss = parallel.Sum(lossSum) / totalRows;
        if (double.IsFinite(epochLoss)) return (epochLoss, null);
        return (double.NaN, new TrainingDivergedException(epoch, Math.Max(firstBad, 1), "loss", epochLoss));
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

    private double Validate(SliceDataset validation, Device device, ValidationMetric metric)
    {
        var predictions = new int[validation.Count];
        double lossSum = ModelMode.InEvaluation(_model.Module, () =>
        {
            double sum = 0;
            const int chunk = 4096;
            for (int start = 0; start < validation.Count; start += chunk)
            {
                int length = Math.Min(chunk, validation.Count - start);
                using var scope = NewDisposeScope();
                var x = validation.Features.narrow(0, start, length).to(device);
                var y = validation.Labels.narrow(0, start, length).to(device);
                var membership = validation.Membership.narrow(0, start, length).to(device);
                // One forward pass gives the loss and the predictions.
                var (loss, logits) = _model is SliceModelBase model
                    ? model.LossAndLogitsCore(x, y, membership)
                    : (_model.Loss(x, y, membership), _model.Logits(x));
                sum += loss.item<float>() * (double)length;
                var classes = logits.argmax(1).cpu().data<long>().ToArray();
                for (int i = 0; i < length; i++) predictions[start + i] = (int)classes[i];
            }
            return sum;
        });
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
        return metric.Score(outcome);
    }

    private void CheckData(SliceDataset data, string role)
    {
        if (data.IsDisposed)
            throw new ObjectDisposedException(nameof(SliceDataset), $"The {role} data set was disposed before Fit; keep it alive until training ends.");
        if (data.Count == 0)
            throw new SliceDataException($"The {role} data set is empty (0 rows).", role);
        LabelChecks.InRange(data.Labels, _model.NumClasses, role, role + " row");
        var expected = _model.SliceNames;
        if (expected.Count > 0 && !expected.SequenceEqual(data.Slices.SliceNames, StringComparer.Ordinal))
            throw new SliceDataException(
                $"The {role} data has slices ({string.Join(", ", data.Slices.SliceNames)}) but the model was built for ({string.Join(", ", expected)}); " +
                "apply the same SliceSet the model was created with.", role);
        if (_model is SliceModelBase model)
        {
            // The shapes of one row stand for every batch: the steps then use the unchecked path.
            using var scope = NewDisposeScope();
            var x = data.Features.narrow(0, 0, 1);
            model.CheckBatch(x, data.Labels.narrow(0, 0, 1), data.Membership.narrow(0, 0, 1));
        }
    }

    // The optimizer and the base learning rate of each of its ParamGroups, in order.
    private optim.Optimizer CreateOptimizer(nn.Module module, out double[] baseRates)
    {
        if (_parameterGroups.Count == 0)
        {
            baseRates = [_optimizer.LearningRate];
            return Optimizers.OptimizerFactory.Create(_optimizer, module.parameters());
        }
        var all = module.parameters().ToList();
        var inModel = all.Select(p => p.Handle).ToHashSet();
        var owner = new Dictionary<IntPtr, string>();
        var groups = new List<(IEnumerable<TorchSharp.Modules.Parameter> Parameters, double LearningRate)>();
        foreach (var (name, groupModule, learningRate) in _parameterGroups)
        {
            var named = groupModule.named_parameters().ToList();
            if (named.Count == 0)
                throw new InvalidOperationException($"Parameter group '{name}': its module has no parameters.");
            foreach (var (parameterName, parameter) in named)
            {
                if (!inModel.Contains(parameter.Handle))
                    throw new InvalidOperationException(
                        $"Parameter group '{name}': its parameter '{parameterName}' is not a parameter of the trained {_model.GetType().Name}; pass a module that is part of the model (e.g. the backbone it was created over).");
                if (!owner.TryAdd(parameter.Handle, name))
                    throw new InvalidOperationException(
                        $"Parameter group '{name}': its parameter '{parameterName}' is also in parameter group '{owner[parameter.Handle]}'; a parameter may belong to one group only.");
            }
            groups.Add((named.Select(p => p.parameter).ToArray(), learningRate));
        }
        var rest = all.Where(p => !owner.ContainsKey(p.Handle)).ToList();
        if (rest.Count > 0) groups.Insert(0, (rest.ToArray(), _optimizer.LearningRate));
        baseRates = groups.Select(g => g.LearningRate).ToArray();
        return Optimizers.OptimizerFactory.Create(_optimizer, groups);
    }

    private void SaveCheckpoint(string path, optim.Optimizer optimizer, RunState state, int seed)
    {
        byte[] optimizerState;
        using (var memory = new MemoryStream())
        {
            using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
                ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
            optimizerState = memory.ToArray();
        }
        var saved = new SavedRunState(state.Epoch, seed, _epochs, _batchSize, state.Losses.ToArray(), state.Scores.ToArray(),
            state.BestEpoch == 0 ? null : state.Best, state.BestEpoch, state.SinceBest);
        byte[] trainerState = JsonSerializer.SerializeToUtf8Bytes(saved);
        ModelCheckpoint.Save(_model, path, wrap: null, new TrainingCheckpoint(state.Epoch, optimizerState, state.BestWeights, trainerState));
    }

    private void Resume(string path, optim.Optimizer optimizer, RunState state)
    {
        var file = ModelCheckpoint.CheckpointFile.Read(path);
        if (file.OptimizerState is null || file.TrainerState is null)
            throw new InvalidOperationException($"The checkpoint '{path}' holds weights only; resuming needs one written during training by WithCheckpoints.");
        SavedRunState saved;
        try
        {
            saved = JsonSerializer.Deserialize<SavedRunState>(file.TrainerState) ?? throw new InvalidDataException($"The checkpoint '{path}' has an empty trainer state.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The checkpoint '{path}' has a corrupt trainer state: {ex.Message}", ex);
        }
        if (_seed is int seed && seed != saved.Seed)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The checkpoint '{path}' was written by a run with seed {saved.Seed}, this trainer has seed {seed}."));
        if (saved.BatchSize != _batchSize)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The checkpoint '{path}' was written with batch size {saved.BatchSize}, this trainer has {_batchSize}."));
        lock (ModelMode.LockOf(_model.Module)) file.ApplyTo(_model, path);
        using (var reader = new BinaryReader(new MemoryStream(file.OptimizerState, writable: false), Encoding.UTF8))
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        _seed = saved.Seed;
        state.Epoch = saved.Epoch;
        state.Losses.AddRange(saved.Losses);
        state.Scores.AddRange(saved.Scores);
        state.Best = saved.Best ?? double.NegativeInfinity;
        state.BestEpoch = saved.BestEpoch;
        state.SinceBest = saved.SinceBest;
        state.BestWeights = file.BestWeights;
    }

    private sealed class RunState
    {
        public int Epoch;
        public readonly List<double> Losses = new();
        public readonly List<double> Scores = new();
        public double Best = double.NegativeInfinity;
        public int BestEpoch;
        public int SinceBest;
        public byte[]? BestWeights;
    }

    private sealed record SavedRunState(int Epoch, int Seed, int Epochs, int BatchSize, double[] Losses, double[] Scores, double? Best, int BestEpoch, int SinceBest);
}

/// <summary>A <see cref="SliceTrainer"/> made by <see cref="SliceTrainer.For{TModel}(int, Func{TModel})"/>, which knows the model's type.</summary>
/// <typeparam name="TModel">The model type.</typeparam>
public sealed class SliceTrainer<TModel> : SliceTrainer where TModel : ITrainableModel
{
    internal SliceTrainer(TModel model) : base(model) => Model = model;

    /// <summary>The model the factory built (the caller disposes it).</summary>
    public new TModel Model { get; }
}
