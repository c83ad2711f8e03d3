using SliceLearning.Data.Tabular;
using SliceLearning.Discovery;
using SliceLearning.Slicing;

namespace IncomeWorkflow;

/// <summary>The income survey (R package kernlab's <c>income</c>, 8,993 rows, 14 categorical columns), as installed by scripts/data/income.sh.</summary>
internal static class IncomeData
{
    public const string Label = "INCOME";
    public static readonly string[] HighIncome = { "[50.000-75.000)", "[75.000-" };

    /// <summary>Where scripts/data/income.sh writes the CSV: $SLICELEARNING_DATA/income/income.csv (default ~/.cache/slicelearning/data).</summary>
    public static string DefaultPath()
    {
        var root = Environment.GetEnvironmentVariable("SLICELEARNING_DATA");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slicelearning", "data");
        return Path.Combine(root, "income", "income.csv");
    }

    /// <summary>Reads the CSV; a missing file gives an exception whose message says how to install it.</summary>
    public static TabularTable Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"The income survey is not installed: '{path}' does not exist. Install it with `bash scripts/get-data.sh income` " +
                "(apt installs R and r-cran-kernlab; R writes the CSV to $SLICELEARNING_DATA/income/income.csv), or pass --data <file>.", path);
        var table = TabularTable.ReadCsv(path);
        if (!table.HasColumn(Label) || !table.HasColumn("SEX") || !table.HasColumn("ETHNIC.CLASS"))
            throw new InvalidDataException($"'{path}' is not the income survey: expected columns INCOME, SEX, ETHNIC.CLASS, got {string.Join(", ", table.Columns)}.");
        return table.WithoutMissing(Label);
    }

    public static int IsHigh(TabularRow r) => HighIncome.Contains(r[Label]) ? 1 : 0;

    public static string[] FeatureColumns(TabularTable table) => table.Columns.Where(c => c != Label).ToArray();

    private static readonly (string Name, string Value)[] Ethnicities = { ("white", "White"), ("black", "Black"), ("hispanic", "Hispanic"), ("asian", "Asian") };

    /// <summary>Slices to diagnose: sex x ethnicity (Slice Tuner's Adult slices plus Hispanic and Asian), age bands and a few other groups.</summary>
    public static SliceSet<TabularRow> DiagnosisSlices()
    {
        var b = SliceSet.For<TabularRow>();
        foreach (var (name, value) in Ethnicities)
        {
            b.Add($"{name}_m", r => r["ETHNIC.CLASS"] == value && r["SEX"] == "M");
            b.Add($"{name}_f", r => r["ETHNIC.CLASS"] == value && r["SEX"] == "F");
        }
        return b
            .Add("age_14_24", r => r["AGE"] is "14-17" or "18-24")
            .Add("age_25_44", r => r["AGE"] is "25-34" or "35-44")
            .Add("age_45_64", r => r["AGE"] is "45-54" or "55-64")
            .Add("age_65plus", r => r["AGE"] == "65+")
            .Add("single", r => r["MARITAL.STATUS"] == "Single")
            .Add("no_college", r => r["EDUCATION"] is "Grade 8 or less" or "Grades 9 to 11" or "Graduated High Scool")
            .Add("renters", r => r["HOUSEHOLDER"] == "Rent")
            .Add("non_english", r => r["LANGUAGE"] is not null and not "English")
            .Build();
    }

    /// <summary>The planner's slices: sex x ethnicity (rows of other or missing ethnicity form a catch-all slice).</summary>
    public static SliceSet<TabularRow> PlanningSlices()
    {
        var b = SliceSet.For<TabularRow>();
        foreach (var (name, value) in Ethnicities)
        {
            b.Add($"{name}_m", r => r["ETHNIC.CLASS"] == value && r["SEX"] == "M");
            b.Add($"{name}_f", r => r["ETHNIC.CLASS"] == value && r["SEX"] == "F");
        }
        return b.Build();
    }

    public static IReadOnlyList<SliceAttribute<TabularRow>> DiscoveryAttributes(TabularTable table) => SliceAttribute.Columns(table, Label);

    /// <summary>A seeded split into train, validation, test and acquisition pool by the given fractions (the pool takes the rest).</summary>
    public static (TabularRow[] Train, TabularRow[] Validation, TabularRow[] Test, TabularRow[] Pool) Split(TabularTable table, int seed, double train, double validation, double test)
    {
        var rows = table.Rows.ToArray();
        new Random(seed).Shuffle(rows);
        int n = rows.Length, a = (int)(n * train), b = a + (int)(n * validation), c = b + (int)(n * test);
        return (rows[..a], rows[a..b], rows[b..c], rows[c..]);
    }
}
