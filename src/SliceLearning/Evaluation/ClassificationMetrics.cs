namespace SliceLearning.Evaluation;

/// <summary>A classification metric that a <see cref="ClassificationMetrics"/> carries.</summary>
public enum Metric
{
    /// <summary>Fraction of rows predicted correctly.</summary>
    Accuracy,

    /// <summary>Binary: precision of the positive class 1. Multi-class: macro precision.</summary>
    Precision,

    /// <summary>Binary: recall of the positive class 1. Multi-class: macro recall.</summary>
    Recall,

    /// <summary>Binary: F1 of the positive class 1. Multi-class: macro F1.</summary>
    F1,

    /// <summary>Matthews correlation coefficient (Gorodkin's R_K for more than two classes).</summary>
    Mcc,
}

/// <summary>
/// Classification quality of a set of rows (a slice, or all rows): accuracy, precision, recall,
/// F1, Matthews correlation and support. Immutable.
/// </summary>
/// <remarks>
/// <para>Binary (<see cref="NumClasses"/> = 2): precision, recall and F1 are those of the positive
/// class 1. Multi-class: their unweighted (macro) mean over the classes that occur in the labels or
/// the predictions of these rows (scikit-learn's default label set).</para>
/// <para>A ratio whose denominator is 0 inside a non-empty set (e.g. precision when nothing is
/// predicted positive) is 0, and so is MCC when a marginal is constant (scikit-learn's convention).</para>
/// <para>An empty set (support 0) has <see cref="IsEmpty"/> true and every score NaN: check
/// <see cref="IsEmpty"/> first; reports render such a slice as "empty", never as a number.</para>
/// </remarks>
public sealed record ClassificationMetrics
{
    private ClassificationMetrics(int numClasses, int support, int correct, double accuracy, double precision, double recall, double f1, double mcc)
    {
        NumClasses = numClasses;
        Support = support;
        Correct = correct;
        Accuracy = accuracy;
        Precision = precision;
        Recall = recall;
        F1 = f1;
        Mcc = mcc;
    }

    /// <summary>Number of classes the metrics were computed for (2 = binary).</summary>
    public int NumClasses { get; }

    /// <summary>Number of rows evaluated. 0 for an empty slice.</summary>
    public int Support { get; }

    /// <summary>Number of rows predicted correctly.</summary>
    public int Correct { get; }

    /// <summary>True when no row was evaluated (support 0); every score is then NaN.</summary>
    public bool IsEmpty => Support == 0;

    /// <summary>Correct / Support, in [0, 1]; higher is better.</summary>
    public double Accuracy { get; }

    /// <summary>TP / (TP + FP) of class 1 (binary) or the macro mean (multi-class), in [0, 1]; higher is better.</summary>
    public double Precision { get; }

    /// <summary>TP / (TP + FN) of class 1 (binary) or the macro mean (multi-class), in [0, 1]; higher is better.</summary>
    public double Recall { get; }

    /// <summary>2PR / (P + R) of class 1 (binary) or the macro mean of per-class F1 (multi-class), in [0, 1]; higher is better.</summary>
    public double F1 { get; }

    /// <summary>
    /// Matthews correlation, in [-1, 1]; 1 is perfect, 0 no better than chance. For more than two
    /// classes Gorodkin's generalization: (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)).
    /// </summary>
    public double Mcc { get; }

    /// <summary>The value of <paramref name="metric"/>.</summary>
    public double Get(Metric metric) => metric switch
    {
        Metric.Accuracy => Accuracy,
        Metric.Precision => Precision,
        Metric.Recall => Recall,
        Metric.F1 => F1,
        Metric.Mcc => Mcc,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown metric."),
    };

    internal static ClassificationMetrics Restore(int numClasses, int support, int correct, double accuracy, double precision, double recall, double f1, double mcc) =>
        support == 0 ? Empty(numClasses) : new(numClasses, support, correct, accuracy, precision, recall, f1, mcc);

