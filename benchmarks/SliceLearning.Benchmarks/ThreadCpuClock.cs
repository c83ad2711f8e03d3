using System.Runtime.InteropServices;

namespace SliceLearning.Benchmarks;

/// <summary>
/// CPU time of the calling thread (<c>CLOCK_THREAD_CPUTIME_ID</c>). libtorch runs on the calling
/// thread with one CPU thread, so unlike wall time this does not count the time other processes
/// hold the shared cores.
/// </summary>
internal static class ThreadCpuClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>The thread's CPU time so far, in microseconds (NaN where the clock is missing).</summary>
    public static double Microseconds()
    {
        const int ClockThreadCpuTime = 3;
        if (ClockGetTime(ClockThreadCpuTime, out var t) != 0) return double.NaN;
        return t.Seconds * 1e6 + t.Nanoseconds / 1e3;
    }

    /// <summary>
    /// Thread CPU microseconds per call of <paramref name="action"/>: median of 5 blocks of about
    /// <paramref name="blockMicroseconds"/> each (at least one call per block).
    /// </summary>
    public static double PerCall(Action action, double blockMicroseconds = 200_000)
    {
        double start = Microseconds();
        action();
        double one = Math.Max(1, Microseconds() - start);
        int calls = (int)Math.Clamp(blockMicroseconds / one, 1, 2000);
        var blocks = new double[5];
        for (int b = 0; b < blocks.Length; b++)
        {
            double t0 = Microseconds();
            for (int i = 0; i < calls; i++) action();
            blocks[b] = (Microseconds() - t0) / calls;
        }
        Array.Sort(blocks);
        return blocks[2];
    }

    /// <summary>The process's peak resident set (VmHWM of /proc/self/status), e.g. "192 MB".</summary>
    public static string PeakResidentSet()
    {
        string status = File.ReadAllText("/proc/self/status");
        return status.Split('\n').First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(':')[1].Trim();
    }
}
