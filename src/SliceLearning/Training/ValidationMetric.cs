using SliceLearning.Evaluation;
using SliceLearning.Slicing;

namespace SliceLearning.Training;

/// <summary>
/// What the trainer computes on the validation set after each epoch: the model's predictions,
/// the labels, the slice membership and the mean validation loss.
/// </summary>
public sealed class ValidationOutcome
{
    internal ValidationOutcome(int[] labels, int[] predictions, SliceMatrix slices, int numClasses, double loss)
    {
        _labels = labels;
        _predictions = predictions;
        Slices = slices;
        NumClasses = numClasses;
        Loss = loss;
    }

    private readonly int[] _labels;
    private readonly int[] _predictions;

    /// <summary>The true classes, one per validation row.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>The predicted classes, one per validation row.</summary>
    public IReadOnlyList<int> Predictions => _predictions;

    /// <summary>Slice membership of the validation rows.</summary>
    public SliceMatrix Slices { get; }

    /// <summary>C.</summary>
    public int NumClasses { get; }

    /// <summary>Mean validation loss (the model's own training loss on the validation set).</summary>
    public double Loss { get; }

    /// <summary>
    /// The classification metrics on all rows (<paramref name="sliceName"/> null) or on the members
    /// of one slice; <see cref="ClassificationMetrics.IsEmpty"/> for an empty slice.
    /// </summary>
    public ClassificationMetrics Metrics(string? sliceName = null)
    {
        if (sliceName is null) return ClassificationMetrics.Compute(_labels, _predictions, NumClasses);
        var members = Slices.Members(Slices.IndexOf(sliceName));
        var labels = new int[members.Length];
        var predictions = new int[members.Length];
        for (int i = 0; i < members.Length; i++)
        {
            labels[i] = _labels[members[i]];
            predictions[i] = _predictions[members[i]];
        }
        return members.Length == 0 ? ClassificationMetrics.Empty(NumClasses) : ClassificationMetrics.Compute(labels, predictions, NumClasses);
    }

    /// <summary>
    /// F1 on all rows (<paramref name="sliceName"/> null) or on the members of one slice: positive
    /// class 1 for binary tasks, macro over present classes otherwise. NaN for an empty slice.
    /// </summary>
    public double F1(string? sliceName = null) => Metrics(sliceName).F1;

    /// <summary>Accuracy on all rows or on the members of one slice; NaN for an empty slice.</summary>
    public double Accuracy(string? sliceName = null) => Metrics(sliceName).Accuracy;
}

/// <summary>
/// A validation score to maximise for early stopping and best-epoch selection: overall F1, one
/// slice's F1, the mean over the SF slices, a weighted combination, or a custom function.
/// </summary>
public sealed class ValidationMetric
{
    private readonly Func<ValidationOutcome, double> _score;
    private readonly Action<SliceMatrix> _check;

    private ValidationMetric(string name, Func<ValidationOutcome, double> score, Action<SliceMatrix>? check = null)
    {
        Name = name;
        _score = score;
        _check = check ?? (_ => { });
    }

    /// <summary>The metric's name, used in logs and progress reports.</summary>
    public string Name { get; }

    /// <summary>F1 over all validation rows (the default).</summary>
    public static ValidationMetric OverallF1 { get; } = new("f1", o => o.F1());

    /// <summary>Accuracy over all validation rows.</summary>
    public static ValidationMetric OverallAccuracy { get; } = new("accuracy", o => o.Accuracy());

    /// <summary>Minus the mean validation loss (so that larger is better).</summary>
    public static ValidationMetric NegativeLoss { get; } = new("-loss", o => -o.Loss);

    /// <summary>Mean F1 over the SF slices (not the base slice) that have members in the validation set.</summary>
    public static ValidationMetric MeanSliceF1 { get; } = new("mean-slice-f1", o =>
    {
        double sum = 0;
        int count = 0;
        for (int c = 1; c < o.Slices.ColumnCount; c++)
        {
            double f1 = o.F1(o.Slices.SliceNames[c]);
            if (double.IsNaN(f1)) continue;
            sum += f1;
            count++;
        }
        return count == 0 ? double.NaN : sum / count;
    });

    /// <summary>F1 on the members of one slice.</summary>
    /// <param name="sliceName">A slice of the validation data; it must have members there.</param>
    public static ValidationMetric SliceF1(string sliceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sliceName);
        return new($"f1[{sliceName}]", o => o.F1(sliceName), slices =>
        {
            int column;
            try { column = slices.IndexOf(sliceName); }
            catch (KeyNotFoundException ex) { throw new SliceDataException(ex.Message, nameof(sliceName), sliceName); }
            if (slices.MemberCount(column) == 0)
                throw new SliceDataException($"The validation set has no member of slice '{sliceName}', so its F1 cannot guide early stopping.", nameof(sliceName), sliceName);
        });
    }

    /// <summary>A weighted sum of metrics, e.g. 0.5 · overall F1 + 0.5 · mean slice F1.</summary>
    public static ValidationMetric Combine(params (ValidationMetric Metric, double Weight)[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Length == 0) throw new ArgumentException("Combine needs at least one metric.", nameof(parts));
        foreach (var (metric, weight) in parts)
        {
            ArgumentNullException.ThrowIfNull(metric, nameof(parts));
            if (!double.IsFinite(weight)) throw new ArgumentOutOfRangeException(nameof(parts), weight, $"The weight of '{metric.Name}' must be finite.");
        }
        var copy = parts.ToArray();
        string name = string.Join(" + ", copy.Select(p => $"{p.Weight}*{p.Metric.Name}"));
        return new(name, o => copy.Sum(p => p.Weight * p.Metric.Score(o)), s => { foreach (var p in copy) p.Metric.Check(s); });
    }

    /// <summary>A custom metric (larger is better).</summary>
    public static ValidationMetric Custom(string name, Func<ValidationOutcome, double> score)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(score);
        return new(name, score);
    }

    /// <summary>Computes the score (larger is better; NaN when undefined).</summary>
    public double Score(ValidationOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return _score(outcome);
    }

    /// <summary>Fails early when the metric cannot be computed on this validation set.</summary>
    internal void Check(SliceMatrix validationSlices) => _check(validationSlices);

    /// <inheritdoc />
    public override string ToString() => Name;
}
