using System.Reflection;
using System.Runtime.InteropServices;

namespace SliceLearning.Distributed;

/// <summary>
/// MPI.NET 1.4 binds to Microsoft MPI's <c>msmpi.dll</c> and uses MPICH-ABI handles. On Linux the
/// ABI-compatible library is MPICH's <c>libmpich.so.12</c>; this resolver points MPI.NET at it.
/// </summary>
internal static class MpiNativeLibrary
{
    internal const string InstallHint = "install MPICH (Debian/Ubuntu: apt-get install mpich libmpich-dev) and launch with mpirun.mpich -np N dotnet <app>.dll";
    private static readonly string[] Candidates = ["libmpich.so.12", "/usr/lib/x86_64-linux-gnu/libmpich.so.12", "libmpi.so.12"];
    private static int _registered;
    private static IntPtr _handle;

    internal static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(MPI.Communicator).Assembly, Resolve);
    }

    /// <summary>Loads MPICH now, so a missing library fails with a clear message instead of a DllNotFoundException deep in MPI.NET.</summary>
    internal static void EnsureLoaded()
    {
        if (_handle != IntPtr.Zero) return;
        foreach (var name in Candidates)
        {
            if (NativeLibrary.TryLoad(name, out _handle)) return;
        }
        throw new MpiUnavailableException($"MPICH's libmpich.so.12 was not found: {InstallHint}.");
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (!name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase)) return IntPtr.Zero;
        EnsureLoaded();
        return _handle;
    }
}
