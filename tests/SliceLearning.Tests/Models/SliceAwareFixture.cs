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

    /// <summary>
    /// The training loss (<see cref="SliceAwareModel.Loss"/>) of <paramref name="model"/> on the shared batch: 6 rows of
    /// randn(6, 3) drawn after manual_seed(6), labels 0 1 1 0 1 0, <see cref="Membership"/>.
    /// </summary>
    internal static Tensor BatchLoss(SliceAwareModel model)
    {
        manual_seed(6);
        using var x = randn(6, 3);
        using var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        using var membership = Membership();
        return model.Loss(x, y, membership);
    }

    /// <summary>
    /// Saves <paramref name="model"/> (a <see cref="NewModel"/> of width 6), loads it over a fresh backbone, runs
    /// <paramref name="checkLoaded"/> on the loaded model, and asserts both give the same logits in evaluation mode.
    /// </summary>
    internal static void AssertCheckpointRoundTrip(SliceAwareModel model, Action<SliceAwareModel> checkLoaded)
    {
        string path = Path.Combine(Path.GetTempPath(), "slicelearning-sram-" + Guid.NewGuid().ToString("N") + ".ckpt");
        try
        {
            model.Save(path);
            manual_seed(99);
            using var loaded = SliceAwareModel.Load(path, nn.Sequential(nn.Linear(3, 6), nn.ReLU()));
            checkLoaded(loaded);
            model.eval();
            loaded.eval();
            manual_seed(2);
            using var x = randn(4, 3);
            using var a = model.Run(x);
            using var b = loaded.Run(x);
            Xunit.Assert.True(a.Logits.allclose(b.Logits, rtol: 0, atol: 0));
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
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
