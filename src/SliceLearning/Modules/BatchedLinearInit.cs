using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Modules;

/// <summary>Initialisation of batched per-slice weights ([m, ...]) the way nn.Linear initialises one.</summary>
internal static class BatchedLinearInit
{
    /// <summary>A parameter of <paramref name="shape"/> drawn from U(-1/sqrt(fanIn), 1/sqrt(fanIn)), as nn.Linear does for fan-in <paramref name="fanIn"/>.</summary>
    public static Parameter Uniform(long fanIn, long[] shape, Device? device = null, ScalarType? dtype = null)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        using (no_grad())
        {
            return new Parameter(empty(shape, dtype: dtype, device: device).uniform_(-bound, bound));
        }
    }
}
