using System.Text.RegularExpressions;
using SliceLearning.Slicing;

namespace RealDataSlices;

/// <summary>A binary classification task on real data with its slicing functions and fixed splits.</summary>
public sealed class RealTask
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required string PositiveClass { get; init; }
    public required List<Row> Train { get; init; }
    public required List<Row> Validation { get; init; }
    public required List<Row> Test { get; init; }
    public required SliceSet<Row> Slices { get; init; }
    public required Func<Row, int> Label { get; init; }
    public required Func<Row, float[]> Featurize { get; init; }
    public required int FeatureWidth { get; init; }
    /// <summary>Hidden widths of the MLP backbone; the last one is the backbone width d.</summary>
    public required long[] Hidden { get; init; }
}

/// <summary>The four real data sets of the sample.</summary>
public static partial class Tasks
{
    public static readonly string[] Names = { "churn", "attrition", "credit", "foods" };

    /// <summary>Seed of the fixed train / validation / test split (the model seeds vary, the split does not).</summary>
    public const int SplitSeed = 2019;

    public static string DataDirectory(string? overrideDirectory) =>
        overrideDirectory
        ?? (Environment.GetEnvironmentVariable("SLICELEARNING_DATA") is { Length: > 0 } d ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slicelearning", "data"));

    /// <summary>Loads a task. <paramref name="limit"/> keeps the first rows of each split (for quick tests).</summary>
    public static RealTask Load(string name, string dataDirectory, int? limit = null, TextLog? log = null) => name switch
    {
        "churn" => Churn(dataDirectory, limit),
        "attrition" => Attrition(dataDirectory, limit),
        "credit" => Credit(dataDirectory, limit),
        "foods" => Foods(dataDirectory, limit, log),
        _ => throw new ArgumentException($"Unknown data set '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
    };

    private static string Require(string path, string script)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing. Install it with: bash scripts/get-data.sh {script} (or point --data / SLICELEARNING_DATA at the folder that holds it).", path);
        return path;
    }

    private static List<Row> Take(List<Row> rows, int? limit) => limit is int n && n < rows.Count ? rows.Take(n).ToList() : rows;

    private static RealTask Tabular(string name, string description, string positive, Table table, Func<Row, int> label,
        IEnumerable<string> excluded, SliceSet<Row> slices, int? limit)
    {
        var (train, validation, test) = Splits.Stratified(table.Rows, label, 0.6, 0.2, SplitSeed);
        train = Take(train, limit); validation = Take(validation, limit); test = Take(test, limit);
        var skip = excluded.ToHashSet(StringComparer.Ordinal);
        var featurizer = new TabularFeaturizer(train, table.Header.Where(c => !skip.Contains(c)));
        return new RealTask
        {
            Name = name, Description = description, PositiveClass = positive,
            Train = train, Validation = validation, Test = test, Slices = slices, Label = label,
            Featurize = featurizer.Featurize, FeatureWidth = featurizer.Width, Hidden = new long[] { 64, 64 },
        };
    }

    /// <summary>Telecom customer churn (modeldata::mlc_churn, 5,000 customers, 14% churn).</summary>
    public static RealTask Churn(string dataDirectory, int? limit = null)
    {
        var table = Table.ReadCsv(Require(Path.Combine(dataDirectory, "modeldata", "mlc_churn.csv"), "modeldata"));
        var slices = SliceSet.For<Row>()
            .Add("international_plan", r => r["international_plan"] == "yes")
            .Add("no_voice_mail", r => r["voice_mail_plan"] == "no")
            .Add("many_service_calls", r => r.Num("number_customer_service_calls") >= 4)
            .Add("heavy_day_use", r => r.Num("total_day_minutes") >= 240)
            .Add("new_account", r => r.Num("account_length") < 60)
            .Add("heavy_intl_use", r => r.Num("total_intl_minutes") >= 13)
            .Build();
        // The state (51 values) is left out: one-hot it would be most of the input for little signal.
        return Tabular("churn", "telecom customer churn (modeldata mlc_churn)", "churn = yes", table,
            r => r["churn"] == "yes" ? 1 : 0, new[] { "churn", "state" }, slices, limit);
    }

    /// <summary>Employee attrition (modeldata::attrition, IBM HR sample, 1,470 employees, 16% leave).</summary>
    public static RealTask Attrition(string dataDirectory, int? limit = null)
    {
        var table = Table.ReadCsv(Require(Path.Combine(dataDirectory, "modeldata", "attrition.csv"), "modeldata"));
        var slices = SliceSet.For<Row>()
            .Add("overtime", r => r["OverTime"] == "Yes")
            .Add("under_30", r => r.Num("Age") < 30)
            .Add("single", r => r["MaritalStatus"] == "Single")
            .Add("entry_level", r => r.Num("JobLevel") == 1)
            .Add("sales_rep", r => r["JobRole"] == "Sales_Representative")
            .Add("frequent_travel", r => r["BusinessTravel"] == "Travel_Frequently")
            .Add("new_hire", r => r.Num("YearsAtCompany") <= 2)
            .Build();
        return Tabular("attrition", "employee attrition (modeldata attrition)", "Attrition = Yes", table,
            r => r["Attrition"] == "Yes" ? 1 : 0, new[] { "Attrition" }, slices, limit);
    }

    /// <summary>German credit (Weka credit-g, 1,000 applicants, 30% bad).</summary>
    public static RealTask Credit(string dataDirectory, int? limit = null)
    {
        var table = Table.ReadArff(Require(Path.Combine(dataDirectory, "credit-g", "credit-g.arff"), "credit-g"));
        var slices = SliceSet.For<Row>()
            .Add("young", r => r.Num("age") <= 25)
            .Add("female", r => r["personal_status"].StartsWith("female", StringComparison.Ordinal))
            .Add("negative_checking", r => r["checking_status"] == "<0")
            .Add("long_loan", r => r.Num("duration") >= 36)
            .Add("renter", r => r["housing"] == "rent")
            .Add("new_car", r => r["purpose"] == "new car")
            .Build();
        return Tabular("credit", "German credit (Weka credit-g)", "class = bad", table,
            r => r["class"] == "bad" ? 1 : 0, new[] { "class" }, slices, limit);
    }

    /// <summary>Amazon fine-food reviews (modeldata::small_fine_foods) on frozen MiniLM mean-pooled sentence features.</summary>
    public static RealTask Foods(string dataDirectory, int? limit = null, TextLog? log = null)
    {
        var trainTable = Table.ReadCsv(Require(Path.Combine(dataDirectory, "modeldata", "fine_foods_train.csv"), "modeldata"));
        var testTable = Table.ReadCsv(Require(Path.Combine(dataDirectory, "modeldata", "fine_foods_test.csv"), "modeldata"));
        static int Label(Row r) => r["score"] == "great" ? 1 : 0;
        // The validation rows come from the training file (20%, stratified); the test file stays the test set.
        var (train, validation, _) = Splits.Stratified(trainTable.Rows, Label, 0.8, 0.2, SplitSeed);
        var test = testTable.Rows;
        train = Take(train, limit); validation = Take(validation, limit); test = Take(test, limit);

        // Features: one frozen MiniLM pass per review, cached on disk (full data only).
        var trainFeatures = TextFeatures.MeanPooled(trainTable.Rows.Select(r => Clean(r["review"])).ToArray(),
            limit is null ? Path.Combine(dataDirectory, "modeldata", "fine_foods_train.minilm-mean.f32") : null,
            needed: train.Concat(validation).Select(r => r.Id).ToHashSet(), log);
        var testFeatures = TextFeatures.MeanPooled(testTable.Rows.Select(r => Clean(r["review"])).ToArray(),
            limit is null ? Path.Combine(dataDirectory, "modeldata", "fine_foods_test.minilm-mean.f32") : null,
            needed: test.Select(r => r.Id).ToHashSet(), log);
        var testRows = new HashSet<Row>(test, ReferenceEqualityComparer.Instance);
        float[] Featurize(Row r) => (testRows.Contains(r) ? testFeatures[r.Id] : trainFeatures[r.Id])
            ?? throw new InvalidOperationException($"No MiniLM features for review row {r.Id}.");

        var slices = SliceSet.For<Row>()
            .Add("question", r => r["review"].Contains('?'))
            .Add("negation", r => Negation().IsMatch(r["review"]))
            .Add("contrast_but", r => But().IsMatch(r["review"]))
            .Add("short", r => Words(r["review"]) < 20)
            .Add("long", r => Words(r["review"]) > 150)
            .Add("exclamation", r => r["review"].Contains('!'))
            .Build();
        return new RealTask
        {
            Name = "foods", Description = "Amazon fine-food reviews (modeldata small_fine_foods), frozen MiniLM features", PositiveClass = "score = great",
            Train = train, Validation = validation, Test = test, Slices = slices, Label = Label,
            Featurize = Featurize, FeatureWidth = TextFeatures.Width, Hidden = new long[] { 128 },
        };
    }

    internal static string Clean(string review) => review.Replace("<br />", " ", StringComparison.Ordinal);

    private static int Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    [GeneratedRegex(@"\b(not|no|never)\b|n't", RegexOptions.IgnoreCase)]
    private static partial Regex Negation();

    [GeneratedRegex(@"\bbut\b", RegexOptions.IgnoreCase)]
    private static partial Regex But();
}
