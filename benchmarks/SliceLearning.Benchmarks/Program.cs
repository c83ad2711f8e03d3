// Runs the benchmarks: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*'
// Scalar-race soak: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- soak <minutes>
using System.Globalization;
using BenchmarkDotNet.Running;
using SliceLearning.Benchmarks.Soak;

if (args.Length > 0 && args[0] == "soak")
{
    double minutes = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1;
    var limit = TimeSpan.FromMinutes(minutes);
    var nextReport = TimeSpan.Zero;
    Console.WriteLine($"Soak: SRAM fits (Adam, AdamW, SGD in turn) while a thread forces full GCs, for {minutes} min");
    try
    {
        var result = GcSoak.Run((_, elapsed) => elapsed < limit, new SynchronousProgress(r => { if (r.Elapsed >= nextReport) { nextReport = r.Elapsed + TimeSpan.FromMinutes(1); Console.WriteLine(Line(r)); } }));
        Console.WriteLine("done: " + Line(result) + ", no failure");
        return 0;
    }
    catch (Exception e)
    {
        Console.WriteLine("FAILED: " + e);
        return 1;
    }
}

if (args.Length > 0 && args[0] == "--step-profile")
{
    SliceLearning.Benchmarks.StepProfile.Run(args.Skip(1).ToArray());
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

static string Line(SoakResult r) => string.Create(CultureInfo.InvariantCulture,
    $"{r.Elapsed:hh\\:mm\\:ss} {r.Fits:N0} fits, {r.Steps:N0} steps, {r.ForcedCollections:N0} forced GCs");

internal sealed class SynchronousProgress(Action<SoakResult> report) : IProgress<SoakResult>
{
    public void Report(SoakResult value) => report(value);
}
