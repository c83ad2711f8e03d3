using SliceLearning.Evaluation;

namespace SliceLearning.Tests.Evaluation;

public sealed class ClassificationMetricsTests
{
    private const int Precision = 12;

    [Fact]
    public void Binary_SymmetricConfusion_HandComputed()
    {
        // TP = 3 (rows 0, 2, 7), FN = 1 (row 1), FP = 1 (row 4), TN = 3.
        int[] labels = { 1, 1, 1, 0, 0, 0, 0, 1 };
        int[] predictions = { 1, 0, 1, 0, 1, 0, 0, 1 };
        var m = ClassificationMetrics.Compute(labels, predictions, 2);
        Assert.Equal(8, m.Support);
        Assert.Equal(6, m.Correct);
        Assert.False(m.IsEmpty);
        Assert.Equal(0.75, m.Accuracy, Precision);
        Assert.Equal(0.75, m.Precision, Precision);
        Assert.Equal(0.75, m.Recall, Precision);
        Assert.Equal(0.75, m.F1, Precision);
        Assert.Equal(0.5, m.Mcc, Precision); // (9 - 1) / sqrt(4 * 4 * 4 * 4)
    }

    [Fact]
    public void Binary_AsymmetricConfusion_FromConfusionMatchesCompute()
    {
        // TN = 10, FP = 2, FN = 3, TP = 5.
        long[] confusion = { 10, 2, 3, 5 };
        var m = ClassificationMetrics.FromConfusion(confusion, 2);
        Assert.Equal(20, m.Support);
        Assert.Equal(15.0 / 20, m.Accuracy, Precision);
        Assert.Equal(5.0 / 7, m.Precision, Precision);
        Assert.Equal(5.0 / 8, m.Recall, Precision);
        Assert.Equal(2.0 / 3, m.F1, Precision); // 2*5 / (2*5 + 2 + 3)
        Assert.Equal((5.0 * 10 - 2.0 * 3) / Math.Sqrt(7.0 * 8 * 12 * 13), m.Mcc, Precision);

        var labels = new List<int>();
        var predictions = new List<int>();
        void Add(int y, int p, int n) { for (int i = 0; i < n; i++) { labels.Add(y); predictions.Add(p); } }
        Add(0, 0, 10); Add(0, 1, 2); Add(1, 0, 3); Add(1, 1, 5);
        Assert.Equal(m, ClassificationMetrics.Compute(labels.ToArray(), predictions.ToArray(), 2));
    }

    [Fact]
    public void MultiClass_MacroScores_AndGorodkinMcc_HandComputed()
    {
        // Rows = true class, columns = predicted class.
        // [[2,1,1],[0,3,0],[1,1,1]]: s = 10, c = 6, t = (4,3,3), p = (3,5,2).
        long[] confusion = { 2, 1, 1, 0, 3, 0, 1, 1, 1 };
        var m = ClassificationMetrics.FromConfusion(confusion, 3);
        Assert.Equal(10, m.Support);
        Assert.Equal(0.6, m.Accuracy, Precision);
        Assert.Equal((2.0 / 3 + 3.0 / 5 + 1.0 / 2) / 3, m.Precision, Precision);
        Assert.Equal((2.0 / 4 + 3.0 / 3 + 1.0 / 3) / 3, m.Recall, Precision);
        Assert.Equal((4.0 / 7 + 6.0 / 8 + 2.0 / 5) / 3, m.F1, Precision);
        // (c s - sum p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)) = (60 - 33) / sqrt(62 * 66)
        Assert.Equal(27 / Math.Sqrt(62.0 * 66), m.Mcc, Precision);
    }

    [Fact]
    public void MultiClass_MccOfPerfectAndOfConstantPrediction()
    {
        int[] labels = { 0, 1, 2, 2, 1, 0 };
        Assert.Equal(1.0, ClassificationMetrics.Compute(labels, labels, 3).Mcc, Precision);
        var constant = ClassificationMetrics.Compute(labels, new int[6], 3);
        Assert.Equal(0.0, constant.Mcc); // predicted marginal is constant: 0 by convention
        Assert.Equal(2.0 / 6, constant.Accuracy, Precision);
    }

