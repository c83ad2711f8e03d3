using System.Diagnostics;
using System.Text.Json;

namespace SliceLearning.Distributed.Tests;

/// <summary>Runs the DistributedSlices sample, with or without <c>mpirun.mpich</c>.</summary>
internal static class MpiRun
{
    internal const string Launcher = "mpirun.mpich";

    internal sealed record Outcome(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed);

    internal sealed record RunOutput(int WorldSize, double[] Losses, double[] Scores, Dictionary<string, float[]> Weights, string Report);

    internal static string SampleDll
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SliceLearning.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException($"No SliceLearning.sln above {AppContext.BaseDirectory}.");
#if DEBUG
            const string configuration = "Debug";
#else
            const string configuration = "Release";
#endif
            var dll = Path.Combine(dir.FullName, "samples", "DistributedSlices", "bin", configuration, "net10.0", "DistributedSlices.dll");
            if (!File.Exists(dll)) throw new FileNotFoundException($"Build samples/DistributedSlices ({configuration}) first; {dll} is missing.", dll);
            return dll;
        }
    }

    internal static string LauncherPath
    {
        get
        {
            foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            {
                var path = Path.Combine(folder, Launcher);
                if (File.Exists(path)) return path;
            }
            throw new InvalidOperationException($"{Launcher} is not installed: run scripts/ci-setup.d/20-mpich.sh (apt-get install mpich libmpich-dev).");
        }
    }

    /// <summary>Runs the sample on <paramref name="ranks"/> ranks (0: without mpirun) and returns what it printed.</summary>
    internal static Outcome Sample(int ranks, string arguments, TimeSpan timeout)
    {
        var start = ranks == 0
            ? new ProcessStartInfo("dotnet", $"\"{SampleDll}\" {arguments}")
            : new ProcessStartInfo(LauncherPath, $"-np {ranks} dotnet \"{SampleDll}\" {arguments}");
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        // The parent test host may carry these; a child must decide its own MPI state.
        start.Environment.Remove("PMI_RANK");
        start.Environment.Remove("PMI_SIZE");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{start.FileName} {start.Arguments}' did not finish in {timeout.TotalSeconds} s (a hang).\n{stdout.Result}\n{stderr.Result}");
        }
        process.WaitForExit();
        return new Outcome(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    internal static RunOutput Train(int ranks, string arguments)
    {
        var file = Path.Combine(Path.GetTempPath(), $"slicelearning-dp-{Guid.NewGuid():N}.json");
        try
        {
            var outcome = Sample(ranks, $"{arguments} --output \"{file}\"", TimeSpan.FromMinutes(3));
            Assert.True(outcome.ExitCode == 0, $"exit {outcome.ExitCode}\n{outcome.StdOut}\n{outcome.StdErr}");
            return JsonSerializer.Deserialize<RunOutput>(File.ReadAllText(file))!;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
