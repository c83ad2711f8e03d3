using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using SliceLearning.Runtime;
using static TorchSharp.torch;
using static SliceLearning.Modules.Fused.SpanMath;

namespace SliceLearning.Modules.Fused;

/// <summary>
/// The arithmetic of <see cref="FusedSramLoss"/> for one batch: B examples, backbone width d, m slices, expert
/// size h, C classes. Everything linear in z is one small GEMM Y = z W + bias with W [d, L] holding three column
/// blocks: the indicator heads (Q, m columns), the experts as [h, m] (R, h·m columns: row t of an example's R
/// is expert feature t of every slice) and the shared slice head composed into the experts (P = z (W_i Wg^T) +
/// b_i Wg^T + bg, as [C, m]), L padded to whole vectors. So every per-example loop runs over contiguous rows of
/// m values. Buffers come from the shared array pool and go back in <see cref="Release"/>.
/// </summary>
internal sealed class SramLossKernel
{
    private readonly int B, d, m, h, C, L, oR, oP;
    private readonly FusedSramLossSettings _s;
    private readonly List<float[]> _rented = new();
    private readonly float[] z, mask, w, bias, wg, wp, y, pi, share, a, sig, zp, soft;
    private readonly int[] labels;
    private double _pairs;
    private bool _released;

    public SramLossKernel(int batch, int width, int slices, int expertSize, int classes, FusedSramLossSettings settings)
    {
        (B, d, m, h, C, _s) = (batch, width, slices, expertSize, classes, settings);
        (oR, oP) = (m, m + h * m);
        int lanes = Vector<float>.Count;
        L = (oP + C * m + lanes - 1) / lanes * lanes;
        z = Rent(B * d); mask = Rent(B * m); w = Rent(d * L); bias = Rent(L); wg = Rent(C * h); wp = Rent(C * h);
        y = Rent(B * L); pi = Rent(B * C * m); share = Rent(B * C * m); a = Rent(B * m); sig = Rent(B * m);
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
        _released = true;
        foreach (var array in _rented) ArrayPool<float>.Shared.Return(array);
        _rented.Clear();
        ArrayPool<int>.Shared.Return(labels);
    }

    private static Span<float> Row(float[] array, int index, int length) => array.AsSpan(index * length, length);

