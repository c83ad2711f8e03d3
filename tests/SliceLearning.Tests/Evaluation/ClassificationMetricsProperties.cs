using FsCheck;
using FsCheck.Xunit;
using SliceLearning.Evaluation;

namespace SliceLearning.Tests.Evaluation;

public sealed class ClassificationMetricsProperties
{
    private static (int[] Labels, int[] Predictions) Split((byte Label, byte Prediction)[] pairs, int numClasses) =>
        (pairs.Select(p => p.Label % numClasses).ToArray(), pairs.Select(p => p.Prediction % numClasses).ToArray());

    private static int Classes(byte k) => 2 + k % 4;

    [Property(MaxTest = 300)]
    public bool Metrics_AreInRange(NonEmptyArray<(byte, byte)> pairs, byte k)
    {
        int c = Classes(k);
        var (y, p) = Split(pairs.Get, c);
        var m = ClassificationMetrics.Compute(y, p, c);
        bool unit(double v) => v >= 0 && v <= 1;
        return m.Support == y.Length && unit(m.Accuracy) && unit(m.Precision) && unit(m.Recall) && unit(m.F1)
            && m.Mcc >= -1 && m.Mcc <= 1 && !double.IsNaN(m.Mcc);
    }

    [Property(MaxTest = 300)]
    public bool Metrics_AreInvariantUnderRowPermutation(NonEmptyArray<(byte, byte)> pairs, byte k, int seed)
    {
        int c = Classes(k);
        var (y, p) = Split(pairs.Get, c);
        var order = Enumerable.Range(0, y.Length).ToArray();
        new Random(seed).Shuffle(order);
        var shuffled = ClassificationMetrics.Compute(order.Select(i => y[i]).ToArray(), order.Select(i => p[i]).ToArray(), c);
        var original = ClassificationMetrics.Compute(y, p, c);
        return Close(original.Accuracy, shuffled.Accuracy) && Close(original.F1, shuffled.F1) && Close(original.Mcc, shuffled.Mcc)
            && Close(original.Precision, shuffled.Precision) && Close(original.Recall, shuffled.Recall);
    }

    [Property(MaxTest = 300)]
    public bool Mcc_IsSymmetricUnderClassRelabelling(NonEmptyArray<(byte, byte)> pairs, byte k, int seed)
    {
        int c = Classes(k);
        var (y, p) = Split(pairs.Get, c);
        var relabel = Enumerable.Range(0, c).ToArray();
        new Random(seed).Shuffle(relabel);
        var original = ClassificationMetrics.Compute(y, p, c);
        var renamed = ClassificationMetrics.Compute(y.Select(v => relabel[v]).ToArray(), p.Select(v => relabel[v]).ToArray(), c);
        bool macroInvariant = c == 2 || Close(original.F1, renamed.F1); // macro F1 too; binary F1 is of class 1 only
        return Close(original.Mcc, renamed.Mcc) && Close(original.Accuracy, renamed.Accuracy) && macroInvariant;
    }

    [Property(MaxTest = 200)]
    public bool Mcc_OfBinary_MatchesClassicFormula(NonEmptyArray<(bool, bool)> pairs)
    {
        var y = pairs.Get.Select(t => t.Item1 ? 1 : 0).ToArray();
        var p = pairs.Get.Select(t => t.Item2 ? 1 : 0).ToArray();
        double tp = 0, tn = 0, fp = 0, fn = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] == 1 && p[i] == 1) tp++;
            else if (y[i] == 0 && p[i] == 0) tn++;
            else if (p[i] == 1) fp++;
            else fn++;
        }
        double d = Math.Sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
        double expected = d == 0 ? 0 : (tp * tn - fp * fn) / d;
        return Close(expected, ClassificationMetrics.Compute(y, p, 2).Mcc);
    }

    private static bool Close(double a, double b) => Math.Abs(a - b) < 1e-9;
}
