using System.Buffers;
using System.Runtime.CompilerServices;
using SliceLearning.Runtime;
using static TorchSharp.torch;
using static SliceLearning.Modules.Fused.SpanMath;

namespace SliceLearning.Modules.Fused;

/// <summary>
/// The arithmetic of <see cref="FusedSramLoss"/> for one batch: B examples, backbone width d, m slices, expert
/// size h, C classes. Layouts are chosen so that every inner loop runs over a contiguous row of m (or h·m,
/// C·m) values: the expert weights are held as [d, h, m], so R_b = z_b W + b is one axpy per input
/// feature, and the shared slice head is composed into the experts (P_b = z_b (W_i Wg^T) + b_i Wg^T + bg,
/// held as [d, C, m]). Buffers come from the shared array pool and go back in <see cref="Release"/>.
/// </summary>
internal sealed class SramLossKernel
{
    private readonly int B, d, m, h, C;
    private readonly FusedSramLossSettings _s;
    private readonly List<float[]> _rented = new();
    private readonly float[] z, mask, wqT, bqCopy, wt, beT, wc, bcT, wg, wp, q, r, p, pi, share, a, sig, zp, soft;
    private readonly int[] labels;
    private double _pairs;

    public SramLossKernel(int batch, int width, int slices, int expertSize, int classes, FusedSramLossSettings settings)
    {
        (B, d, m, h, C, _s) = (batch, width, slices, expertSize, classes, settings);
        z = Rent(B * d); mask = Rent(B * m); wqT = Rent(d * m); bqCopy = Rent(m); wt = Rent(d * h * m); beT = Rent(h * m);
        wc = Rent(d * C * m); bcT = Rent(C * m); wg = Rent(C * h); wp = Rent(C * h);
        q = Rent(B * m); r = Rent(B * h * m); p = Rent(B * C * m); pi = Rent(B * C * m); share = Rent(B * C * m); a = Rent(B * m); sig = Rent(B * m);
        zp = Rent(B * h); soft = Rent(B * C);
        labels = ArrayPool<int>.Shared.Rent(B);
    }

    private float[] Rent(int n)
    {
        var array = ArrayPool<float>.Shared.Rent(Math.Max(n, 1));
        _rented.Add(array);
        return array;
    }

    /// <summary>Returns the buffers to the pool; the kernel is unusable afterwards.</summary>
    public void Release()
    {
        foreach (var array in _rented) ArrayPool<float>.Shared.Return(array);
        _rented.Clear();
        ArrayPool<int>.Shared.Return(labels);
    }

    private Span<float> Row(float[] array, int index, int length) => array.AsSpan(index * length, length);