    /// <summary>The forward pass: total and the three unweighted terms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public (float Total, float Prediction, float SliceHead, float Indicator) Forward(ReadOnlySpan<float> zIn, ReadOnlySpan<long> labelsIn,
        ReadOnlySpan<float> maskIn, ReadOnlySpan<float> wq, ReadOnlySpan<float> bq, ReadOnlySpan<float> we, ReadOnlySpan<float> be,
        ReadOnlySpan<float> wgIn, ReadOnlySpan<float> bg, ReadOnlySpan<float> wpIn, ReadOnlySpan<float> bp, ReadOnlySpan<float> scores)
    {
        zIn.CopyTo(z); maskIn.CopyTo(mask); wgIn.CopyTo(wg); wpIn.CopyTo(wp);
        for (int b = 0; b < B; b++)
        {
            long label = labelsIn[b];
            if ((ulong)label >= (ulong)C) throw new ArgumentException($"Label {label} at row {b} is outside the {C} classes.", "labels");
            labels[b] = (int)label;
        }
        int hm = h * m;
        Array.Clear(w, 0, d * L);
        Array.Clear(bias, 0, L);
        for (int i = 0; i < m; i++)
        {
            bias[i] = bq[i];
            for (int j = 0; j < d; j++) w[j * L + i] = wq[i * d + j];
            for (int t = 0; t < h; t++) bias[oR + t * m + i] = be[i * h + t];
            for (int j = 0; j < d; j++)
            {
                var weRow = we.Slice((i * d + j) * h, h);
                for (int t = 0; t < h; t++) w[j * L + oR + t * m + i] = weRow[t];
            }
        }
        // The shared head composed into the experts: P block row j, class c = Σ_t Wg[c, t] · R block row j, feature t.
        for (int c = 0; c < C; c++)
        {
            var bcRow = bias.AsSpan(oP + c * m, m);
            bcRow.Fill(bg[c]);
            for (int t = 0; t < h; t++)
            {
                float g = wg[c * h + t];
                Axpy(g, bias.AsSpan(oR + t * m, m), bcRow);
                for (int j = 0; j < d; j++) Axpy(g, w.AsSpan(j * L + oR + t * m, m), w.AsSpan(j * L + oP + c * m, m));
            }
        }
        GemmForward(z, B, d, w, bias, L, y);

        float[] mx = new float[m], sum = new float[m], logSum = new float[m], s = new float[m], shift = new float[m];
        float[] inverse = new float[m], ties = new float[m], headLoss = new float[m];
        double predictionSum = 0, headSum = 0, indicatorSum = 0, pairs = 0;
        for (int b = 0; b < B; b++)
        {
            var mb = Row(mask, b, m);
            int label = labels[b];
            var yb = Row(y, b, L);
            var rowQ = yb[..m];
            var rb = yb.Slice(oR, hm);
            var rowP = yb.Slice(oP, C * m);
            // Per slice: softmax over the classes, log max softmax (the log-confidence), the slice head's cross-entropy.
            rowP[..m].CopyTo(mx);
            for (int c = 1; c < C; c++) MaxInto(rowP.Slice(c * m, m), mx);
            var pib = Row(pi, b, C * m);
            Array.Clear(sum);
            for (int c = 0; c < C; c++)
            {
                ExpShifted(rowP.Slice(c * m, m), mx, pib.Slice(c * m, m));
                Add(pib.Slice(c * m, m), sum);
            }
            Log(sum, logSum);
            Reciprocal(sum, inverse);
            for (int c = 0; c < C; c++) MultiplyInto(inverse, pib.Slice(c * m, m));
            MaxShares(rowP, mx, C, ties, Row(share, b, C * m));
            AddSubtract(mx, logSum, rowP.Slice(label * m, m), headLoss);          // −log softmax(p_i)[y]
            headSum += Dot(mb, headLoss);
            pairs += Sum(mb);
            // Attention: softmax over [0, q_i + log max softmax(p_i) + b_i] / T (q detached: experts-only).
            s[0] = 0;
            if (m > 1) AddSubtract(rowQ[1..], scores, logSum.AsSpan(1), s.AsSpan(1));
            if (_s.Temperature != 1.0) for (int i = 0; i < m; i++) s[i] = (float)(s[i] / _s.Temperature);
            Array.Fill(shift, MaxValue(s));
            var ab = Row(a, b, m);
            ExpShifted(s, shift, ab);
            Scale(1 / Sum(ab), ab, ab);
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
            float lSum = 0, logitY = sb[label];
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
    /// The gradients of <paramref name="scale"/> · total with respect to z and the nine parameter tensors, as shapes
    /// and values (the leading elements of pooled arrays, valid until <see cref="Release"/>) in the order of
    /// <see cref="FusedSramLoss"/>'s inputs; the slice scores' is null when m = 1 (unused, as on the general path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public List<(long[] Shape, float[] Values)?> Backward(float scale)
    {
        if (_released)
            throw new InvalidOperationException("The trainer's fused SRAM loss was back-propagated twice; compute the loss again for another backward pass.");
        int hm = h * m, cm = C * m;
        float cp = (float)(scale * _s.PredictionWeight / B);
        float ch = (float)(scale * _s.SliceHeadWeight / Math.Max(1.0, _pairs));
        float ci = (float)(scale * _s.IndicatorWeight / _s.IndicatorDivisor);
        float inverseT = (float)(1 / _s.Temperature);
        float[] dW = Rent(d * L), dBias = Rent(L), dY = Rent(B * L), dZ = Rent(B * d);
        float[] dWp = Rent(C * h), dBp = Rent(C), dScores = Rent(Math.Max(m - 1, 1));
        foreach (var array in new[] { dW, dBias, dWp, dBp, dScores, dZ }) Array.Clear(array);
        float[] dzp = new float[h], da = new float[m], dS = new float[m];
        for (int b = 0; b < B; b++)
        {
            int label = labels[b];
            var mb = Row(mask, b, m);
            var ab = Row(a, b, m);
            var rb = Row(y, b, L).Slice(oR, hm);
            var pib = Row(pi, b, cm);
            var shb = Row(share, b, cm);
            var zpb = Row(zp, b, h);
            var sb = Row(soft, b, C);
            var dyb = Row(dY, b, L);
            var dQ = dyb[..m];
            var dR = dyb.Slice(oR, hm);
            var dP = dyb.Slice(oP, cm);
            dyb[(oP + cm)..].Clear();
            // Prediction head.
            Array.Clear(dzp);
            for (int c = 0; c < C; c++)
            {
                float g = cp * (sb[c] - (c == label ? 1f : 0f));
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
            if (m > 1) Add(dS.AsSpan(1), dScores.AsSpan(0, m - 1));
            // P: the log-confidence (max minus log-sum-exp) and the slice head's cross-entropy over member pairs.
            for (int c = 0; c < C; c++)
            {
                float target = c == label ? 1f : 0f;
                var dPc = dP.Slice(c * m, m);
                var pic = pib.Slice(c * m, m);
                var shc = shb.Slice(c * m, m);
                for (int i = 0; i < m; i++) dPc[i] = dS[i] * (shc[i] - pic[i]) + ch * mb[i] * (pic[i] - target);
            }
            // Q: the indicator loss only (the attention reads it detached).
            var sigb = Row(sig, b, m);
            for (int i = 0; i < m; i++) dQ[i] = ci * (sigb[i] - mb[i]);
        }
        // Parameters and z: the backward of the GEMM.
        GemmBackward(z, B, d, w, L, dY, dW, dBias, dZ);
        // The composed head back to the experts and the shared head.
        var dWg = Rent(C * h);
        var dBg = Rent(C);
        for (int c = 0; c < C; c++)
        {
            var dbcRow = dBias.AsSpan(oP + c * m, m);
            dBg[c] = Sum(dbcRow);
            for (int t = 0; t < h; t++)
            {
                float g = wg[c * h + t];
                float acc = Dot(dbcRow, bias.AsSpan(oR + t * m, m));
                Axpy(g, dbcRow, dBias.AsSpan(oR + t * m, m));
                for (int j = 0; j < d; j++)
                {
                    var dwcRow = dW.AsSpan(j * L + oP + c * m, m);
                    acc += Dot(dwcRow, w.AsSpan(j * L + oR + t * m, m));
                    Axpy(g, dwcRow, dW.AsSpan(j * L + oR + t * m, m));
                }
                dWg[c * h + t] = acc;
            }
        }
        // Back to the parameters' own layouts.
        var gWq = Rent(m * d);
        var gWe = Rent(m * d * h);
        var gBe = Rent(m * h);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < d; j++)
            {
                gWq[i * d + j] = dW[j * L + i];
                var row = gWe.AsSpan((i * d + j) * h, h);
                for (int t = 0; t < h; t++) row[t] = dW[j * L + oR + t * m + i];
            }
            for (int t = 0; t < h; t++) gBe[i * h + t] = dBias[oR + t * m + i];
        }
        return new List<(long[], float[])?>
        {
            (new long[] { B, d }, dZ), (new long[] { m, d }, gWq), (new long[] { m }, dBias), (new long[] { m, d, h }, gWe),
            (new long[] { m, h }, gBe), (new long[] { C, h }, dWg), (new long[] { C }, dBg), (new long[] { C, h }, dWp),
            (new long[] { C }, dBp), m > 1 ? (new long[] { m - 1 }, dScores) : null,
        };
    }

}
