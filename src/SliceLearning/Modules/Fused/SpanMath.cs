using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SliceLearning.Modules.Fused;

/// <summary>The vectorised span primitives of the fused SRAM loss (Vector&lt;float&gt; with a scalar tail).</summary>
internal static class SpanMath
{
    private static readonly int W = Vector<float>.Count;

    /// <summary>y += a·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var va = new Vector<float>(a);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] = Vector.FusedMultiplyAdd(vx[k], va, vy[k]);
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(x[i], a, y[i]);
    }

    /// <summary>Σ x_i·y_i (accumulated in float32 lanes, as libtorch's dot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int i = 0;
        float sum = 0;
        if (x.Length >= W)
        {
            var acc = Vector<float>.Zero;
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) acc = Vector.FusedMultiplyAdd(vx[k], vy[k], acc);
            sum = Vector.Sum(acc);
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) sum = MathF.FusedMultiplyAdd(x[i], y[i], sum);
        return sum;
    }

    // Column tiles of the small GEMMs below: a tile of every row of W (or dY) stays in the L1 cache while the
    // loops pass over it; inside a tile each output vector accumulates over the d inputs in a register.
    private const int Tile = 64;

    /// <summary>Y[b, :] = bias + Σ_j X[b, j] W[j, :] for X [rows, d], W [d, L], bias [L], Y [rows, L].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GemmForward(ReadOnlySpan<float> x, int rows, int d, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int length, Span<float> y)
    {
        if (x.Length < rows * d || w.Length < d * length || bias.Length < length || y.Length < rows * length)
            throw new ArgumentException("GEMM operand too short.");
        // Unchecked loads inside the bounds verified above.
        ref float wr = ref MemoryMarshal.GetReference(w), br = ref MemoryMarshal.GetReference(bias), yr = ref MemoryMarshal.GetReference(y);
        ref float xr = ref MemoryMarshal.GetReference(x);
        for (int l0 = 0; l0 < length; l0 += Tile)
        {
            int end = Math.Min(l0 + Tile, length), vectorEnd = l0 + (end - l0) / W * W;
            for (int b = 0; b < rows; b++)
            {
                ref float xb = ref Unsafe.Add(ref xr, b * d);
                ref float yb = ref Unsafe.Add(ref yr, b * length);
                for (int k = l0; k < vectorEnd; k += W)
                {
                    var acc = Vector.LoadUnsafe(ref br, (nuint)k);
                    for (int j = 0; j < d; j++)
                        acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref wr, (nuint)(j * length + k)), new Vector<float>(Unsafe.Add(ref xb, j)), acc);
                    acc.StoreUnsafe(ref yb, (nuint)k);
                }
                for (int k = vectorEnd; k < end; k++)
                {
                    float acc = Unsafe.Add(ref br, k);
                    for (int j = 0; j < d; j++) acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref wr, j * length + k), Unsafe.Add(ref xb, j), acc);
                    Unsafe.Add(ref yb, k) = acc;
                }
            }
        }
    }

    /// <summary>
    /// The backward of <see cref="GemmForward"/> for dY [rows, L]: dW[j, :] += Σ_b X[b, j] dY[b, :], dBias += Σ_b dY[b, :],
    /// dX[b, j] += Σ_l dY[b, l] W[j, l].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GemmBackward(ReadOnlySpan<float> x, int rows, int d, ReadOnlySpan<float> w, int length, ReadOnlySpan<float> dy,
        Span<float> dw, Span<float> dBias, Span<float> dx)
    {
        if (x.Length < rows * d || w.Length < d * length || dy.Length < rows * length || dw.Length < d * length || dBias.Length < length || dx.Length < rows * d)
            throw new ArgumentException("GEMM operand too short.");
        ref float xr = ref MemoryMarshal.GetReference(x), wr = ref MemoryMarshal.GetReference(w), dyr = ref MemoryMarshal.GetReference(dy);
        ref float dwr = ref MemoryMarshal.GetReference(dw), dbr = ref MemoryMarshal.GetReference(dBias), dxr = ref MemoryMarshal.GetReference(dx);
        for (int l0 = 0; l0 < length; l0 += Tile)
        {
            int end = Math.Min(l0 + Tile, length), vectorEnd = l0 + (end - l0) / W * W;
            // dW and dBias: each output vector sums over the rows.
            for (int j = 0; j < d; j++)
            {
                ref float target = ref Unsafe.Add(ref dwr, j * length);
                for (int k = l0; k < vectorEnd; k += W)
                {
                    var acc = Vector.LoadUnsafe(ref target, (nuint)k);
                    for (int b = 0; b < rows; b++)
                        acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref dyr, (nuint)(b * length + k)), new Vector<float>(Unsafe.Add(ref xr, b * d + j)), acc);
                    acc.StoreUnsafe(ref target, (nuint)k);
                }
                for (int k = vectorEnd; k < end; k++)
                {
                    float acc = Unsafe.Add(ref target, k);
                    for (int b = 0; b < rows; b++) acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref dyr, b * length + k), Unsafe.Add(ref xr, b * d + j), acc);
                    Unsafe.Add(ref target, k) = acc;
                }
            }
            for (int k = l0; k < end; k++)
            {
                float acc = 0;
                for (int b = 0; b < rows; b++) acc += Unsafe.Add(ref dyr, b * length + k);
                Unsafe.Add(ref dbr, k) += acc;
            }
            // dX: partial dot products over the tile.
            for (int b = 0; b < rows; b++)
            {
                ref float dyb = ref Unsafe.Add(ref dyr, b * length);
                for (int j = 0; j < d; j++)
                {
                    ref float wj = ref Unsafe.Add(ref wr, j * length);
                    var acc = Vector<float>.Zero;
                    for (int k = l0; k < vectorEnd; k += W)
                        acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref dyb, (nuint)k), Vector.LoadUnsafe(ref wj, (nuint)k), acc);
                    float sum = Vector.Sum(acc);
                    for (int k = vectorEnd; k < end; k++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref dyb, k), Unsafe.Add(ref wj, k), sum);
                    Unsafe.Add(ref dxr, b * d + j) += sum;
                }
            }
        }
    }

    /// <summary>y += x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] += vx[k];
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] += x[i];
    }

    /// <summary>y = a·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var va = new Vector<float>(a);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] = vx[k] * va;
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] = x[i] * a;
    }

    /// <summary>y = exp(x − shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExpShifted(ReadOnlySpan<float> x, ReadOnlySpan<float> shift, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vs = MemoryMarshal.Cast<float, Vector<float>>(shift[..x.Length]);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] = Vector.Exp(vx[k] - vs[k]);
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] = MathF.Exp(x[i] - shift[i]);
    }

    /// <summary>y = log(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Log(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] = Vector.Log(vx[k]);
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] = MathF.Log(x[i]);
    }

    /// <summary>
    /// For logits q and 0/1 targets y: returns Σ BCE-with-logits(q, y) = Σ max(q, 0) − q·y + log(1 + exp(−|q|))
    /// and writes sigmoid(q) to <paramref name="sigmoid"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double BinaryCrossEntropy(ReadOnlySpan<float> q, ReadOnlySpan<float> y, Span<float> sigmoid)
    {
        double total = 0;
        int i = 0;
        if (q.Length >= W)
        {
            var vq = MemoryMarshal.Cast<float, Vector<float>>(q);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..q.Length]);
            var vs = MemoryMarshal.Cast<float, Vector<float>>(sigmoid[..q.Length]);
            var acc = Vector<float>.Zero;
            for (int k = 0; k < vq.Length; k++)
            {
                var e = Vector.Exp(-Vector.Abs(vq[k]));
                var onePlus = Vector<float>.One + e;
                acc += Vector.Max(vq[k], Vector<float>.Zero) - vq[k] * vy[k] + Vector.Log(onePlus);
                vs[k] = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(vq[k], Vector<float>.Zero), Vector<float>.One, e) / onePlus;
            }
            total = Vector.Sum(acc);
            i = vq.Length * W;
        }
        for (; i < q.Length; i++)
        {
            float e = MathF.Exp(-MathF.Abs(q[i])), onePlus = 1 + e;
            total += MathF.Max(q[i], 0) - q[i] * y[i] + MathF.Log(onePlus);
            sigmoid[i] = (q[i] >= 0 ? 1 : e) / onePlus;
        }
        return total;
    }
}
