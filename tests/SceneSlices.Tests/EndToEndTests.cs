using SceneSlices.Scenes;
using SliceLearning.Runtime;

namespace SceneSlices.Tests;

[Collection("Sequential")]
public sealed class EndToEndTests
{
    [Fact]
    public void TinyRun_TrainsEveryMethod_AndReportsEverySlice()
    {
        ComputeDevice.SetCpuThreads(1);
        var settings = new SceneRunSettings
        {
            Scenes = new SceneOptions { ImageSize = 32 },
            TrainSize = 160,
            ValidationSize = 60,
            TestSize = 100,
            Seeds = 1,
            Epochs = 2,
            ManualAlphas = new[] { 2.0 },
            CacheDirectory = null,
        };
        var output = Directory.CreateTempSubdirectory("scene-test");
        try
        {
            var (results, tables) = SceneRun.RunAll(settings, output, _ => { });
            Assert.Equal(new[] { "VANILLA", "HPS", "MANUAL", "MoE", "SRAM" }, results.Select(r => r.Method));
            Assert.All(results, r => Assert.InRange(r.OverallF1, 0, 1));
            Assert.All(results, r => Assert.Equal(SceneSlicing.SliceNames, r.SliceF1.Keys));
            // SRAM adds slice experts on top of the same backbone
            Assert.True(results.Single(r => r.Method == "SRAM").Parameters > results.Single(r => r.Method == "VANILLA").Parameters);
            string md = File.ReadAllText(Path.Combine(output.FullName, "results.md"));
            Assert.Contains("| SRAM |", md);
            Assert.Contains("| night |", md);
            Assert.True(new FileInfo(Path.Combine(output.FullName, "grid.png")).Length > 1000);
            Assert.Equal(2, tables.Count);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact]
    public void CachedStagesThenHead_GivesTheBackboneWidth()
    {
        ComputeDevice.SetCpuThreads(1);
        var scenes = new SceneGenerator(new SceneOptions { ImageSize = 32 }).GenerateMany(3, seed: 1);
        using var maps = Features.Compute(scenes, BackboneMode.FrozenCached, "test", cacheDirectory: null);
        Assert.Equal(new long[] { 3, 512, 1, 1 }, maps.shape);
        using var head = Backbones.Create(BackboneMode.FrozenCached);
        using var z = head.call(maps);
        Assert.Equal(new long[] { 3, Backbones.Width(BackboneMode.FrozenCached) }, z.shape);
        using var pixels = Features.Compute(scenes, BackboneMode.FromScratch, "test", cacheDirectory: null);
        Assert.Equal(new long[] { 3, 3, 32, 32 }, pixels.shape);
        var cache = Directory.CreateTempSubdirectory("scene-cache");
        try
        {
            using var first = Features.Compute(scenes, BackboneMode.FrozenCached, "key", cache.FullName);
            Assert.Single(cache.GetFiles());
            using var second = Features.Compute(scenes, BackboneMode.FrozenCached, "key", cache.FullName);
            Assert.Equal(first.data<float>().ToArray(), second.data<float>().ToArray());
            Assert.True(first.allclose(maps, rtol: 1e-5, atol: 1e-5));
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }
}
