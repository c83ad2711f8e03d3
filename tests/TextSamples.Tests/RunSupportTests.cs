using TorchSharp;
using SliceLearning.Backbones.Text;
using SliceLearning.Models;
using SliceLearning.Modules;
using static TorchSharp.torch;

namespace TextSamples.Tests;

/// <summary>The on-disk feature cache, the SRAM option parser and the diagnostics' AUC.</summary>
public class RunSupportTests
{
    private static EncodedText Text(params long[] ids) => new(ids, ids.Select(_ => 1L).ToArray(), ids.Select(_ => 0L).ToArray());

    [Fact]
    public void FeatureCacheRoundTripsATensorAndMissesOnAnyOtherKey()
    {
        var dir = Path.Combine(Path.GetTempPath(), "feature-cache-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new FeatureCache(dir);
            var fingerprint = new byte[] { 1, 2, 3 };
            var texts = new[] { Text(101, 2000, 102), Text(101, 7, 8, 102) };
            string key = FeatureCache.Key(fingerprint, texts, lowerLayers: 5, length: 16, pooled: false);
            Assert.Null(cache.TryLoad(key));
            using var features = arange(2 * 3 * 4, dtype: ScalarType.Float32).reshape(2, 3, 4);
            cache.Save(key, features);
            using var loaded = cache.TryLoad(key);
            Assert.NotNull(loaded);
            Assert.Equal(new long[] { 2, 3, 4 }, loaded!.shape);
            Assert.Equal(features.data<float>().ToArray(), loaded.data<float>().ToArray());

            // Every input of the key changes it.
            Assert.NotEqual(key, FeatureCache.Key(fingerprint, texts, 4, 16, false));
            Assert.NotEqual(key, FeatureCache.Key(fingerprint, texts, 5, 32, false));
            Assert.NotEqual(key, FeatureCache.Key(fingerprint, texts, 5, 16, true));
            Assert.NotEqual(key, FeatureCache.Key(new byte[] { 1, 2, 4 }, texts, 5, 16, false));
            Assert.NotEqual(key, FeatureCache.Key(fingerprint, new[] { Text(101, 2000, 102), Text(101, 7, 9, 102) }, 5, 16, false));
            Assert.NotEqual(key, FeatureCache.Key(fingerprint, texts.Reverse().ToArray(), 5, 16, false));
            // Padding beyond the real tokens does not.
            var padded = new EncodedText(new long[] { 101, 2000, 102, 0 }, new long[] { 1, 1, 1, 0 }, new long[] { 0, 0, 0, 0 });
            Assert.Equal(key, FeatureCache.Key(fingerprint, new[] { padded, texts[1] }, 5, 16, false));

            // A truncated file reads as a miss, not as garbage.
            var file = Directory.GetFiles(dir).Single();
            File.WriteAllBytes(file, File.ReadAllBytes(file)[..^4]);
            Assert.Null(cache.TryLoad(key));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SramSettingsSetTheNamedOptionsAndKeepTheRest()
    {
        var configure = SramSettings.Parse(new[] { "ExpertSize=128", "indicatorlossweight=0.25", "Attention=Full" });
        var options = new SliceAwareOptions();
        configure(options);
        Assert.Equal(128L, options.ExpertSize);
        Assert.Equal(0.25, options.IndicatorLossWeight);
        Assert.Equal(AttentionVariant.Full, options.Attention);
        var defaults = new SliceAwareOptions();
        Assert.Equal(defaults.SliceHeadLossWeight, options.SliceHeadLossWeight);
        Assert.Equal(defaults.Backpropagation, options.Backpropagation);

        var none = new SliceAwareOptions();
        SramSettings.Parse(Array.Empty<string>())(none);
        Assert.Null(none.ExpertSize);
        Assert.Equal(defaults.Attention, none.Attention);

        var back = new SliceAwareOptions { ExpertSize = 64 };
        SramSettings.Parse(new[] { "ExpertSize=null" })(back);
        Assert.Null(back.ExpertSize);
    }

    [Theory]
    [InlineData("ExpertSize", "is not Name=Value")]
    [InlineData("Width=3", "'Width' does not exist")]
    [InlineData("ExpertSize=big", "ExpertSize: 'big' is not a valid Int64 or null")]
    [InlineData("Attention=Sideways", "Attention: 'Sideways' is not a valid value of")]
    [InlineData("IndicatorLossWeight=-1", "IndicatorLossWeight must be a finite number >= 0")]
    public void SramSettingsRejectBadAssignmentsByName(string assignment, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => SramSettings.Parse(new[] { assignment }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AucMatchesHandComputedValues()
    {
        // Positives 0.9, 0.4; negatives 0.5, 0.1: 3 of 4 (positive, negative) pairs ordered right.
        Assert.Equal(0.75, SramDiagnostics.Auc(new[] { (0.9f, true), (0.4f, true), (0.5f, false), (0.1f, false) }), 12);
        // A tie between a positive and a negative counts half: pairs (0.5+, 0.5-) = 0.5, (0.5+, 0.2-) = 1.
        Assert.Equal(0.75, SramDiagnostics.Auc(new[] { (0.5f, true), (0.5f, false), (0.2f, false) }), 12);
        Assert.Equal(1.0, SramDiagnostics.Auc(new[] { (2f, true), (1f, false) }));
        Assert.Equal(0.0, SramDiagnostics.Auc(new[] { (1f, true), (2f, false) }));
        Assert.True(double.IsNaN(SramDiagnostics.Auc(new[] { (1f, true), (2f, true) })));
    }
}

/// <summary>Copying warmed-up heads into the fine-tuned model.</summary>
public class HeadTransferTests
{
    [Fact]
    public void CopiesEveryHeadParameterByNameAndLeavesTheBackboneAlone()
    {
        manual_seed(1);
        using var heads = SliceAwareModel.Create(nn.Identity(), 8, 2, new[] { "a", "b" });
        using var model = SliceAwareModel.Create(nn.Linear(5, 8), 8, 2, new[] { "a", "b" });
        var backboneBefore = model.Backbone.parameters().Select(p => p.data<float>().ToArray()).ToArray();
        HeadTransfer.Copy(heads, model);
        var target = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in heads.named_parameters())
            Assert.Equal(p.data<float>().ToArray(), target[name].data<float>().ToArray());
        Assert.Equal(backboneBefore, model.Backbone.parameters().Select(p => p.data<float>().ToArray()).ToArray());
    }

    [Fact]
    public void RefusesAParameterTheTargetLacksOrShapesItDifferently()
    {
        using var heads = SliceAwareModel.Create(nn.Identity(), 8, 2, new[] { "a", "b" });
        using var otherSlices = SliceAwareModel.Create(nn.Identity(), 8, 2, new[] { "a", "b", "c" });
        var e = Assert.Throws<ArgumentException>(() => HeadTransfer.Copy(heads, otherSlices));
        Assert.Contains("in the source and", e.Message);
        using var vanilla = VanillaModel.Create(nn.Identity(), 8, 2);
        var missing = Assert.Throws<ArgumentException>(() => HeadTransfer.Copy(heads, vanilla));
        Assert.Contains("has no parameter", missing.Message);
    }
}

/// <summary>The across-seed SRAM − VANILLA interval of the slice table.</summary>
public class SeedDifferenceTests
{
    private static TrialResult Trial(string method, int seed, double score) =>
        new(method, seed, 1, score, score, score, new Dictionary<string, double> { ["base"] = score, ["a"] = double.NaN }, 1, 1, 1, 1, null);

    [Fact]
    public void MeanAndStudentIntervalOverSeedsAreHandComputed()
    {
        // Differences 0.01, 0.02, 0.03 (× 100: 1, 2, 3): mean 2, sd 1, t(2) = 4.303, half width 4.303 / sqrt(3) = 2.4843.
        var trials = new[]
        {
            Trial("VANILLA", 1, 0.50), Trial("SRAM", 1, 0.51), Trial("VANILLA", 2, 0.40), Trial("SRAM", 2, 0.42),
            Trial("VANILLA", 3, 0.30), Trial("SRAM", 3, 0.33), Trial("SRAM", 4, 0.90),
        };
        var r = new ExperimentResult("t", "Mcc", trials, Array.Empty<SummaryRow>(), new Dictionary<int, SliceLearning.Evaluation.SliceComparison>(),
            new[] { "base", "a" }, new Dictionary<string, int> { ["base"] = 3, ["a"] = 0 }, 0, 1);
        var d = Reporting.SeedDifference(r, "base");
        Assert.NotNull(d);
        Assert.Equal(2.0, d!.Value.Mean, 9);
        Assert.Equal(2.0 - 4.303 / Math.Sqrt(3), d.Value.Lower, 9);
        Assert.Equal(2.0 + 4.303 / Math.Sqrt(3), d.Value.Upper, 9);
        Assert.Null(Reporting.SeedDifference(r, "a"));
        Assert.Equal(12.706, Reporting.StudentT975(1));
        Assert.Equal(2.776, Reporting.StudentT975(4));
        Assert.Equal(1.96, Reporting.StudentT975(100));
    }
}
