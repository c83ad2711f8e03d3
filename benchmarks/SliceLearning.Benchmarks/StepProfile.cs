using System.Diagnostics;
using System.Globalization;
using SliceLearning.Models;
using SliceLearning.Runtime;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>
/// A quick look at where a training step's time goes, without BenchmarkDotNet's process per case:
/// <c>dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --step-profile</c>.
/// Thread CPU time per step (median of 5 blocks) for VANILLA and SRAM at several k, and the parts
/// of the SRAM step (forward + loss, backward, optimizer).
/// </summary>
internal static class StepProfile
{
    public static void Run()
    {
        ComputeDevice.SetCpuThreads(1);
        Console.WriteLine("model,k,step_us,forward_loss_us,backward_us,optimizer_us,zero_grad_us");
        foreach (var (model, k) in new[] { ("Vanilla", 1), ("SRAM", 1), ("SRAM", 2), ("SRAM", 16), ("SRAM", 64), ("SRAM", 256), ("HPS", 2), ("MoE", 2) })
        {
            using var c = new SramStepBenchmarks { Model = model, K = k, Width = 13 };
            c.Setup();
            double step = c.Measure(() => c.Step());
            double forward = c.Measure(() => { using var s = NewDisposeScope(); c.ForwardLoss(); });
            double backward = c.Measure(() => { using var s = NewDisposeScope(); c.ForwardLoss().backward(); }) - forward;
            double optimizer = c.Measure(() => c.OptimizerStep());
            double zero = c.Measure(() => c.ZeroGrad());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model},{k},{step:F1},{forward:F1},{backward:F1},{optimizer:F1},{zero:F1}"));
        }
    }
}
