using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Runtime;

// Why this exists: TorchSharp 0.107's Scalar wraps a native pointer and has a finalizer. C#'s
// implicit conversions (t * 2.0, t.fill_(0)) and TorchSharp's own overloads with a hidden
// alpha (a + b, a - b, t.add(b)) create temporary Scalars; once the pointer has been read for
// the native call the temporary is unreachable, so a garbage collection during that call can
// finalize it and free the value libtorch is reading ("toFloat" / "Unknown scalar type",
// intermittently). Per-step library code therefore uses only these cached Scalars (static
// fields, never finalized) or the helpers below, which keep a Scalar alive (using) until the
// native call has returned. Runtime/ScalarSafetyTests keeps this true for every per-step file.

/// <summary>Cached Scalars and scalar-safe tensor arithmetic for per-step code.</summary>
internal static class ScalarMath
{
    /// <summary>0.</summary>
    public static readonly Scalar Zero = 0.0.ToScalar();

    /// <summary>1 (the alpha of a plain add or subtract).</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>-1.</summary>
    public static readonly Scalar MinusOne = (-1.0).ToScalar();

    /// <summary>0.5.</summary>
    public static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>2.</summary>
    public static readonly Scalar Two = 2.0.ToScalar();

    /// <summary>a + b (with an explicit, cached alpha).</summary>
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a + value.</summary>
    public static Tensor Add(Tensor a, double value) => With(value, s => a.add(s, One));

    /// <summary>a * value.</summary>
    public static Tensor Mul(Tensor a, double value) => With(value, a.mul);

    /// <summary>a / value.</summary>
    public static Tensor Div(Tensor a, double value) => With(value, s => a.div(s));

    /// <summary>a.clamp_min(value).</summary>
    public static Tensor ClampMin(Tensor a, double value) => With(value, a.clamp_min);

    /// <summary>a.clamp(min, max).</summary>
    public static Tensor Clamp(Tensor a, double min, double max)
    {
        using Scalar lo = min.ToScalar(), hi = max.ToScalar();
        return a.clamp(lo, hi);
    }

    /// <summary>a.eq(value) (elementwise comparison with a number).</summary>
    public static Tensor Eq(Tensor a, double value) => With(value, a.eq);

    /// <summary>a.eq(value) for an integer value (exact for any long).</summary>
    public static Tensor Eq(Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.eq(s);
    }

    /// <summary>a.fill_(value) in place.</summary>
    public static Tensor Fill(Tensor a, double value) => With(value, a.fill_);

    /// <summary>A tensor of the given shape filled with value.</summary>
    public static Tensor Full(long[] shape, double value, ScalarType? dtype = null, Device? device = null)
    {
        using var s = value.ToScalar();
        return full(shape, s, dtype, device);
    }

    /// <summary>Runs <paramref name="op"/> with <paramref name="value"/> as a Scalar kept alive until the native call has returned.</summary>
    private static Tensor With(double value, Func<Scalar, Tensor> op)
    {
        using var s = value.ToScalar();
        return op(s);
    }
}
