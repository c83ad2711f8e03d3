// Runs the benchmarks: dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --filter '*'
using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "--step-profile")
{
    SliceLearning.Benchmarks.StepProfile.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
