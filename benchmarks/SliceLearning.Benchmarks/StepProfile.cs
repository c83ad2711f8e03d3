using System.Globalization;
using SliceLearning.Models;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Benchmarks;

/// <summary>
/// A quick look at where a training step's time goes, without BenchmarkDotNet's process per case:
/// <c>dotnet run -c Release --project benchmarks/SliceLearning.Benchmarks -- --step-profile [case ...]</c>
/// (cases as in <see cref="SramStepBenchmarks.Cases"/>, e.g. <c>"SRAM k=2"</c>; all by default).
/// Thread CPU time per step (median of 5 blocks) and of its parts (the model's loss alone; the trainer's
/// loss and backward pass, which SRAM's fused path computes in one pass; optimizer; zero-grad), the number of parameter tensors (the optimizer and zero-grad work once
/// per tensor), and the managed tensors one step and one forward + loss create: each is one native
/// TorchSharp call that returns a new tensor (in-place updates and the native backward pass are not counted).
/// Last, the arithmetic floor of SRAM's expert projections at k = 256: the three matrix products of one step
/// (forward z·W, and the gradients of W and z) as bare libtorch matmuls.
/// </summary>
internal static class StepProfile
{
    public static void Run(IReadOnlyList<string> cases)
    {
        ComputeDevice.SetCpuThreads(1);
        Console.WriteLine("case,parameter_tensors,tensors_per_step,tensors_per_forward_loss,step_us,forward_loss_us,forward_loss_backward_us,optimizer_us,zero_grad_us");
        foreach (var name in cases.Count > 0 ? cases : SramStepBenchmarks.Cases)
        {
            using var c = new SramStepBenchmarks { Case = name, Width = 13 };
            c.Setup();
            long tensorsPerStep = TensorsCreatedBy(() => c.Step());
            long tensorsPerForward = TensorsCreatedBy(() => { using var s = NewDisposeScope(); c.ForwardLoss(); });
            double step = SramStepBenchmarks.Measure(() => c.Step());
            double forward = SramStepBenchmarks.Measure(() => { using var s = NewDisposeScope(); c.ForwardLoss(); });
            double backward = SramStepBenchmarks.Measure(() => { using var s = NewDisposeScope(); c.LossAndBackward(); });
            double optimizer = SramStepBenchmarks.Measure(() => c.OptimizerStep());
            double zero = SramStepBenchmarks.Measure(() => c.ZeroGrad());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name},{c.ParameterTensors},{tensorsPerStep},{tensorsPerForward},{step:F1},{forward:F1},{backward:F1},{optimizer:F1},{zero:F1}"));
        }
        ExpertGemmFloor();
    }

    // SRAM k = 256 on the synthetic setting: B = 64, m = 257, d = h = 13; 3 · B·m·d·h = 8.4 M multiply-adds per step.
    private static void ExpertGemmFloor()
    {
        const int b = 64, m = 257, d = 13, h = 13;
        manual_seed(1);
        using var z = randn(b, d);
        using var w = randn(d, m * h);
        using var dr = randn(b, m * h);
        double forward = SramStepBenchmarks.Measure(() => { using var s = NewDisposeScope(); z.matmul(w); });
        double weight = SramStepBenchmarks.Measure(() => { using var s = NewDisposeScope(); z.t().matmul(dr); });
        double input = SramStepBenchmarks.Measure(() => { using var s = NewDisposeScope(); dr.matmul(w.t()); });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"expert GEMMs at k=256 as bare matmuls (us): forward {forward:F1}, weight gradient {weight:F1}, input gradient {input:F1}, total {forward + weight + input:F1}"));
    }

    private static long TensorsCreatedBy(Action action)
    {
        var statistics = DisposeScopeManager.Statistics.TensorStatistics;
        long before = statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
        action();
        return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount - before;
    }
}
