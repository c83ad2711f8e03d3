using System.Globalization;
using SliceLearning.Data.Tabular;
using SliceLearning.Discovery;
using SliceLearning.Slicing;

namespace SliceLearning.Tests.Workflow;

/// <summary>
/// A small synthetic table with a planted weak slice: columns A (a0..a3), B (b0..b2), C (c0..c3),
/// D (d0, d1, pure noise) and a number X in [-1, 1]. The label is 1 when X + 0.6·[A = a0] − 0.6·[C = c3] &gt; 0,
/// except in the planted slice A = a1 AND B = b2 (about 5% of rows), where it is flipped: a rule a
/// model fitted to the rest of the data gets wrong.
/// </summary>
internal static class PlantedTable
{
    public const string PlantedName = "planted";
    public static readonly string[] Columns = { "A", "B", "C", "D", "X", "Y" };

    public static bool IsPlanted(TabularRow r) => r["A"] == "a1" && r["B"] == "b2";

    public static TabularTable Generate(int rows, int seed, double plantedBoost = 1.0)
    {
        var random = new Random(seed);
        var data = new List<string?[]>();
        while (data.Count < rows)
        {
            string a = Pick(random, new[] { 0.35, 0.2, 0.25, 0.2 }, "a");
            string b = Pick(random, new[] { 0.45, 0.4, 0.15 }, "b");
            bool planted = a == "a1" && b == "b2";
            if (!planted && plantedBoost > 1 && random.NextDouble() < 1 - 1 / plantedBoost) continue;
            string c = Pick(random, new[] { 0.25, 0.25, 0.25, 0.25 }, "c");
            string d = Pick(random, new[] { 0.5, 0.5 }, "d");
            double x = random.NextDouble() * 2 - 1;
            bool y = x + (a == "a0" ? 0.6 : 0) - (c == "c3" ? 0.6 : 0) > 0;
            if (planted) y = !y;
            data.Add(new[] { a, b, c, d, x.ToString("R", CultureInfo.InvariantCulture), y ? "1" : "0" });
        }
        return new TabularTable(Columns, data);
    }

    public static int Label(TabularRow r) => r["Y"] == "1" ? 1 : 0;

    /// <summary>Diagnosis SFs: the planted slice among decoys.</summary>
    public static SliceSet<TabularRow> Slices() => SliceSet.For<TabularRow>()
        .Add("A_a0", r => r["A"] == "a0")
        .Add("A_a1", r => r["A"] == "a1")
        .Add("B_b2", r => r["B"] == "b2")
        .Add("C_c3", r => r["C"] == "c3")
        .Add("D_d1", r => r["D"] == "d1")
        .Add(PlantedName, IsPlanted)
        .Build();

    /// <summary>A partition for the planner: the planted slice first, then A's values (a row counts for its first slice).</summary>
    public static SliceSet<TabularRow> PlanningSlices() => SliceSet.For<TabularRow>()
        .Add(PlantedName, IsPlanted)
        .Add("A_a0", r => r["A"] == "a0")
        .Add("A_a1_rest", r => r["A"] == "a1")
        .Add("A_a2", r => r["A"] == "a2")
        .Add("A_a3", r => r["A"] == "a3")
        .Build();

    public static IReadOnlyList<SliceAttribute<TabularRow>> Attributes() =>
        new[] { "A", "B", "C", "D" }.Select(SliceAttribute.Column).ToArray();

    public static TabularFeaturizer Featurizer(TabularTable train) =>
        TabularFeaturizer.Fit(train.Rows, new TabularFeaturizerOptions { Categorical = { "A", "B", "C", "D" }, Numeric = { "X" } });

    private static string Pick(Random random, double[] weights, string prefix)
    {
        double u = random.NextDouble(), sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            sum += weights[i];
            if (u < sum) return prefix + i.ToString(CultureInfo.InvariantCulture);
        }
        return prefix + (weights.Length - 1).ToString(CultureInfo.InvariantCulture);
    }
}
