using SceneSlices.Scenes;

namespace SceneSlices.Tests;

public sealed class GeneratorTests
{
    private static readonly SceneOptions Small = new() { ImageSize = 32 };

    /// <summary>|observed − p| within 4 standard errors of a binomial proportion (plus a small floor).</summary>
    private static void Rate(double expected, int hits, int trials, string what)
    {
        double observed = (double)hits / trials, se = Math.Sqrt(expected * (1 - expected) / trials);
        Assert.True(Math.Abs(observed - expected) <= 4 * se + 0.005, $"{what}: observed {observed:F3} over {trials}, expected {expected:F3}");
    }

    [Fact]
    public void SameSeedAndIndex_GiveTheSameScene_OtherSeedsDiffer()
    {
        var a = new SceneGenerator(Small).GenerateMany(20, seed: 3);
        var b = new SceneGenerator(Small).GenerateMany(20, seed: 3);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Pixels, b[i].Pixels);
            Assert.Equal(a[i].HasCyclist, b[i].HasCyclist);
            Assert.Equal(a[i].Visible, b[i].Visible);
        }
        // a slice of the stream equals the scenes at those indices
        var tail = new SceneGenerator(Small).GenerateMany(5, seed: 3, first: 15);
        Assert.Equal(a[17].Pixels, tail[2].Pixels);
        var other = new SceneGenerator(Small).GenerateMany(20, seed: 4);
        Assert.True(Enumerable.Range(0, 20).Count(i => !a[i].Pixels.SequenceEqual(other[i].Pixels)) == 20);
        Assert.Equal(32 * 32 * 3, a[0].Pixels.Length);
    }

    [Fact]
    public void LabelLightingAndObjectRates_MatchTheOptions()
    {
        var options = Small with
        {
            CyclistRate = 0.4,
            LightingWeights = new[] { 2.0, 1.0, 1.0 },
            ObjectRates = SceneOptions.DefaultObjectRates.ToDictionary(kv => kv.Key, kv => kv.Key == SceneObject.Bus ? 0.3 : kv.Value),
            SmallCyclistAtNight = 0.5,
            CyclistBehindBus = 0.8,
            ParkedBicycleAtBench = 0.5,
            OcclusionRate = 0.3,
        };
        var scenes = new SceneGenerator(options).GenerateMany(3000, seed: 11);
        int n = scenes.Count;
        Rate(0.4, scenes.Count(s => s.HasCyclist), n, "cyclist rate");
        Rate(0.5, scenes.Count(s => s.Lighting == Lighting.Day), n, "day");
        Rate(0.25, scenes.Count(s => s.Lighting == Lighting.Night), n, "night");
        foreach (var (obj, rate) in options.ObjectRates)
            Rate(rate, scenes.Count(s => s.Placed.Contains(obj)), n, $"placed {obj}");
        var nightCyclists = scenes.Where(s => s.HasCyclist && s.Lighting == Lighting.Night).ToArray();
        Rate(0.5, nightCyclists.Count(s => s.CyclistSmall), nightCyclists.Length, "small cyclists at night");
        Assert.DoesNotContain(scenes, s => s.CyclistSmall && s.Lighting != Lighting.Night);
        var busCyclists = scenes.Where(s => s.HasCyclist && s.Placed.Contains(SceneObject.Bus)).ToArray();
        Rate(0.8, busCyclists.Count(s => s.CyclistBehindBus), busCyclists.Length, "cyclists behind a bus");
        var benches = scenes.Where(s => s.Placed.Contains(SceneObject.Bench)).ToArray();
        Rate(0.5, benches.Count(s => s.ParkedBicycleAtBench), benches.Length, "parked bicycle at a bench");
        Rate(0.3, scenes.Count(s => s.CyclistOccluded), scenes.Count(s => s.HasCyclist), "occluded cyclists");
        // a cyclist is a person on a bicycle to a detector
        Assert.All(scenes.Where(s => s.HasCyclist), s => Assert.True(s.Visible.Contains(SceneObject.Bicycle) && s.Visible.Contains(SceneObject.Person)));
        Assert.All(scenes, s => Assert.Subset(new HashSet<SceneObject>(s.Visible), new HashSet<SceneObject>(s.Placed)));
    }

    [Fact]
    public void NightScenes_AreDark_AndTheNightSfFindsThem()
    {
        var scenes = new SceneGenerator(Small).GenerateMany(400, seed: 2);
        var sf = SceneSlicing.Apply(scenes, new NoisyDetector());
        var truth = SceneSlicing.Truth(scenes);
        var agreement = SliceLearning.Slicing.SliceStatistics.Agreement(sf, truth).Single(a => a.Name == "night");
        Assert.True(agreement.Precision >= 0.95 && agreement.Recall >= 0.95, $"night SF precision {agreement.Precision}, recall {agreement.Recall}");
        Assert.True(scenes.Where(s => s.Lighting == Lighting.Day).Min(s => s.MeanLuma()) > scenes.Where(s => s.Lighting == Lighting.Night).Max(s => s.MeanLuma()));
    }

    [Fact]
    public void InvalidOptions_AreListedByName()
    {
        var bad = new SceneOptions { ImageSize = 8, CyclistRate = 1.5, ObjectRates = new Dictionary<SceneObject, double> { [SceneObject.Bus] = -1 } };
        var e = Assert.Throws<ArgumentException>(() => new SceneGenerator(bad));
        Assert.Contains("ImageSize must be between 32 and 512 pixels, got 8.", e.Message);
        Assert.Contains("CyclistRate must be a probability in [0, 1], got 1.5.", e.Message);
        Assert.Contains("ObjectRates[Bus] must be a probability in [0, 1], got -1.", e.Message);
        Assert.Contains("ObjectRates has no rate for Bench.", e.Message);
    }
}
