using SliceLearning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Models;

/// <summary>The small SRAM fixture the SRAM model tests share: three named slices over a 3-input backbone.</summary>
internal static class SliceAwareFixture
{
    internal static readonly string[] Names = { "a", "b", "c" };

    /// <summary>A seeded SRAM over Linear(3, width)-ReLU.</summary>
    internal static SliceAwareModel NewModel(Action<SliceAwareOptions>? configure = null, long width = 6, int seed = 5, int numClasses = 2)
    {
        manual_seed(seed);
        return SliceAwareModel.Create(nn.Sequential(nn.Linear(3, width), nn.ReLU()), width, numClasses, Names, configure);
    }

    /// <summary>6 rows, m = 4 (base, a, b, c); slice c has no member.</summary>
    internal static Tensor Membership() => tensor(new float[]
    {
        1, 1, 0, 0,
        1, 1, 1, 0,
        1, 0, 0, 0,
        1, 0, 1, 0,
        1, 0, 0, 0,
        1, 1, 0, 0,
    }, new long[] { 6, 4 });
}
