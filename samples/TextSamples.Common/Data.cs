using Microsoft.VisualBasic.FileIO;

namespace TextSamples;

/// <summary>One fine-food review: label 1 = "great" (5 stars), 0 = "other".</summary>
public sealed class Review
{
    public Review(string product, string text, int label)
    {
        Product = product;
        Text = TextCleaning.Clean(text);
        Label = label;
        Parsed = new ParsedText(Text);
    }

    public string Product { get; }

    /// <summary>The review text with HTML line breaks removed.</summary>
    public string Text { get; }

    public int Label { get; }

    public ParsedText Parsed { get; }

    public override string ToString() => Text;
}

/// <summary>A premise/hypothesis pair: label 1 = entailment, 0 = not entailment.</summary>
public sealed class SentencePair
{
    public SentencePair(string premise, string hypothesis, int label, string rule)
    {
        Premise = new ParsedText(premise);
        Hypothesis = new ParsedText(hypothesis);
        Label = label;
        Rule = rule;
    }

    public ParsedText Premise { get; }

    public ParsedText Hypothesis { get; }

    public int Label { get; }

    /// <summary>The transformation that made the hypothesis (see <see cref="PairGenerator"/>).</summary>
    public string Rule { get; }

    public override string ToString() => $"{Premise.Text} => {Hypothesis.Text} ({(Label == 1 ? "entailment" : "not entailment")}, {Rule})";
}

/// <summary>Reads modeldata's small_fine_foods as exported to CSV by scripts/data/modeldata.sh.</summary>
public static class FineFoods
{
    public const string TrainFile = "fine_foods_train.csv";
    public const string TestFile = "fine_foods_test.csv";

    /// <summary>$SLICELEARNING_DATA/modeldata, else ~/.cache/slicelearning/data/modeldata.</summary>
    public static string DefaultDirectory()
    {
        string root = Environment.GetEnvironmentVariable("SLICELEARNING_DATA") is { Length: > 0 } d
            ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slicelearning", "data");
        return Path.Combine(root, "modeldata");
    }

    /// <summary>Loads the 4,000 training and 1,000 test reviews.</summary>
    /// <exception cref="FileNotFoundException">The CSVs are missing; the message says how to install them.</exception>
    public static (IReadOnlyList<Review> Train, IReadOnlyList<Review> Test) Load(string? directory = null)
    {
        directory ??= DefaultDirectory();
        return (Read(Path.Combine(directory, TrainFile)), Read(Path.Combine(directory, TestFile)));
    }

    public static IReadOnlyList<Review> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{path}' is missing. Install the fine-food reviews with `bash scripts/get-data.sh modeldata` (R's modeldata package exported to CSV), or pass --data <folder holding {TrainFile} and {TestFile}>.", path);
        using var parser = new TextFieldParser(path) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true };
        parser.SetDelimiters(",");
        string[] header = parser.ReadFields() ?? throw new InvalidDataException($"'{path}' is empty.");
        int product = Array.IndexOf(header, "product"), review = Array.IndexOf(header, "review"), score = Array.IndexOf(header, "score");
        if (product < 0 || review < 0 || score < 0)
            throw new InvalidDataException($"'{path}' has columns ({string.Join(", ", header)}); expected product, review, score.");
        var rows = new List<Review>();
        while (!parser.EndOfData)
        {
            var f = parser.ReadFields()!;
            int label = f[score] switch
            {
                "great" => 1,
                "other" => 0,
                _ => throw new InvalidDataException($"'{path}' line {parser.LineNumber}: score '{f[score]}' is neither 'great' nor 'other'."),
            };
            rows.Add(new Review(f[product], f[review], label));
        }
        return rows;
    }
}
