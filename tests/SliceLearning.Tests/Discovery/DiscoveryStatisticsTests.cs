using SliceLearning.Discovery;

namespace SliceLearning.Tests.Discovery;

public sealed class DiscoveryStatisticsTests
{
    [Theory]
    // Reference values: Wilson score interval at 95% (z = 1.959964), e.g. Agresti & Coull (1998); R binom::binom.wilson.
    [InlineData(0, 10, 0.0, 0.277532)]
    [InlineData(5, 10, 0.236593, 0.763407)]
    [InlineData(10, 10, 0.722468, 1.0)]
    [InlineData(1, 1, 0.206549, 1.0)]
    public void Wilson_MatchesReferenceValues(int successes, int trials, double lower, double upper)
    {
        var ci = WilsonInterval.Compute(successes, trials, 0.95);
        Assert.Equal(lower, ci.Lower, 4);
        Assert.Equal(upper, ci.Upper, 4);
    }

    [Fact]
    public void Wilson_RejectsBadCounts()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => WilsonInterval.Compute(11, 10));
        Assert.Equal("successes", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => WilsonInterval.Compute(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => WilsonInterval.Compute(1, 2, 1.0));
    }

    [Fact]
    public void BenjaminiHochberg_IsTheStepUpAdjustment()
    {
        // Sorted 0.005, 0.01, 0.03, 0.04 with m = 4: 0.02, 0.02, 0.04, 0.04 (monotone from the top).
        var adjusted = MultipleTesting.Adjust(new[] { 0.01, 0.04, 0.03, 0.005 }, MultipleTestingCorrection.BenjaminiHochberg);
        Assert.Equal(new[] { 0.02, 0.04, 0.04, 0.02 }, adjusted.Select(a => Math.Round(a, 10)));
    }

    [Fact]
    public void Bonferroni_MultipliesByTheFamilySize_CappedAtOne()
    {
        var adjusted = MultipleTesting.Adjust(new[] { 0.01, 0.3, 0.002 }, MultipleTestingCorrection.Bonferroni);
        Assert.Equal(new[] { 0.03, 0.9, 0.006 }, adjusted.Select(a => Math.Round(a, 10)));
        Assert.Equal(1.0, MultipleTesting.Adjust(new[] { 0.5, 0.6 }, MultipleTestingCorrection.Bonferroni)[1]);
    }

    [Fact]
    public void Adjust_NamesABadPValue()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MultipleTesting.Adjust(new[] { 0.1, double.NaN }, MultipleTestingCorrection.None));
        Assert.Contains("p-value #1", e.Message);
    }

    [Fact]
    public void ProportionTest_IsOneSided()
    {
        double higher = MultipleTesting.OneSidedProportionTest(30, 100, 100, 1000);
        double lower = MultipleTesting.OneSidedProportionTest(5, 100, 100, 1000);
        Assert.True(higher < 1e-6, $"p {higher}");
        Assert.True(lower > 0.9, $"p {lower}");
        // z = (0.3 - 0.1) / sqrt(p(1-p)(1/100 + 1/1000)) with pooled p = 130/1100.
        double pooled = 130.0 / 1100, z = 0.2 / Math.Sqrt(pooled * (1 - pooled) * (0.01 + 0.001));
        Assert.Equal(1 - MathNet.Numerics.Distributions.Normal.CDF(0, 1, z), higher, 12);
    }
}
