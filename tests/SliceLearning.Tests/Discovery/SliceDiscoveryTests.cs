using SliceLearning.Data.Tabular;
using SliceLearning.Discovery;
using SliceLearning.Slicing;
using SliceLearning.Tests.Workflow;

namespace SliceLearning.Tests.Discovery;

public sealed class SliceDiscoveryTests
{
    /// <summary>Errors: 5% everywhere, 60% in the planted conjunction A = a1 AND B = b2 (seeded).</summary>
    private static (TabularTable Table, bool[] Errors) PlantedErrors(int rows = 4000, int seed = 5)
    {
        var table = PlantedTable.Generate(rows, seed);
        var random = new Random(seed);
        var errors = table.Rows.Select(r => random.NextDouble() < (PlantedTable.IsPlanted(r) ? 0.6 : 0.05)).ToArray();
        return (table, errors);
    }

    [Fact]
    public void PlantedConjunction_IsFirst_Significant_AndItsParentsAreNotReportedAboveIt()
    {
        var (table, errors) = PlantedErrors();
        var result = SliceDiscovery.Discover(table.Rows, errors, PlantedTable.Attributes());
        var top = result.Candidates[0];
        Assert.Equal("A = a1 AND B = b2", top.ToString());
        Assert.True(top.IsSignificant);
        Assert.True(top.ErrorInterval.Contains(0.6), $"{top.ErrorInterval}");
        Assert.True(top.AdjustedPValue >= top.PValue);
        Assert.Equal(table.Rows.Count(PlantedTable.IsPlanted), top.Support);
        Assert.Equal(result.TestedCount, result.TestedCount);
        // Noise-only single values must not be significant after correction.
        Assert.DoesNotContain(result.Candidates, c => c.IsSignificant && c.Conditions.Any(k => k.Attribute == "D") && c.Conditions.Count == 1);
    }

    [Fact]
    public void Code_IsPasteable_AndTheSlicingFunctionMatchesTheConjunction()
    {
        var (table, errors) = PlantedErrors();
        var result = SliceDiscovery.Discover(table.Rows, errors, PlantedTable.Attributes());
        var top = result.Candidates[0];
        Assert.Equal(".Add(\"A_a1__B_b2\", r => r[\"A\"] == \"a1\" && r[\"B\"] == \"b2\")", top.ToCode());
        var set = SliceSet.For<TabularRow>().Add(top.ToSlicingFunction()).Build();
        var matrix = set.Apply(table.Rows);
        Assert.Equal(top.Support, matrix.MemberCount(1));
        Assert.StartsWith("var discovered = SliceSet.For<TabularRow>()", result.ToCode("TabularRow"));
        Assert.Contains("* = significant at 0.05 after Benjamini-Hochberg correction", result.ToTable());
    }

    [Fact]
    public void Bonferroni_IsStricterThanBenjaminiHochberg()
    {
        var (table, errors) = PlantedErrors(1500, seed: 9);
        var bh = SliceDiscovery.Discover(table.Rows, errors, PlantedTable.Attributes(), new SliceDiscoveryOptions { MaxResults = 100 });
        var bonf = SliceDiscovery.Discover(table.Rows, errors, PlantedTable.Attributes(), new SliceDiscoveryOptions { MaxResults = 100, Correction = MultipleTestingCorrection.Bonferroni });
        foreach (var c in bonf.Candidates)
        {
            var same = bh.Candidates.Single(b => b.Name == c.Name);
            Assert.True(c.AdjustedPValue >= same.AdjustedPValue - 1e-12, c.Name);
        }
        Assert.True(bonf.Candidates.Count(c => c.IsSignificant) <= bh.Candidates.Count(c => c.IsSignificant));
    }

    [Fact]
    public void MinSupport_AndSignificantOnly_Filter()
    {
        var (table, errors) = PlantedErrors();
        var result = SliceDiscovery.Discover(table.Rows, errors, PlantedTable.Attributes(), new SliceDiscoveryOptions { MinSupport = 500, MaxResults = 100 });
        Assert.All(result.Candidates, c => Assert.True(c.Support >= 500));
        var significant = SliceDiscovery.Discover(table.Rows, errors, PlantedTable.Attributes(), new SliceDiscoveryOptions { SignificantOnly = true, MaxResults = 100 });
        Assert.All(significant.Candidates, c => Assert.True(c.IsSignificant));
    }

    [Fact]
    public void Names_FollowTheSfNameRules()
    {
        Assert.Equal("AGE_65plus", SliceDiscovery.MakeName(new[] { new SliceCondition("AGE", "65+") }));
        Assert.Equal("INCOME_50.000-75.000__ETHNIC.CLASS_White", SliceDiscovery.MakeName(new[] { new SliceCondition("INCOME", "[50.000-75.000)"), new SliceCondition("ETHNIC.CLASS", "White") }));
        Assert.Equal("EDUCATION_1_to_3_years_of_college", SliceDiscovery.MakeName(new[] { new SliceCondition("EDUCATION", "1 to 3 years of college") }));
    }

    [Fact]
    public void BadInput_IsNamed()
    {
        var (table, errors) = PlantedErrors(200);
        var e = Assert.Throws<SliceDataException>(() => SliceDiscovery.Discover(table.Rows, errors.Take(10).ToArray(), PlantedTable.Attributes()));
        Assert.Contains("200 rows but 10 error flags", e.Message);
        var bad = new[] { SliceAttribute.Create<TabularRow>("boom", r => r.Index == 3 ? throw new InvalidOperationException("no") : "x") };
        var e2 = Assert.Throws<SliceDataException>(() => SliceDiscovery.Discover(table.Rows, errors, bad));
        Assert.Equal(3, e2.Row);
        Assert.Contains("'boom'", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => SliceDiscovery.Discover(table.Rows, errors, PlantedTable.Attributes(), new SliceDiscoveryOptions { MaxConditions = 4, Alpha = 0 }));
        Assert.Contains("- MaxConditions must be 1, 2 or 3. Got 4.", e3.Message);
        Assert.Contains("- Alpha must be in (0, 1). Got 0.", e3.Message);
    }
}
