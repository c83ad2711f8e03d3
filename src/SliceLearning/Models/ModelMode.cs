using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// The train/eval flag of a module is shared state: prediction switches to evaluation mode and
/// back, the trainer switches to training mode for each step. Both do it under one lock per module,
/// so concurrent calls never interleave a switch and its restore, and a training step never runs
/// in evaluation mode (or a prediction in training mode).
/// </summary>
internal static class ModelMode
{
    private static readonly ConditionalWeakTable<nn.Module, object> Locks = new();

    public static object LockOf(nn.Module module) => Locks.GetValue(module, _ => new object());

    /// <summary>Runs <paramref name="action"/> in evaluation mode without gradients, then restores the previous mode.</summary>
    public static T InEvaluation<T>(nn.Module module, Func<T> action)
    {
        lock (LockOf(module))
        {
            bool wasTraining = module.training;
            module.eval();
            try
            {
                using var noGrad = no_grad();
                return action();
            }
            finally
            {
                module.train(wasTraining);
            }
        }
    }
}
