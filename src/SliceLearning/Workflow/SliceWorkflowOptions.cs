using System.Globalization;
using SliceLearning.Discovery;
using SliceLearning.Evaluation;
using SliceLearning.Slicing;
using SliceLearning.Training;
using static TorchSharp.torch;

namespace SliceLearning.Workflow;

/// <summary>The data of a <see cref="SliceWorkflow{T}"/>: splits, how to featurize and label an example, and the slices.</summary>
/// <typeparam name="T">The example type (e.g. <c>TabularRow</c>).</typeparam>
public sealed class SliceWorkflowData<T>
{
    /// <summary>Training examples.</summary>
    public required IReadOnlyList<T> Train { get; init; }

    /// <summary>Validation examples: early stopping, choosing the weak slices, slice discovery and the learning curves.</summary>
    public required IReadOnlyList<T> Validation { get; init; }

    /// <summary>Test examples: every reported metric (per-slice report, SRAM lift, loss and EER before and after acquisition).</summary>
    public required IReadOnlyList<T> Test { get; init; }

    /// <summary>Held-back examples the planning step acquires from (simulated acquisition); null or empty skips planning.</summary>
    public IReadOnlyList<T>? AcquisitionPool { get; init; }

    /// <summary>The feature vector of an example (all of one length), e.g. <c>TabularFeaturizer.Featurize</c>.</summary>
    public required Func<T, float[]> Featurize { get; init; }

    /// <summary>The class of an example, in [0, <see cref="NumClasses"/>).</summary>
    public required Func<T, int> Label { get; init; }

    /// <summary>Number of classes.</summary>
    /// <value>The default value is 2.</value>
    public int NumClasses { get; init; } = 2;

    /// <summary>The slices to diagnose (and to choose SRAM's weak slices from).</summary>
    public required SliceSet<T> Slices { get; init; }

    /// <summary>
    /// The slices the planner allocates new data to; null uses <see cref="Slices"/>. Slice Tuner's
    /// slices partition the data: a training or pool example counts for its first member slice only,
    /// and when some examples are in none of them, a catch-all slice "other" is added.
    /// </summary>
    public SliceSet<T>? PlanningSlices { get; init; }

    /// <summary>Attributes slice discovery may condition on; null or empty skips discovery.</summary>
    public IReadOnlyList<SliceAttribute<T>>? DiscoveryAttributes { get; init; }
}

/// <summary>Options of a <see cref="SliceWorkflow{T}"/>: models, training, diagnosis, discovery and planning in one place.</summary>
/// <remarks>
/// Defaults: seed 42; an MLP backbone input → 64 → 64 (ReLU); 30 epochs, batch 64, Adam 1e-3,
/// early stopping after 5 epochs without a better validation metric; ranking by accuracy; 1,000
/// bootstrap resamples at 95%; SRAM on the 3 weakest slices; discovery with its own defaults;
/// planning with budget 1,000, λ 1, 5 curve points × 3 repeats, evaluated over 3 seeds.
/// </remarks>
public sealed class SliceWorkflowOptions
{
    /// <summary>The one seed behind every training run, shuffle, bootstrap and acquisition order.</summary>
    /// <value>The default value is 42.</value>
    public int Seed { get; set; } = 42;

    /// <summary>Width of the default MLP backbone's two hidden layers (ignored when <see cref="BackboneFactory"/> is set).</summary>
    /// <value>The default value is 64.</value>
    public int HiddenWidth { get; set; } = 64;

    /// <summary>
    /// Builds a fresh backbone from the input width: the module and its output width. Called once per
    /// model trained. Null uses an MLP input → <see cref="HiddenWidth"/> → <see cref="HiddenWidth"/> with ReLUs.
    /// </summary>
    /// <value>The default value is null.</value>
    public Func<long, (nn.Module<Tensor, Tensor> Module, long Width)>? BackboneFactory { get; set; }

    /// <summary>Epochs of every training run (at most, with early stopping).</summary>
    /// <value>The default value is 30.</value>
    public int Epochs { get; set; } = 30;