    /// <summary>The forward pass: total and the three unweighted terms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (float Total, float Prediction, float SliceHead, float Indicator) Forward(ReadOnlySpan<float> zIn, ReadOnlySpan<long> labelsIn,
        ReadOnlySpan<float> maskIn, ReadOnlySpan<float> wq, ReadOnlySpan<float> bq, ReadOnlySpan<float> we, ReadOnlySpan<float> be,
        ReadOnlySpan<float> wgIn, ReadOnlySpan<float> bg, ReadOnlySpan<float> wpIn, ReadOnlySpan<float> bp, ReadOnlySpan<float> scores)
    {
        zIn.CopyTo(z); maskIn.CopyTo(mask); wgIn.CopyTo(wg); wpIn.CopyTo(wp);
        for (int b = 0; b < B; b++)
        {
            long y = labelsIn[b];
            if ((ulong)y >= (ulong)C) throw new ArgumentException($"Label {y} at row {b} is outside the {C} classes.", "labels");
            labels[b] = (int)y;
        }
        int hm = h * m, cm = C * m;
        for (int i = 0; i < m; i++)
        for (int j = 0; j < d; j++) wqT[j * m + i] = wq[i * d + j];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < d; j++)
        for (int t = 0; t < h; t++) wt[j * hm + t * m + i] = we[(i * d + j) * h + t];
        for (int i = 0; i < m; i++)
        for (int t = 0; t < h; t++) beT[t * m + i] = be[i * h + t];
        // The shared head composed into the experts: Wc[j, c, :] = Σ_t Wg[c, t] W[j, t, :], bc[c, :] = bg[c] + Σ_t Wg[c, t] b[t, :].
        Array.Clear(wc, 0, d * cm);
        for (int c = 0; c < C; c++)
        {
            var bcRow = bcT.AsSpan(c * m, m);
            bcRow.Fill(bg[c]);
            for (int t = 0; t < h; t++)
            {
                float g = wg[c * h + t];
                Axpy(g, beT.AsSpan(t * m, m), bcRow);
                for (int j = 0; j < d; j++) Axpy(g, wt.AsSpan(j * hm + t * m, m), wc.AsSpan(j * cm + c * m, m));
            }
        }
        // Q [B, m], R [B, h·m], P [B, C·m]: three small GEMMs from z.
        bq.CopyTo(bqCopy);
        GemmForward(z, B, d, wqT, bqCopy, m, q);
        GemmForward(z, B, d, wt, beT, hm, r);
        GemmForward(z, B, d, wc, bcT, cm, p);
        float[] mx = new float[m], sum = new float[m], logSum = new float[m], s = new float[m], shift = new float[m];
        double predictionSum = 0, headSum = 0, indicatorSum = 0, pairs = 0;
        for (int b = 0; b < B; b++)
        {
            var mb = Row(mask, b, m);
            int y = labels[b];
            var rowQ = Row(q, b, m);
            var rowP = Row(p, b, cm);
            var rb = Row(r, b, hm);
            // Per slice: softmax over the classes, log max softmax (the log-confidence), the slice head's cross-entropy.
            rowP[..m].CopyTo(mx);
            for (int c = 1; c < C; c++)
                for (int i = 0; i < m; i++) mx[i] = MathF.Max(mx[i], rowP[c * m + i]);
            var pib = Row(pi, b, cm);
            Array.Clear(sum);
            for (int c = 0; c < C; c++)
            {
                ExpShifted(rowP.Slice(c * m, m), mx, pib.Slice(c * m, m));
                Add(pib.Slice(c * m, m), sum);
            }
            Log(sum, logSum);
            var shb = Row(share, b, cm);
            for (int i = 0; i < m; i++)
            {
                float inverse = 1 / sum[i];
                int ties = 0;
                for (int c = 0; c < C; c++)
                {
                    pib[c * m + i] *= inverse;
                    if (rowP[c * m + i] == mx[i]) ties++;
                }
                // amax's gradient is shared between equal maxima.
                for (int c = 0; c < C; c++) shb[c * m + i] = rowP[c * m + i] == mx[i] ? 1f / ties : 0f;
                if (mb[i] != 0) headSum += mb[i] * (mx[i] + logSum[i] - rowP[y * m + i]);
                pairs += mb[i];
            }
            // Attention: softmax over [0, q_i + log max softmax(p_i) + b_i] / T (q detached: experts-only).
            s[0] = 0;
            for (int i = 1; i < m; i++) s[i] = rowQ[i] + -logSum[i] + scores[i - 1];
            if (_s.Temperature != 1.0) for (int i = 0; i < m; i++) s[i] = (float)(s[i] / _s.Temperature);
            float sMax = s[0];
            for (int i = 1; i < m; i++) sMax = MathF.Max(sMax, s[i]);
            Array.Fill(shift, sMax);
            var ab = Row(a, b, m);
            ExpShifted(s, shift, ab);
            float total = 0;
            for (int i = 0; i < m; i++) total += ab[i];
            Scale(1 / total, ab, ab);
            // z' = Σ_i a_i r_i, the prediction head, its cross-entropy.
            var zpb = Row(zp, b, h);
            for (int t = 0; t < h; t++) zpb[t] = Dot(ab, rb.Slice(t * m, m));
            var sb = Row(soft, b, C);
            float lMax = float.NegativeInfinity;
            for (int c = 0; c < C; c++)
            {
                sb[c] = bp[c] + Dot(wp.AsSpan(c * h, h), zpb);
                lMax = MathF.Max(lMax, sb[c]);
            }
            float lSum = 0, logitY = sb[y];
            for (int c = 0; c < C; c++) { sb[c] = MathF.Exp(sb[c] - lMax); lSum += sb[c]; }
            for (int c = 0; c < C; c++) sb[c] /= lSum;
            predictionSum += lMax + MathF.Log(lSum) - logitY;
            indicatorSum += BinaryCrossEntropy(rowQ, mb, Row(sig, b, m));
        }

        _pairs = pairs;
        float prediction = (float)(predictionSum / B);
        float head = (float)(headSum / Math.Max(1.0, pairs));
        float indicator = (float)(indicatorSum / _s.IndicatorDivisor);
        float totalLoss = (float)(_s.PredictionWeight * prediction + _s.SliceHeadWeight * head + _s.IndicatorWeight * indicator);
        return (totalLoss, prediction, head, indicator);
    }

    /// <summary>
    /// The gradients of <paramref name="scale"/> · total with respect to z and the nine parameter tensors, as new
    /// tensors in the order of <see cref="FusedSramLoss"/>'s inputs (the slice scores' is null when m = 1: unused).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public List<Tensor> Backward(float scale)
    {
        int hm = h * m, cm = C * m;
        float cp = (float)(scale * _s.PredictionWeight / B);
        float ch = (float)(scale * _s.SliceHeadWeight / Math.Max(1.0, _pairs));
        float ci = (float)(scale * _s.IndicatorWeight / _s.IndicatorDivisor);
        float inverseT = (float)(1 / _s.Temperature);
        float[] dWt = Rent(d * hm), dBeT = Rent(hm), dWc = Rent(d * cm), dBcT = Rent(cm), dWqT = Rent(d * m), dBq = Rent(m);
        float[] dWp = Rent(C * h), dBp = Rent(C), dScores = Rent(Math.Max(m - 1, 1)), dZ = Rent(B * d);
        foreach (var array in new[] { dWt, dBeT, dWc, dBcT, dWqT, dBq, dWp, dBp, dScores }) Array.Clear(array);

        float[] dRAll = Rent(B * hm), dPAll = Rent(B * cm), dQAll = Rent(B * m);
        Array.Clear(dZ, 0, B * d);
        float[] dzp = new float[h], da = new float[m], dS = new float[m];
        for (int b = 0; b < B; b++)
        {
            int y = labels[b];
            var mb = Row(mask, b, m);
            var ab = Row(a, b, m);
            var rb = Row(r, b, hm);
            var pib = Row(pi, b, cm);
            var shb = Row(share, b, cm);
            var zpb = Row(zp, b, h);
            var sb = Row(soft, b, C);
            var dR = Row(dRAll, b, hm);
            var dP = Row(dPAll, b, cm);
            var dQ = Row(dQAll, b, m);
            // Prediction head.
            Array.Clear(dzp);
            for (int c = 0; c < C; c++)
            {
                float g = cp * (sb[c] - (c == y ? 1f : 0f));
                Axpy(g, zpb, dWp.AsSpan(c * h, h));
                dBp[c] += g;
                Axpy(g, wp.AsSpan(c * h, h), dzp);
            }
            // z' = Σ a_i r_i: into the attention weights and the expert representations.
            Array.Clear(da);
            for (int t = 0; t < h; t++)
            {
                Axpy(dzp[t], rb.Slice(t * m, m), da);
                Scale(dzp[t], ab, dR.Slice(t * m, m));
            }
            // Softmax (and temperature) back to the scores; slice i ≥ 1's score is q_i + log-confidence + b_i.
            float weighted = Dot(ab, da);
            for (int i = 0; i < m; i++) dS[i] = ab[i] * (da[i] - weighted) * inverseT;
            dS[0] = 0;
            for (int i = 1; i < m; i++) dScores[i - 1] += dS[i];
            // P: the log-confidence (max minus log-sum-exp) and the slice head's cross-entropy over member pairs.
            for (int c = 0; c < C; c++)
            {
                float target = c == y ? 1f : 0f;
                for (int i = 0; i < m; i++)
                {
                    int k = c * m + i;
                    dP[k] = dS[i] * (shb[k] - pib[k]) + ch * mb[i] * (pib[k] - target);
                }
            }
            // Q: the indicator loss only (the attention reads it detached).
            for (int i = 0; i < m; i++) dQ[i] = ci * (sig[b * m + i] - mb[i]);
        }

        // Parameters and z: the backward of the three GEMMs.
        GemmBackward(z, B, d, wt, hm, dRAll, dWt, dBeT, dZ);
        GemmBackward(z, B, d, wc, cm, dPAll, dWc, dBcT, dZ);
        GemmBackward(z, B, d, wqT, m, dQAll, dWqT, dBq, dZ);

        // The composed head back to the experts and the shared head.
        var dWg = new float[C * h];
        var dBg = new float[C];
        for (int c = 0; c < C; c++)
        {
            var dbcRow = dBcT.AsSpan(c * m, m);
            for (int i = 0; i < m; i++) dBg[c] += dbcRow[i];
            for (int t = 0; t < h; t++)
            {
                float g = wg[c * h + t];
                float acc = Dot(dbcRow, beT.AsSpan(t * m, m));
                Axpy(g, dbcRow, dBeT.AsSpan(t * m, m));
                for (int j = 0; j < d; j++)
                {
                    var dwcRow = dWc.AsSpan(j * cm + c * m, m);
                    acc += Dot(dwcRow, wt.AsSpan(j * hm + t * m, m));
                    Axpy(g, dwcRow, dWt.AsSpan(j * hm + t * m, m));
                }
                dWg[c * h + t] = acc;
            }
        }

        // Back to the parameters' own layouts.
        var gz = NewTensor(new long[] { B, d }, out var sz); dZ.AsSpan(0, B * d).CopyTo(sz);
        var gWq = NewTensor(new long[] { m, d }, out var sWq);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < d; j++) sWq[i * d + j] = dWqT[j * m + i];
        var gBq = NewTensor(new long[] { m }, out var sBq); dBq.AsSpan(0, m).CopyTo(sBq);
        var gWe = NewTensor(new long[] { m, d, h }, out var sWe);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < d; j++)
        for (int t = 0; t < h; t++) sWe[(i * d + j) * h + t] = dWt[j * hm + t * m + i];
        var gBe = NewTensor(new long[] { m, h }, out var sBe);
        for (int i = 0; i < m; i++)
        for (int t = 0; t < h; t++) sBe[i * h + t] = dBeT[t * m + i];
        var gWg = NewTensor(new long[] { C, h }, out var sWg); dWg.CopyTo(sWg);
        var gBg = NewTensor(new long[] { C }, out var sBg); dBg.CopyTo(sBg);
        var gWp = NewTensor(new long[] { C, h }, out var sWp); dWp.AsSpan(0, C * h).CopyTo(sWp);
        var gBp = NewTensor(new long[] { C }, out var sBp); dBp.AsSpan(0, C).CopyTo(sBp);
        Tensor gScores = null!;
        if (m > 1)
        {
            gScores = NewTensor(new long[] { m - 1 }, out var sScores);
            dScores.AsSpan(0, m - 1).CopyTo(sScores);
        }

        return new List<Tensor> { gz, gWq, gBq, gWe, gBe, gWg, gBg, gWp, gBp, gScores };
    }

    private static Tensor NewTensor(long[] shape, out Span<float> values)
    {
        var tensor = empty(shape, ScalarType.Float32);
        values = CpuSpans.Of(tensor);
        return tensor;
    }
}
