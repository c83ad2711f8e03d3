namespace SliceLearning.Runtime;

/// <summary>
/// The switch for the fused CPU kernels (the trainer's Adam and zero-grad, SRAM's training loss): on unless the
/// environment variable <c>SLICELEARNING_FUSED_KERNELS</c> is <c>0</c> when the library loads, which runs every
/// step through libtorch operations only (for debugging; the results agree to float rounding).
/// </summary>
internal static class FusedKernels
{
    /// <summary>Whether the fused kernels may be used in this process.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("SLICELEARNING_FUSED_KERNELS") != "0" && CpuSpans.Available;
}