    /// <summary>
    /// Epochs of the learning-curve and before/after trainings, which run without early stopping;
    /// null uses <see cref="Epochs"/>. Fewer epochs keep a small model from overfitting, which
    /// makes validation loss grow with data and the curves unusable.
    /// </summary>
    /// <value>The default value is null.</value>
    public int? CurveEpochs { get; set; }

    /// <summary>Mini-batch size.</summary>
    /// <value>The default value is 64.</value>
    public int BatchSize { get; set; } = 64;

    /// <summary>The optimizer of every training run.</summary>
    /// <value>The default value is Adam with learning rate 1e-3.</value>
    public OptimizerOptions Optimizer { get; set; } = OptimizerOptions.Adam(1e-3);

    /// <summary>Early-stopping patience of the vanilla and SRAM models on the validation set (best weights restored); 0 turns it off. Curve-estimation runs always train for <see cref="Epochs"/>.</summary>
    /// <value>The default value is 5.</value>
    public int EarlyStoppingPatience { get; set; } = 5;

    /// <summary>The metric slices are ranked by (gap = slice value − overall value).</summary>
    /// <value>The default value is <see cref="Metric.Accuracy"/> (1 − error rate, the quantity discovery tests).</value>
    public Metric RankingMetric { get; set; } = Metric.Accuracy;

    /// <summary>Bootstrap resamples of the test reports' intervals (0: no intervals).</summary>
    /// <value>The default value is 1000.</value>
    public int BootstrapResamples { get; set; } = 1000;

    /// <summary>Two-sided level of every interval.</summary>
    /// <value>The default value is 0.95.</value>
    public double ConfidenceLevel { get; set; } = 0.95;

    /// <summary>
    /// How many of the weakest slices (most negative validation gap) SRAM gets as its slices; only
    /// slices below the overall value count.
    /// </summary>
    /// <value>The default value is 3.</value>
    public int WeakSliceCount { get; set; } = 3;

    /// <summary>How many of the top discovered candidates are added to SRAM's slices (as SFs).</summary>
    /// <value>The default value is 0.</value>
    public int DiscoveredSlicesForTraining { get; set; }

    /// <summary>SRAM's expert width h; null uses the backbone width.</summary>
    /// <value>The default value is null.</value>
    public long? ExpertSize { get; set; }

    /// <summary>Slice discovery settings.</summary>
    /// <value>The default value is a new <see cref="SliceDiscoveryOptions"/>.</value>
    public SliceDiscoveryOptions Discovery { get; set; } = new();

    /// <summary>Run step 2 (SRAM on the weak slices).</summary>
    /// <value>The default value is true.</value>
    public bool Train { get; set; } = true;

    /// <summary>Run step 3 (learning curves, planning, acquisition) when an acquisition pool is given.</summary>
    /// <value>The default value is true.</value>
    public bool Plan { get; set; } = true;

    /// <summary>Examples to acquire in total (equal costs).</summary>
    /// <value>The default value is 1000.</value>
    public int Budget { get; set; } = 1000;

    /// <summary>Slice Tuner's λ: weight of the unfairness term (0 = loss only).</summary>
    /// <value>The default value is 1.</value>
    public double Lambda { get; set; } = 1.0;

    /// <summary>Subset sizes per learning curve (amortized estimation).</summary>
    /// <value>The default value is 5.</value>
    public int CurvePoints { get; set; } = 5;

    /// <summary>Trainings per curve point (averaged).</summary>
    /// <value>The default value is 3.</value>
    public int CurveRepeats { get; set; } = 3;