    /// <summary>The metrics of a set with no rows (<see cref="IsEmpty"/> true, every score NaN).</summary>
    public static ClassificationMetrics Empty(int numClasses)
    {
        CheckNumClasses(numClasses);
        return new ClassificationMetrics(numClasses, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
    }

    /// <summary>Computes the metrics of <paramref name="predictions"/> against <paramref name="labels"/>.</summary>
    /// <param name="labels">True classes, each in [0, numClasses).</param>
    /// <param name="predictions">Predicted classes, same length, each in [0, numClasses).</param>
    /// <param name="numClasses">Number of classes, at least 2.</param>
    /// <exception cref="SliceDataException">Length mismatch or a class out of range (the message names the row).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is below 2.</exception>
    public static ClassificationMetrics Compute(ReadOnlySpan<int> labels, ReadOnlySpan<int> predictions, int numClasses)
    {
        CheckNumClasses(numClasses);
        if (labels.Length != predictions.Length)
            throw new SliceDataException($"Got {labels.Length} labels but {predictions.Length} predictions; they must have the same length.", nameof(predictions));
        var confusion = new long[numClasses * numClasses];
        Runtime.LabelChecks.InRange(labels, numClasses, "Label", nameof(labels));
        Runtime.LabelChecks.InRange(predictions, numClasses, "Prediction", nameof(predictions));
        for (int i = 0; i < labels.Length; i++)
        {
            int y = labels[i], p = predictions[i];
            confusion[y * numClasses + p]++;
        }
        return FromConfusion(confusion, numClasses);
    }

    /// <summary>
    /// Computes the metrics from a confusion matrix: <paramref name="confusion"/>[t * numClasses + p]
    /// counts rows of true class t predicted as p.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong size or a negative count.</exception>
    public static ClassificationMetrics FromConfusion(ReadOnlySpan<long> confusion, int numClasses)
    {
        CheckNumClasses(numClasses);
        if (confusion.Length != numClasses * numClasses)
            throw new ArgumentException($"A confusion matrix for {numClasses} classes has {numClasses * numClasses} cells, got {confusion.Length}.", nameof(confusion));
        long s = 0, c = 0;
        Span<long> truth = numClasses <= 64 ? stackalloc long[numClasses] : new long[numClasses];
        Span<long> predicted = numClasses <= 64 ? stackalloc long[numClasses] : new long[numClasses];
        truth.Clear();
        predicted.Clear();
        for (int t = 0; t < numClasses; t++)
        {
            for (int p = 0; p < numClasses; p++)
            {
                long n = confusion[t * numClasses + p];
                if (n < 0) throw new ArgumentException($"Confusion cell [{t}, {p}] is negative ({n}).", nameof(confusion));
                s += n;
                truth[t] += n;
                predicted[p] += n;
                if (t == p) c += n;
            }
        }
        if (s == 0) return Empty(numClasses);
        if (s > int.MaxValue) throw new ArgumentException($"Support {s} exceeds {int.MaxValue}.", nameof(confusion));

        double precision, recall, f1;
        if (numClasses == 2)
        {
            long tp = confusion[3];
            (precision, recall, f1) = Prf(tp, predicted[1], truth[1]);
        }
        else
        {
            double sp = 0, sr = 0, sf = 0;
            int present = 0;
            for (int k = 0; k < numClasses; k++)
            {
                if (truth[k] == 0 && predicted[k] == 0) continue;
                var (pk, rk, fk) = Prf(confusion[k * numClasses + k], predicted[k], truth[k]);
                sp += pk; sr += rk; sf += fk;
                present++;
            }
            precision = sp / present;
            recall = sr / present;
            f1 = sf / present;
        }

        // Gorodkin (2004): R_K = (c s - sum p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)); equals MCC for K = 2.
        double ds = s, sumPt = 0, sumP2 = 0, sumT2 = 0;
        for (int k = 0; k < numClasses; k++)
        {
            sumPt += (double)predicted[k] * truth[k];
            sumP2 += (double)predicted[k] * predicted[k];
            sumT2 += (double)truth[k] * truth[k];
        }
        double denominator = Math.Sqrt((ds * ds - sumP2) * (ds * ds - sumT2));
        double mcc = denominator == 0 ? 0 : Math.Clamp((c * ds - sumPt) / denominator, -1.0, 1.0);

        return new ClassificationMetrics(numClasses, (int)s, (int)c, (double)c / s, precision, recall, f1, mcc);
    }

    private static (double Precision, double Recall, double F1) Prf(long tp, long predictedPositive, long actualPositive)
    {
        double p = predictedPositive == 0 ? 0 : (double)tp / predictedPositive;
        double r = actualPositive == 0 ? 0 : (double)tp / actualPositive;
        // 2TP / (2TP + FP + FN) equals 2PR/(P+R) and avoids rounding twice.
        long denominator = predictedPositive + actualPositive;
        double f = denominator == 0 ? 0 : 2.0 * tp / denominator;
        return (p, r, f);
    }

    private static void CheckNumClasses(int numClasses)
    {
        if (numClasses < 2)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The 'numClasses' parameter must be at least 2.");
    }

    /// <inheritdoc />
    public override string ToString() => IsEmpty
        ? "empty (support 0)"
        : FormattableString.Invariant($"support {Support}, accuracy {Accuracy:F4}, precision {Precision:F4}, recall {Recall:F4}, F1 {F1:F4}, MCC {Mcc:F4}");
}
