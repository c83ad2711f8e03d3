using System.Globalization;

namespace TextSamples;

/// <summary>The PairSlices data: pairs from training-review sentences for training, from test-review sentences for testing.</summary>
public static class PairData
{
    /// <summary>Training pairs by default (RTE's train + validation: 2,500).</summary>
    public const int DefaultTrain = 2500;

    /// <summary>Test pairs by default.</summary>
    public const int DefaultTest = 800;

    /// <summary>
    /// Splits the reviews into sentences, shuffles them (fixed seed) and makes one pair per sentence, so
    /// no review sentence appears on both sides of the split; the "unrelated" hypotheses come from the
    /// same side's sentences.
    /// </summary>
    public static (IReadOnlyList<SentencePair> Train, IReadOnlyList<SentencePair> Test) Build(IReadOnlyList<Review> trainReviews, IReadOnlyList<Review> testReviews, int trainCount, int testCount)
    {
        IReadOnlyList<SentencePair> Make(IReadOnlyList<Review> reviews, int count, int seed)
        {
            var sentences = PairGenerator.Sentences(reviews).ToArray();
            new Random(seed).Shuffle(sentences);
            var generator = new PairGenerator(sentences);
            return generator.Generate(sentences.Take(Math.Min(sentences.Length, count * 3)).ToArray(), seed).Take(count).ToArray();
        }
        return (Make(trainReviews, trainCount, 101), Make(testReviews, testCount, 202));
    }

    /// <summary>One line: counts, label balance and rule counts (Spectre markup-safe).</summary>
    public static string Describe(IReadOnlyList<SentencePair> train, IReadOnlyList<SentencePair> test)
    {
        string rules = string.Join(", ", train.Concat(test).GroupBy(p => p.Rule).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"[grey]pairs: {train.Count} train ({train.Count(p => p.Label == 1) * 100.0 / Math.Max(1, train.Count):F0}% entailment), {test.Count} test ({test.Count(p => p.Label == 1) * 100.0 / Math.Max(1, test.Count):F0}% entailment); rules: {rules}[/]");
    }
}