    /// <summary>Seeds the before/after comparison retrains and averages over.</summary>
    /// <value>The default value is 3.</value>
    public int EvaluationRepeats { get; set; } = 3;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">Lists every invalid option with its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (HiddenWidth < 1) problems.Add($"{nameof(HiddenWidth)} must be at least 1. Got {HiddenWidth}.");
        if (Epochs < 1) problems.Add($"{nameof(Epochs)} must be at least 1. Got {Epochs}.");
        if (CurveEpochs is < 1) problems.Add($"{nameof(CurveEpochs)} must be null or at least 1. Got {CurveEpochs}.");
        if (BatchSize < 1) problems.Add($"{nameof(BatchSize)} must be at least 1. Got {BatchSize}.");
        if (Optimizer is null) problems.Add($"{nameof(Optimizer)} must not be null.");
        else
        {
            try { Optimizer.Validate(); }
            catch (ArgumentException e) { problems.Add($"{nameof(Optimizer)}: {e.Message}"); }
        }
        if (EarlyStoppingPatience < 0) problems.Add($"{nameof(EarlyStoppingPatience)} must be 0 (off) or positive. Got {EarlyStoppingPatience}.");
        if (!Enum.IsDefined(RankingMetric)) problems.Add($"{nameof(RankingMetric)} {RankingMetric} is not defined.");
        if (BootstrapResamples < 0) problems.Add($"{nameof(BootstrapResamples)} must be 0 (no intervals) or positive. Got {BootstrapResamples}.");
        if (!(ConfidenceLevel > 0 && ConfidenceLevel < 1)) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(ConfidenceLevel)} must be in (0, 1). Got {ConfidenceLevel}."));
        if (WeakSliceCount < 0) problems.Add($"{nameof(WeakSliceCount)} must be 0 or more. Got {WeakSliceCount}.");
        if (DiscoveredSlicesForTraining < 0) problems.Add($"{nameof(DiscoveredSlicesForTraining)} must be 0 or more. Got {DiscoveredSlicesForTraining}.");
        if (ExpertSize is < 1) problems.Add($"{nameof(ExpertSize)} must be null or at least 1. Got {ExpertSize}.");
        if (Discovery is null) problems.Add($"{nameof(Discovery)} must not be null.");
        else
        {
            try { Discovery.Validate(); }
            catch (ArgumentException e) { problems.Add($"{nameof(Discovery)}: {e.Message}"); }
        }
        if (Budget < 0) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Budget)} must be 0 or more. Got {Budget}."));
        if (!(Lambda >= 0) || double.IsInfinity(Lambda)) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(Lambda)} must be a finite number, 0 or more. Got {Lambda}."));
        if (CurvePoints < 3) problems.Add($"{nameof(CurvePoints)} must be at least 3 (a curve has two parameters). Got {CurvePoints}.");
        if (CurveRepeats < 1) problems.Add($"{nameof(CurveRepeats)} must be at least 1. Got {CurveRepeats}.");
        if (EvaluationRepeats < 1) problems.Add($"{nameof(EvaluationRepeats)} must be at least 1. Got {EvaluationRepeats}.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(SliceWorkflowOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }

    /// <summary>A copy (nested options copied too).</summary>
    public SliceWorkflowOptions Clone()
    {
        var copy = (SliceWorkflowOptions)MemberwiseClone();
        copy.Optimizer = Optimizer?.Clone()!;
        copy.Discovery = Discovery?.Clone()!;
        return copy;
    }
}

/// <summary>The stage a <see cref="SliceWorkflow{T}"/> is in.</summary>
public enum WorkflowStage
{
    /// <summary>Training the vanilla model and measuring every slice.</summary>
    Diagnose,

    /// <summary>Searching for candidate slices in the vanilla model's errors.</summary>
    Discover,

    /// <summary>Training SRAM on the weak slices.</summary>
    Train,

    /// <summary>Estimating per-slice learning curves.</summary>
    EstimateCurves,

    /// <summary>Acquiring from the pool and retraining.</summary>
    Acquire,
}

/// <summary>Progress of a <see cref="SliceWorkflow{T}"/>.</summary>
/// <param name="Stage">The current stage.</param>
/// <param name="Completed">Units of the stage done.</param>
/// <param name="Total">Units of the stage in all.</param>
/// <param name="Message">What is happening, e.g. "curve training 4/15".</param>
public readonly record struct WorkflowProgress(WorkflowStage Stage, int Completed, int Total, string Message);
