using TorchSharp;

namespace SliceLearning.Runtime;

/// <summary>Which device SliceLearning places models and tensors on.</summary>
public enum DevicePreference
{
    /// <summary>The CPU. The default: it works with any native backend.</summary>
    Cpu = 0,

    /// <summary>CUDA; fails with a clear message when CUDA is not available.</summary>
    Cuda,

    /// <summary>CUDA when <c>torch.cuda.is_available()</c>, otherwise the CPU.</summary>
    BestAvailable,
}

/// <summary>Resolves a <see cref="DevicePreference"/> to a TorchSharp device and sets CPU threading.</summary>
public static class ComputeDevice
{
    /// <summary>Returns the TorchSharp device for <paramref name="preference"/>.</summary>
    /// <exception cref="InvalidOperationException">CUDA was requested but is not available.</exception>
    public static torch.Device Resolve(DevicePreference preference = DevicePreference.Cpu) => preference switch
    {
        DevicePreference.Cpu => torch.CPU,
        DevicePreference.Cuda when torch.cuda.is_available() => torch.CUDA,
        DevicePreference.Cuda => throw new InvalidOperationException(
            "CUDA was requested but torch.cuda.is_available() is false. Reference the TorchSharp-cuda-linux package " +
            "(instead of a CPU libtorch package) in the application and run on a machine with an NVIDIA GPU, or use DevicePreference.Cpu."),
        DevicePreference.BestAvailable => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        _ => throw new ArgumentOutOfRangeException(nameof(preference), preference, "Unknown device preference."),
    };

    /// <summary>
    /// Sets libtorch's intra-op CPU thread count. On small machines, a thread count above the number
    /// of idle cores makes OpenMP spin-wait and run many times slower; one thread also makes CPU runs
    /// bit-reproducible.
    /// </summary>
    /// <param name="threads">At least 1.</param>
    public static void SetCpuThreads(int threads)
    {
        if (threads < 1)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "The CPU thread count must be at least 1.");
        torch.set_num_threads(threads);
    }
}
