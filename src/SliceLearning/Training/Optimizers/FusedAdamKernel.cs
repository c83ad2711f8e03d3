using System.Numerics;
using SliceLearning.Runtime;
using static TorchSharp.torch;

namespace SliceLearning.Training.Optimizers;

/// <summary>
/// The Adam/AdamW update of one parameter tensor as one C# pass over its values, for contiguous
/// float32 CPU tensors: the ten or so tensor operations of <see cref="AdamUpdate"/> each cost a few
/// microseconds of fixed overhead, which dominates on the small parameter tensors of SRAM's heads.
/// Same arithmetic as the tensor path, operation by operation in float32, so results agree within
/// float rounding (libtorch's vectorised kernels may fuse a multiply-add differently).
/// </summary>
internal static class FusedAdamKernel
{
    /// <summary>Whether the parameter, its gradient and both moment buffers can take the fused update.</summary>
    public static bool Fits(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq)
    {
        if (!FusedKernels.Enabled || !CpuSpans.Fits(param) || !CpuSpans.Fits(grad) || !CpuSpans.Fits(expAvg) || !CpuSpans.Fits(expAvgSq)) return false;
        long n = param.numel();
        return grad.numel() == n && expAvg.numel() == n && expAvgSq.numel() == n;
    }

    /// <summary>
    /// One Adam step (<paramref name="step"/> already counts it) on tensors for which <see cref="Fits"/> holds.
    /// Coupled weight decay adds decay·p to the gradient; decoupled (AdamW) first scales p by 1 − lr·decay.
    /// </summary>
    public static void Update(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, long step,
        double lr, double beta1, double beta2, double eps, double weightDecay, bool decoupled, bool maximize)
    {
        Span<float> p = CpuSpans.Of(param), m = CpuSpans.Of(expAvg), v = CpuSpans.Of(expAvgSq);
        ReadOnlySpan<float> g = CpuSpans.Of(grad);
        // The tensor path passes each constant to libtorch as a Scalar, which float32 kernels read as float.
        float b1 = (float)beta1, b2 = (float)beta2, oneMinusB1 = (float)(1 - beta1), oneMinusB2 = (float)(1 - beta2);
        float sign = maximize ? -1f : 1f, decay = (float)weightDecay, keep = (float)(1 - lr * weightDecay), epsilon = (float)eps;
        float sqrtBias2 = (float)Math.Sqrt(1 - Math.Pow(beta2, step)), stepSize = (float)(-lr / (1 - Math.Pow(beta1, step)));
        bool coupled = weightDecay != 0 && !decoupled, shrink = weightDecay != 0 && decoupled;
        int i = 0;
        if (Vector.IsHardwareAccelerated && p.Length >= Vector<float>.Count)
        {
            var vb1 = new Vector<float>(b1); var vb2 = new Vector<float>(b2);
            var v1 = new Vector<float>(oneMinusB1); var v2 = new Vector<float>(oneMinusB2);
            var vSign = new Vector<float>(sign); var vDecay = new Vector<float>(decay); var vKeep = new Vector<float>(keep);
            var vEps = new Vector<float>(epsilon); var vBias = new Vector<float>(sqrtBias2); var vStep = new Vector<float>(stepSize);
            for (; i <= p.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var gi = new Vector<float>(g[i..]);
                if (maximize) gi *= vSign;
                var pi = new Vector<float>(p[i..]);
                if (shrink) pi *= vKeep;
                if (coupled) gi = Vector.FusedMultiplyAdd(pi, vDecay, gi);
                var mi = Vector.FusedMultiplyAdd(gi, v1, new Vector<float>(m[i..]) * vb1);
                var vi = new Vector<float>(v[i..]) * vb2 + v2 * gi * gi;
                var denominator = Vector.SquareRoot(vi) / vBias + vEps;
                pi += vStep * (mi / denominator);
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                pi.CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            float gi = g[i] * sign, pi = p[i];
            if (shrink) pi *= keep;
            if (coupled) gi = MathF.FusedMultiplyAdd(pi, decay, gi);
            float mi = MathF.FusedMultiplyAdd(gi, oneMinusB1, m[i] * b1);
            float vi = v[i] * b2 + oneMinusB2 * gi * gi;
            float denominator = MathF.Sqrt(vi) / sqrtBias2 + epsilon;
            pi += stepSize * (mi / denominator);
            m[i] = mi;
            v[i] = vi;
            p[i] = pi;
        }
    }

    /// <summary>Zeroes a gradient in place: one pass over a fitting tensor, else <c>zero_()</c>.</summary>
    public static void ZeroGradient(Tensor grad)
    {
        if (FusedKernels.Enabled && CpuSpans.Fits(grad)) CpuSpans.Of(grad).Clear();
        else grad.zero_();
    }
}