    [Fact]
    public void MultiClass_Macro_AveragesOnlyClassesThatOccur()
    {
        // 4 classes declared; only 0 and 1 occur. Per class F1: class 0: 2*1/(2+1)=2/3; class 1: 2*2/(3+2)=4/5.
        int[] labels = { 0, 0, 1, 1 };
        int[] predictions = { 0, 1, 1, 1 };
        var m = ClassificationMetrics.Compute(labels, predictions, 4);
        Assert.Equal((2.0 / 3 + 4.0 / 5) / 2, m.F1, Precision);
        Assert.Equal((1.0 + 2.0 / 3) / 2, m.Precision, Precision);
        Assert.Equal((0.5 + 1.0) / 2, m.Recall, Precision);
    }

    [Fact]
    public void Binary_ZeroDenominators_GiveZeroNotNaN()
    {
        int[] labels = { 0, 0, 0 };
        var m = ClassificationMetrics.Compute(labels, labels, 2);
        Assert.Equal(1.0, m.Accuracy);
        Assert.Equal(0.0, m.Precision);
        Assert.Equal(0.0, m.Recall);
        Assert.Equal(0.0, m.F1);
        Assert.Equal(0.0, m.Mcc);
    }

    [Fact]
    public void Empty_IsFlaggedWithSupportZero()
    {
        var m = ClassificationMetrics.Compute(ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty, 2);
        Assert.True(m.IsEmpty);
        Assert.Equal(0, m.Support);
        Assert.True(double.IsNaN(m.F1));
        Assert.Equal("empty (support 0)", m.ToString());
        Assert.Equal(ClassificationMetrics.Empty(2), m);
    }

    [Fact]
    public void LengthMismatch_IsSliceDataException()
    {
        var ex = Assert.Throws<SliceDataException>(() => ClassificationMetrics.Compute(new[] { 0, 1 }, new[] { 0 }, 2));
        Assert.Contains("2 labels but 1 predictions", ex.Message);
    }

    [Fact]
    public void LabelOutOfRange_NamesRowAndValue()
    {
        var ex = Assert.Throws<SliceDataException>(() => ClassificationMetrics.Compute(new[] { 0, 3, 1 }, new[] { 0, 1, 1 }, 3));
        Assert.Equal(1, ex.Row);
        Assert.Equal("labels", ex.ParamName);
        Assert.Contains("Label 3 at row 1 is outside [0, 3)", ex.Message);
    }

    [Fact]
    public void PredictionOutOfRange_NamesRow()
    {
        var ex = Assert.Throws<SliceDataException>(() => ClassificationMetrics.Compute(new[] { 0, 1 }, new[] { 0, -1 }, 2));
        Assert.Equal(1, ex.Row);
        Assert.Equal("predictions", ex.ParamName);
    }

    [Fact]
    public void NumClassesBelowTwo_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.Compute(new[] { 0 }, new[] { 0 }, 1));
        Assert.Equal("numClasses", ex.ParamName);
    }

    [Fact]
    public void Get_ReturnsEachMetric()
    {
        var m = ClassificationMetrics.FromConfusion(new long[] { 10, 2, 3, 5 }, 2);
        Assert.Equal(m.Accuracy, m.Get(Metric.Accuracy));
        Assert.Equal(m.Precision, m.Get(Metric.Precision));
        Assert.Equal(m.Recall, m.Get(Metric.Recall));
        Assert.Equal(m.F1, m.Get(Metric.F1));
        Assert.Equal(m.Mcc, m.Get(Metric.Mcc));
    }

    [Fact]
    public void ArgMax_PicksLargestScore_AndRejectsNaN()
    {
        float[] scores = { 0.1f, 0.7f, 0.2f, 0.5f, 0.2f, 0.3f };
        Assert.Equal(new[] { 1, 0 }, Predictions.ArgMax(scores, 3));
        scores[4] = float.NaN;
        var ex = Assert.Throws<SliceDataException>(() => Predictions.ArgMax(scores, 3));
        Assert.Equal(1, ex.Row);
        Assert.Contains("NaN", ex.Message);
        Assert.Throws<SliceDataException>(() => Predictions.ArgMax(new float[5], 3));
    }

    [Fact]
    public void FromPositiveProbabilities_Thresholds_AndRejectsNaN()
    {
        Assert.Equal(new[] { 0, 1, 1 }, Predictions.FromPositiveProbabilities(new[] { 0.2f, 0.5f, 0.9f }));
        var ex = Assert.Throws<SliceDataException>(() => Predictions.FromPositiveProbabilities(new[] { 0.2f, float.NaN }));
        Assert.Equal(1, ex.Row);
    }
}
