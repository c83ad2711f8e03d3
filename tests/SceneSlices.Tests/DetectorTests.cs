using SceneSlices.Scenes;

namespace SceneSlices.Tests;

public sealed class DetectorTests
{
    private static readonly IReadOnlyList<Scene> Scenes = new SceneGenerator(new SceneOptions { ImageSize = 32 }).GenerateMany(3000, seed: 5);

    [Fact]
    public void MissAndFalseAlarmRates_MatchTheOptions_PerClass()
    {
        var options = new NoisyDetectorOptions
        {
            MissRates = Enum.GetValues<SceneObject>().ToDictionary(o => o, o => 0.05 + 0.05 * (int)o),
            FalseAlarmRates = Enum.GetValues<SceneObject>().ToDictionary(o => o, o => 0.02 * (int)o),
            Seed = 3,
        };
        var detector = new NoisyDetector(options);
        var reports = Scenes.Select(detector.Detect).ToArray();
        foreach (var o in Enum.GetValues<SceneObject>())
        {
            var present = Enumerable.Range(0, Scenes.Count).Where(i => Scenes[i].Visible.Contains(o)).ToArray();
            var absent = Enumerable.Range(0, Scenes.Count).Where(i => !Scenes[i].Visible.Contains(o)).ToArray();
            double miss = present.Count(i => !reports[i].Contains(o)) / (double)present.Length;
            double fa = absent.Count(i => reports[i].Contains(o)) / (double)absent.Length;
            double m = options.MissRates[o], f = options.FalseAlarmRates[o];
            Assert.True(Math.Abs(miss - m) <= 4 * Math.Sqrt(m * (1 - m) / present.Length) + 0.005, $"{o}: miss rate {miss:F3} over {present.Length}, option {m}");
            Assert.True(Math.Abs(fa - f) <= 4 * Math.Sqrt(f * (1 - f) / absent.Length) + 0.005, $"{o}: false-alarm rate {fa:F3} over {absent.Length}, option {f}");
        }
    }

    [Fact]
    public void PerfectDetector_GivesTheTrueSlices_AndTheDefaultOneIsNoisy()
    {
        var scenes = Scenes.Take(500).ToArray();
        var truth = SceneSlicing.Truth(scenes);
        var perfect = SceneSlicing.Apply(scenes, new NoisyDetector(NoisyDetectorOptions.Uniform(0, 0)));
        var noisy = SceneSlicing.Apply(scenes, new NoisyDetector());
        Assert.Equal(truth.SliceNames, perfect.SliceNames);
        int disagreements = 0;
        foreach (var name in SceneSlicing.SliceNames.Where(n => n != "night"))
        {
            int c = truth.IndexOf(name);
            Assert.Equal(truth.Column(c), perfect.Column(c));
            disagreements += truth.Column(c).Zip(noisy.Column(c)).Count(p => p.First != p.Second);
        }
        Assert.True(disagreements > 100, $"only {disagreements} noisy SF outputs differ from the truth");
    }

    [Fact]
    public void Detector_IsDeterministic_AndSeedDependent()
    {
        var a = new NoisyDetector(new NoisyDetectorOptions { Seed = 1 });
        var b = new NoisyDetector(new NoisyDetectorOptions { Seed = 1 });
        var c = new NoisyDetector(new NoisyDetectorOptions { Seed = 2 });
        Assert.All(Scenes.Take(200), s => Assert.Equal(a.Detect(s), b.Detect(s)));
        Assert.Contains(Scenes.Take(200), s => !a.Detect(s).SetEquals(c.Detect(s)));
    }

    [Fact]
    public void InvalidRates_NameTheClass()
    {
        var e = Assert.Throws<ArgumentException>(() => new NoisyDetector(NoisyDetectorOptions.Uniform(1.2, 0.05)));
        Assert.Contains("MissRates[Bench] must be in [0, 1], got 1.2.", e.Message);
    }
}
