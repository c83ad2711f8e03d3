using SliceLearning.Models;
using SliceLearning.Training;
using static TorchSharp.torch;

namespace TextSamples;

/// <summary>
/// What a trained SRAM model does inside, measured on labelled data with slice membership: whether it
/// predicts one class only, where its attention goes, how well its indicators find the slices, how
/// accurate its experts are, and its three loss terms.
/// </summary>
/// <param name="PositiveRate">Fraction of examples predicted as class 1.</param>
/// <param name="LabelPositiveRate">Fraction of examples labelled 1.</param>
/// <param name="BaseAttention">Mean attention weight on the base expert.</param>
/// <param name="MemberAttention">Mean attention weight of an (example, slice) pair, over member pairs of the non-base slices.</param>
/// <param name="IndicatorAuc">Mean over the non-base slices (with members and non-members) of the indicator's ROC AUC against the SF.</param>
/// <param name="BaseExpertAccuracy">Accuracy of the shared slice head on the base expert.</param>
/// <param name="MemberExpertAccuracy">Accuracy of the shared slice head on each member's own slice expert (non-base slices, over member pairs).</param>
/// <param name="PredictionLoss">Prediction head cross-entropy.</param>
/// <param name="SliceHeadLoss">Shared slice head cross-entropy over member pairs.</param>
/// <param name="IndicatorLoss">Indicator binary cross-entropy summed over slices.</param>
public sealed record SramDiagnostics(double PositiveRate, double LabelPositiveRate, double BaseAttention, double MemberAttention, double IndicatorAuc,
    double BaseExpertAccuracy, double MemberExpertAccuracy, double PredictionLoss, double SliceHeadLoss, double IndicatorLoss)
{
    /// <summary>Measures <paramref name="model"/> on <paramref name="data"/> in evaluation mode (the previous mode is restored).</summary>
    public static SramDiagnostics Measure(SliceAwareModel model, SliceDataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            int n = data.Count, m = data.Slices.ColumnCount;
            var attention = new float[n * m];
            var indicator = new float[n * m];
            var gap = new float[n * m];
            var predicted = new int[n];
            double prediction = 0, sliceHead = 0, indicatorLoss = 0;
            for (int start = 0; start < n; start += batchSize)
            {
                int count = Math.Min(batchSize, n - start);
                using var scope = NewDisposeScope();
                var x = data.Features.narrow(0, start, count);
                using var output = model.Run(x);
                output.AttentionWeights.contiguous().data<float>().CopyTo(attention, start * m);
                output.IndicatorLogits.contiguous().data<float>().CopyTo(indicator, start * m);
                var g = output.SlicePredictionLogits.select(2, 1) - output.SlicePredictionLogits.select(2, 0);
                g.contiguous().data<float>().CopyTo(gap, start * m);
                var classes = output.Logits.argmax(1).data<long>().ToArray();
                for (int i = 0; i < count; i++) predicted[start + i] = (int)classes[i];
                using var terms = model.LossTerms(x, data.Labels.narrow(0, start, count), data.Membership.narrow(0, start, count));
                prediction += terms.Prediction.item<float>() * count;
                sliceHead += terms.SliceHead.item<float>() * count;
                indicatorLoss += terms.Indicator.item<float>() * count;
            }
            var labels = data.Labels.data<long>().ToArray();
            var member = data.Membership.to(ScalarType.Float32).contiguous().data<float>().ToArray();
            double memberAttention = 0, memberCorrect = 0, memberPairs = 0, baseCorrect = 0, baseAttention = 0;
            for (int i = 0; i < n; i++)
            {
                baseAttention += attention[i * m];
                if ((gap[i * m] > 0 ? 1 : 0) == labels[i]) baseCorrect++;
                for (int j = 1; j < m; j++)
                {
                    if (member[i * m + j] < 0.5f) continue;
                    memberPairs++;
                    memberAttention += attention[i * m + j];
                    if ((gap[i * m + j] > 0 ? 1 : 0) == labels[i]) memberCorrect++;
                }
            }
            var aucs = new List<double>();
            for (int j = 1; j < m; j++)
            {
                double auc = Auc(Enumerable.Range(0, n).Select(i => (indicator[i * m + j], member[i * m + j] >= 0.5f)).ToArray());
                if (double.IsFinite(auc)) aucs.Add(auc);
            }
            return new SramDiagnostics(predicted.Average(), labels.Average(), baseAttention / n,
                memberPairs > 0 ? memberAttention / memberPairs : double.NaN, aucs.Count > 0 ? aucs.Average() : double.NaN,
                baseCorrect / n, memberPairs > 0 ? memberCorrect / memberPairs : double.NaN, prediction / n, sliceHead / n, indicatorLoss / n);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>ROC AUC of scores against 0/1 truth (ties count half); NaN without both classes.</summary>
    public static double Auc(IReadOnlyList<(float Score, bool Positive)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var sorted = points.OrderBy(p => p.Score).ToArray();
        long positives = sorted.Count(p => p.Positive), negatives = sorted.Length - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        double rankSum = 0;
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j < sorted.Length && sorted[j].Score == sorted[i].Score) j++;
            double rank = (i + 1 + j) / 2.0; // mean 1-based rank of the tie group
            for (int k = i; k < j; k++) if (sorted[k].Positive) rankSum += rank;
            i = j;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }

    /// <summary>One line for the console.</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"predicted positive {PositiveRate:P1} (labels {LabelPositiveRate:P1}), attention on base {BaseAttention:F3}, on own slice (members) {MemberAttention:F3}, indicator AUC {IndicatorAuc:F3}, expert accuracy base {BaseExpertAccuracy:P1} / members {MemberExpertAccuracy:P1}, loss prediction {PredictionLoss:F3} / slice head {SliceHeadLoss:F3} / indicator {IndicatorLoss:F3}");
}
