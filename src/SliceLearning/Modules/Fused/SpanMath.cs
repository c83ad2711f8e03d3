using System.Buffers;
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
    // loops pass over it. Register blocks of four rows (or four inputs) load each W (or dY) vector once for four
    // multiply-adds.
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
            int b = 0;
            for (; b + 4 <= rows; b += 4)
            {
                ref float x0 = ref Unsafe.Add(ref xr, b * d);
                ref float x1 = ref Unsafe.Add(ref x0, d);
                ref float x2 = ref Unsafe.Add(ref x1, d);
                ref float x3 = ref Unsafe.Add(ref x2, d);
                for (int k = l0; k < vectorEnd; k += W)
                {
                    var a0 = Vector.LoadUnsafe(ref br, (nuint)k);
                    Vector<float> a1 = a0, a2 = a0, a3 = a0;
                    for (int j = 0; j < d; j++)
                    {
                        var wv = Vector.LoadUnsafe(ref wr, (nuint)(j * length + k));
                        a0 = Vector.FusedMultiplyAdd(wv, new Vector<float>(Unsafe.Add(ref x0, j)), a0);
                        a1 = Vector.FusedMultiplyAdd(wv, new Vector<float>(Unsafe.Add(ref x1, j)), a1);
                        a2 = Vector.FusedMultiplyAdd(wv, new Vector<float>(Unsafe.Add(ref x2, j)), a2);
                        a3 = Vector.FusedMultiplyAdd(wv, new Vector<float>(Unsafe.Add(ref x3, j)), a3);
                    }
                    a0.StoreUnsafe(ref yr, (nuint)(b * length + k));
                    a1.StoreUnsafe(ref yr, (nuint)((b + 1) * length + k));
                    a2.StoreUnsafe(ref yr, (nuint)((b + 2) * length + k));
                    a3.StoreUnsafe(ref yr, (nuint)((b + 3) * length + k));
                }
            }
            for (; b < rows; b++)
            {
                ref float xb = ref Unsafe.Add(ref xr, b * d);
                for (int k = l0; k < vectorEnd; k += W)
                {
                    var acc = Vector.LoadUnsafe(ref br, (nuint)k);
                    for (int j = 0; j < d; j++)
                        acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref wr, (nuint)(j * length + k)), new Vector<float>(Unsafe.Add(ref xb, j)), acc);
                    acc.StoreUnsafe(ref yr, (nuint)(b * length + k));
                }
            }
            for (b = 0; b < rows; b++)
            {
                ref float xb = ref Unsafe.Add(ref xr, b * d);
                for (int k = vectorEnd; k < end; k++)
                {
                    float acc = Unsafe.Add(ref br, k);
                    for (int j = 0; j < d; j++) acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref wr, j * length + k), Unsafe.Add(ref xb, j), acc);
                    Unsafe.Add(ref yr, b * length + k) = acc;
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
        int vectorLength = length / W * W;
        var rented = ArrayPool<Vector<float>>.Shared.Rent(rows * d);
        var partial = rented.AsSpan(0, rows * d);
        partial.Clear();
        ref Vector<float> pr = ref MemoryMarshal.GetReference(partial);
        // dW and dBias, tile by tile: each output vector sums over the rows, four inputs j at a time.
        for (int l0 = 0; l0 < length; l0 += Tile)
        {
            int end = Math.Min(l0 + Tile, length), vectorEnd = Math.Min(end, vectorLength);
            int j = 0;
            for (; j + 4 <= d; j += 4)
            {
                for (int k = l0; k < vectorEnd; k += W)
                {
                    var a0 = Vector.LoadUnsafe(ref dwr, (nuint)(j * length + k));
                    var a1 = Vector.LoadUnsafe(ref dwr, (nuint)((j + 1) * length + k));
                    var a2 = Vector.LoadUnsafe(ref dwr, (nuint)((j + 2) * length + k));
                    var a3 = Vector.LoadUnsafe(ref dwr, (nuint)((j + 3) * length + k));
                    for (int b = 0; b < rows; b++)
                    {
                        var g = Vector.LoadUnsafe(ref dyr, (nuint)(b * length + k));
                        ref float xb = ref Unsafe.Add(ref xr, b * d + j);
                        a0 = Vector.FusedMultiplyAdd(g, new Vector<float>(xb), a0);
                        a1 = Vector.FusedMultiplyAdd(g, new Vector<float>(Unsafe.Add(ref xb, 1)), a1);
                        a2 = Vector.FusedMultiplyAdd(g, new Vector<float>(Unsafe.Add(ref xb, 2)), a2);
                        a3 = Vector.FusedMultiplyAdd(g, new Vector<float>(Unsafe.Add(ref xb, 3)), a3);
                    }
                    a0.StoreUnsafe(ref dwr, (nuint)(j * length + k));
                    a1.StoreUnsafe(ref dwr, (nuint)((j + 1) * length + k));
                    a2.StoreUnsafe(ref dwr, (nuint)((j + 2) * length + k));
                    a3.StoreUnsafe(ref dwr, (nuint)((j + 3) * length + k));
                }
            }
            for (; j < d; j++)
            {
                for (int k = l0; k < vectorEnd; k += W)
                {
                    var acc = Vector.LoadUnsafe(ref dwr, (nuint)(j * length + k));
                    for (int b = 0; b < rows; b++)
                        acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref dyr, (nuint)(b * length + k)), new Vector<float>(Unsafe.Add(ref xr, b * d + j)), acc);
                    acc.StoreUnsafe(ref dwr, (nuint)(j * length + k));
                }
            }
            for (j = 0; j < d; j++)
            {
                for (int k = vectorEnd; k < end; k++)
                {
                    float acc = Unsafe.Add(ref dwr, j * length + k);
                    for (int b = 0; b < rows; b++) acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref dyr, b * length + k), Unsafe.Add(ref xr, b * d + j), acc);
                    Unsafe.Add(ref dwr, j * length + k) = acc;
                }
            }
            for (int k = l0; k < vectorEnd; k += W)
            {
                var acc = Vector.LoadUnsafe(ref dbr, (nuint)k);
                for (int b = 0; b < rows; b++) acc += Vector.LoadUnsafe(ref dyr, (nuint)(b * length + k));
                acc.StoreUnsafe(ref dbr, (nuint)k);
            }
            for (int k = vectorEnd; k < end; k++)
            {
                float acc = 0;
                for (int b = 0; b < rows; b++) acc += Unsafe.Add(ref dyr, b * length + k);
                Unsafe.Add(ref dbr, k) += acc;
            }
            // dX: per-lane partial sums of the dot products over this tile (while it is in the cache).
            for (int b = 0; b < rows; b++)
            {
                ref float dyb = ref Unsafe.Add(ref dyr, b * length);
                int jj = 0;
                for (; jj + 4 <= d; jj += 4)
                {
                    ref float w0 = ref Unsafe.Add(ref wr, jj * length);
                    ref float w1 = ref Unsafe.Add(ref w0, length);
                    ref float w2 = ref Unsafe.Add(ref w1, length);
                    ref float w3 = ref Unsafe.Add(ref w2, length);
                    ref Vector<float> p0 = ref Unsafe.Add(ref pr, b * d + jj);
                    Vector<float> a0 = p0, a1 = Unsafe.Add(ref p0, 1), a2 = Unsafe.Add(ref p0, 2), a3 = Unsafe.Add(ref p0, 3);
                    for (int k = l0; k < vectorEnd; k += W)
                    {
                        var g = Vector.LoadUnsafe(ref dyb, (nuint)k);
                        a0 = Vector.FusedMultiplyAdd(g, Vector.LoadUnsafe(ref w0, (nuint)k), a0);
                        a1 = Vector.FusedMultiplyAdd(g, Vector.LoadUnsafe(ref w1, (nuint)k), a1);
                        a2 = Vector.FusedMultiplyAdd(g, Vector.LoadUnsafe(ref w2, (nuint)k), a2);
                        a3 = Vector.FusedMultiplyAdd(g, Vector.LoadUnsafe(ref w3, (nuint)k), a3);
                    }
                    p0 = a0; Unsafe.Add(ref p0, 1) = a1; Unsafe.Add(ref p0, 2) = a2; Unsafe.Add(ref p0, 3) = a3;
                }
                for (; jj < d; jj++)
                {
                    ref float wj = ref Unsafe.Add(ref wr, jj * length);
                    ref Vector<float> acc = ref Unsafe.Add(ref pr, b * d + jj);
                    for (int k = l0; k < vectorEnd; k += W) acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref dyb, (nuint)k), Vector.LoadUnsafe(ref wj, (nuint)k), acc);
                }
            }
        }
        // dX: one horizontal sum per (row, input), plus the columns past the last full vector.
        for (int b = 0; b < rows; b++)
        {
            ref float dyb = ref Unsafe.Add(ref dyr, b * length);
            for (int j = 0; j < d; j++)
            {
                ref float wj = ref Unsafe.Add(ref wr, j * length);
                float sum = Vector.Sum(Unsafe.Add(ref pr, b * d + j));
                for (int k = vectorLength; k < length; k++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref dyb, k), Unsafe.Add(ref wj, k), sum);
                Unsafe.Add(ref dxr, b * d + j) += sum;
            }
        }
        ArrayPool<Vector<float>>.Shared.Return(rented);
    }

    /// <summary>y = max(y, x) elementwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxInto(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] = Vector.Max(vy[k], vx[k]);
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] = y[i] >= x[i] ? y[i] : x[i];
    }

    /// <summary>y *= x elementwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyInto(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] *= vx[k];
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] *= x[i];
    }

    /// <summary>y = 1 / x elementwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Reciprocal(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..x.Length]);
            for (int k = 0; k < vx.Length; k++) vy[k] = Vector<float>.One / vx[k];
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) y[i] = 1 / x[i];
    }

    /// <summary>y = a + b − c elementwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSubtract(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c, Span<float> y)
    {
        int i = 0;
        if (a.Length >= W)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            var vc = MemoryMarshal.Cast<float, Vector<float>>(c[..a.Length]);
            var vy = MemoryMarshal.Cast<float, Vector<float>>(y[..a.Length]);
            for (int k = 0; k < va.Length; k++) vy[k] = va[k] + vb[k] - vc[k];
            i = va.Length * W;
        }
        for (; i < a.Length; i++) y[i] = a[i] + b[i] - c[i];
    }

    /// <summary>The largest value of a non-empty span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float MaxValue(ReadOnlySpan<float> x)
    {
        float best = x[0];
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var acc = vx[0];
            for (int k = 1; k < vx.Length; k++) acc = Vector.Max(acc, vx[k]);
            for (int lane = 0; lane < W; lane++) best = best >= acc[lane] ? best : acc[lane];
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) best = best >= x[i] ? best : x[i];
        return best;
    }

    /// <summary>Σ x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> x)
    {
        float sum = 0;
        int i = 0;
        if (x.Length >= W)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var acc = Vector<float>.Zero;
            for (int k = 0; k < vx.Length; k++) acc += vx[k];
            sum = Vector.Sum(acc);
            i = vx.Length * W;
        }
        for (; i < x.Length; i++) sum += x[i];
        return sum;
    }

    /// <summary>
    /// For logits P [C, m] (class-major) and their per-slice maximum: share[c, i] = 1/(number of classes at the maximum)
    /// where P[c, i] is a maximum, else 0 (amax's gradient, shared between equal maxima). <paramref name="count"/> is scratch [m].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxShares(ReadOnlySpan<float> p, ReadOnlySpan<float> max, int classes, Span<float> count, Span<float> share)
    {
        int m = max.Length;
        count.Clear();
        for (int c = 0; c < classes; c++)
        {
            var row = p.Slice(c * m, m);
            for (int i = 0; i < m; i++) count[i] += row[i] == max[i] ? 1f : 0f;
        }
        for (int c = 0; c < classes; c++)
        {
            var row = p.Slice(c * m, m);
            var target = share.Slice(c * m, m);
            for (int i = 0; i < m; i++) target[i] = row[i] == max[i] ? 1f / count[i] : 0f;
        }
    }

    // Vector.Exp/Log of .NET 10 cost about 70/40 ns per 8 floats here; these Cephes-style single-precision versions
    // (range reduction + polynomial, about 1 ulp on the arguments they see: exp of values ≤ 0 and log of values ≥ 1)
    // cost a few nanoseconds.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Exp(Vector<float> x)
    {
        x = Vector.Min(Vector.Max(x, new Vector<float>(-87.3f)), new Vector<float>(88.7f));
        var n = Vector.Floor(Vector.FusedMultiplyAdd(x, new Vector<float>(1.44269504088896341f), new Vector<float>(0.5f)));
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-0.693359375f), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(2.12194440e-4f), r);
        var p = new Vector<float>(1.9875691500E-4f);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.3981999507E-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(8.3334519073E-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(4.1665795894E-2f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.6666665459E-1f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(5.0000001201E-1f));
        var y = Vector.FusedMultiplyAdd(p, r * r, r) + Vector<float>.One;
        var scale = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23));
        return y * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Log(Vector<float> x)
    {
        var bits = Vector.AsVectorInt32(x);
        var e = Vector.ConvertToSingle(Vector.ShiftRightArithmetic(bits, 23) - new Vector<int>(126));
        var m = Vector.AsVectorSingle((bits & new Vector<int>(unchecked((int)0x807fffff))) | new Vector<int>(0x3f000000)); // [0.5, 1)
        var small = Vector.LessThan(m, new Vector<float>(0.707106781186547524f));
        e -= Vector.ConditionalSelect(small, Vector<float>.One, Vector<float>.Zero);
        m = Vector.ConditionalSelect(small, m + m, m) - Vector<float>.One;
        var z = m * m;
        var p = new Vector<float>(7.0376836292E-2f);
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(-1.1514610310E-1f));
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(1.1676998740E-1f));
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(-1.2420140846E-1f));
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(1.4249322787E-1f));
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(-1.6668057665E-1f));
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(2.0000714765E-1f));
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(-2.4999993993E-1f));
        p = Vector.FusedMultiplyAdd(p, m, new Vector<float>(3.3333331174E-1f));
        var y = p * m * z;
        y = Vector.FusedMultiplyAdd(e, new Vector<float>(-2.12194440e-4f), y);
        y = Vector.FusedMultiplyAdd(z, new Vector<float>(-0.5f), y);
        return Vector.FusedMultiplyAdd(e, new Vector<float>(0.693359375f), m + y);
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
            for (int k = 0; k < vx.Length; k++) vy[k] = Exp(vx[k] - vs[k]);
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
            for (int k = 0; k < vx.Length; k++) vy[k] = Log(vx[k]);
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
                var e = Exp(-Vector.Abs(vq[k]));
                var onePlus = Vector<float>.One + e;
                acc += Vector.Max(vq[k], Vector<float>.Zero) - vq[k] * vy[k] + Log(onePlus);
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
