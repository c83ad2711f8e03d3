namespace SliceLearning.Training;

/// <summary>Small F1 and accuracy helpers for early stopping.</summary>
internal static class ScoreMath
{
    /// <summary>
    /// F1 over the rows where <paramref name="mask"/> is true (all rows when null): positive class 1
    /// for binary tasks, macro average over the classes present in labels or predictions otherwise.
    /// NaN when no row is selected.
    /// </summary>
    public static double F1(int[] labels, int[] predictions, int numClasses, bool[]? mask = null)
    {
        var tp = new long[numClasses];
        var fp = new long[numClasses];
        var fn = new long[numClasses];
        var present = new bool[numClasses];
        long rows = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (mask is not null && !mask[i]) continue;
            rows++;
            int y = labels[i], p = predictions[i];
            present[y] = present[p] = true;
            if (y == p) tp[y]++;
            else { fp[p]++; fn[y]++; }
        }
        if (rows == 0) return double.NaN;
        if (numClasses == 2) return ClassF1(tp[1], fp[1], fn[1]);
        double sum = 0;
        int count = 0;
        for (int c = 0; c < numClasses; c++)
        {
            if (!present[c]) continue;
            sum += ClassF1(tp[c], fp[c], fn[c]);
            count++;
        }
        return sum / count;
    }

    /// <summary>Accuracy over the selected rows; NaN when none.</summary>
    public static double Accuracy(int[] labels, int[] predictions, bool[]? mask = null)
    {
        long rows = 0, correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (mask is not null && !mask[i]) continue;
            rows++;
            if (labels[i] == predictions[i]) correct++;
        }
        return rows == 0 ? double.NaN : (double)correct / rows;
    }

    private static double ClassF1(long tp, long fp, long fn) => tp == 0 ? 0.0 : 2.0 * tp / (2.0 * tp + fp + fn);
}
