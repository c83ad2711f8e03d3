using SliceLearning.SliceTuner;

namespace SliceLearning.Tests.SliceTuner;

public class BaselineAndMetricTests
{
    [Fact]
    public void Uniform_EqualCosts_SplitsEvenlyAndHandsOutTheRemainder()
    {
        Assert.Equal(new[] { 150, 150 }, AcquisitionBaselines.Uniform(2, 300).Amounts);
        Assert.Equal(new[] { 34, 33, 33 }, AcquisitionBaselines.Uniform(3, 100).Amounts);
    }

    [Fact]
    public void Uniform_UnequalCosts_NeverOverspends()
    {
        var plan = AcquisitionBaselines.Uniform(3, 100, new[] { 1.0, 2.0, 4.0 });
        // floor(100 / 7) = 14 each costs 98; the remaining 2 buys one more of slice 0 (cost 1), not of slice 1 (2 > 1).
        Assert.Equal(new[] { 15, 14, 14 }, plan.Amounts);
        Assert.Equal(99, plan.Cost);
    }

    [Fact]
    public void WaterFilling_RaisesTheSmallestSlicesToOneLevel()
    {
        // Level h with (h - 10) + (h - 50) = 100 is 80.
        var plan = AcquisitionBaselines.WaterFilling(new[] { 10, 50, 100 }, 100);
        Assert.Equal(new[] { 70, 30, 0 }, plan.Amounts);
        // Enough budget to pass the largest slice: 10 + 50 + 100 + 240 = 400 over 3 slices, level 133.33.
        var more = AcquisitionBaselines.WaterFilling(new[] { 10, 50, 100 }, 240);
        Assert.Equal(new[] { 124, 83, 33 }, more.Amounts);   // floors 123, 83, 33; the last example goes to the first of the tied smallest
        Assert.Equal(240, more.Cost);
    }

    [Fact]
    public void WaterFilling_UnequalCosts_NeverOverspends()
    {
        var plan = AcquisitionBaselines.WaterFilling(new[] { 10, 20 }, 35, new[] { 2.0, 1.0 });
        // 2 (h - 10) + max(0, h - 20) = 35: h = 25 (2 * 15 + 5 = 35).
        Assert.Equal(new[] { 15, 5 }, plan.Amounts);
        Assert.Equal(35, plan.Cost);
    }

    [Fact]
    public void Metrics_HandComputed()
    {
        // Paper's toy example: losses 5 and 3 on equal slices, loss(D) = 4, unfairness 1.
        var m = SliceLossMetrics.FromSliceLosses(new[] { 5.0, 3.0 });
        Assert.Equal(4, m.Loss);
        Assert.Equal(1, m.AverageEer);
        Assert.Equal(1, m.MaxEer);
        // After acquisition: losses 2 and 3, loss(D) = 2.4 -> unfairness avg(0.4, 0.6) = 0.5.
        var after = SliceLossMetrics.From(new[] { 2.0, 3.0 }, 2.4);
        Assert.Equal(0.5, after.AverageEer, 12);
        Assert.Equal(0.6, after.MaxEer, 12);
        // Weighted by validation counts: (1 * 0.2 + 3 * 0.6) / 4 = 0.5.
        var weighted = SliceLossMetrics.FromSliceLosses(new[] { 0.2, 0.6 }, new[] { 1, 3 });
        Assert.Equal(0.5, weighted.Loss, 12);
        Assert.Equal(0.2, weighted.AverageEer, 12);
    }

    [Fact]
    public void Metrics_NonFiniteLoss_NamesTheSlice()
    {
        var ex = Assert.Throws<SliceDataException>(() => SliceLossMetrics.FromSliceLosses(new[] { 0.2, double.NaN }));
        Assert.Contains("Slice #1 has loss NaN", ex.Message);
    }

    [Fact]
    public async Task PoolAcquirer_MovesSeededExamplesAndStopsWhenEmpty()
    {
        var training = new List<int>[] { new() { 1, 2 }, new() { 10 } };
        var pools = new[] { new[] { 3, 4, 5 }, new[] { 11 } };
        var acquirer = new PoolDataAcquirer<int>(training, pools, seed: 4);

        var got = await acquirer.AcquireAsync(new[] { 2, 5 });

        Assert.Equal(new[] { 2, 1 }, got);
        Assert.Equal(4, training[0].Count);
        Assert.Equal(new[] { 1, 2 }, training[0].Take(2));
        Assert.Subset(new HashSet<int> { 3, 4, 5 }, training[0].Skip(2).ToHashSet());
        Assert.Equal(new[] { 10, 11 }, training[1]);
        Assert.Equal(1, acquirer.Remaining(0));
        Assert.Equal(0, acquirer.Remaining(1));
        Assert.Equal(new[] { 1, 0 }, await acquirer.AcquireAsync(new[] { 4, 4 }));
        Assert.Equal(new[] { 3, 1 }, acquirer.Acquired);

        // The same seed hands out the same order.
        var again = new List<int>[] { new(), new() };
        await new PoolDataAcquirer<int>(again, pools, seed: 4).AcquireAsync(new[] { 3, 1 });
        Assert.Equal(training[0].Skip(2), again[0]);
    }
}
