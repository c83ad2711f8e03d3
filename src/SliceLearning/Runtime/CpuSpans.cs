using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Runtime;

/// <summary>
/// Direct span access to the memory of contiguous CPU float32 tensors, for the fused kernels (the
/// trainer's Adam, the fused SRAM loss): one C# pass over a tensor's values costs no TorchSharp
/// operation. <see cref="Available"/> is false when this TorchSharp build does not expose the native
/// data pointer; callers then take their tensor-operation path.
/// </summary>
internal static unsafe class CpuSpans
{
    // TorchSharp 0.107 has no public data pointer (TensorAccessor reads strides and the device on every
    // call); its own P/Invoke for it is internal, so it is bound once here.
    private static readonly Func<IntPtr, IntPtr>? DataPointer = Bind();

    /// <summary>Whether span access works with the loaded TorchSharp.</summary>
    public static bool Available => DataPointer != null;

    /// <summary>Whether <paramref name="tensor"/> is a contiguous float32 CPU tensor (so <see cref="Of"/> may read it).</summary>
    public static bool Fits(Tensor? tensor) =>
        Available && tensor is not null && !tensor.IsInvalid && tensor.dtype == ScalarType.Float32
        && tensor.device_type == DeviceType.CPU && tensor.is_contiguous();

    /// <summary>
    /// The values of a tensor for which <see cref="Fits"/> holds. The span is valid while the tensor's
    /// storage lives and is not resized; the caller keeps the tensor alive.
    /// </summary>
    public static Span<float> Of(Tensor tensor)
    {
        long n = tensor.numel();
        if (n == 0) return Span<float>.Empty;
        var pointer = DataPointer!(tensor.Handle);
        if (pointer == IntPtr.Zero) throw new InvalidOperationException("libtorch returned no data pointer for a CPU tensor.");
        return new Span<float>((void*)pointer, checked((int)n));
    }

    /// <summary>The values of a contiguous int64 CPU tensor (labels).</summary>
    public static ReadOnlySpan<long> OfInt64(Tensor tensor)
    {
        if (tensor.dtype != ScalarType.Int64 || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("Expected a contiguous int64 CPU tensor.", nameof(tensor));
        long n = tensor.numel();
        if (n == 0) return ReadOnlySpan<long>.Empty;
        return new ReadOnlySpan<long>((void*)DataPointer!(tensor.Handle), checked((int)n));
    }

    private static Func<IntPtr, IntPtr>? Bind()
    {
        var method = typeof(Tensor).Assembly.GetType("TorchSharp.PInvoke.NativeMethods")
            ?.GetMethod("THSTensor_data", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, new[] { typeof(IntPtr) });
        return method is not null && method.ReturnType == typeof(IntPtr) ? method.CreateDelegate<Func<IntPtr, IntPtr>>() : null;
    }
}
