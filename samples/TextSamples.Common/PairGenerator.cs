namespace TextSamples;

/// <summary>One rule of <see cref="PairGenerator"/>: rewrites a premise's tokens into a hypothesis, or returns null when it does not apply.</summary>
public sealed record PairRule(string Name, int Label, string Description, Func<string[], Random, string[]?> Apply);

/// <summary>
/// Builds RTE-style premise/hypothesis pairs from real sentences with rule-based transformations
/// (after the NLI error-analysis challenges the paper's RTE SFs come from). Each rule fixes the
/// label: entailment (1) for meaning-preserving or weakening rewrites, not entailment (0) for
/// rewrites that contradict or change the claim, plus an unrelated sentence as the "neutral" case.
/// Premise and hypothesis are both the lowercase token sequence re-joined, so no rule leaves a
/// casing or spacing cue. Each premise gets the label that is behind so far (a coin flip on ties), then
/// one of the rules of that label that applies; a premise that no rule of that label fits is skipped,
/// so the labels stay balanced.
/// </summary>
public sealed class PairGenerator
{
    private static readonly string[] Intensifiers = { "very", "really", "so", "extremely", "quite", "super", "totally", "absolutely", "incredibly", "pretty", "truly", "just" };
    private static readonly string[] ClauseConjunctions = { "but", "because", "although", "though", "since", "while" };

    private static readonly Dictionary<string, string[]> Contractions = new(StringComparer.Ordinal)
    {
        ["don't"] = new[] { "do", "not" }, ["doesn't"] = new[] { "does", "not" }, ["didn't"] = new[] { "did", "not" },
        ["isn't"] = new[] { "is", "not" }, ["wasn't"] = new[] { "was", "not" }, ["aren't"] = new[] { "are", "not" },
        ["weren't"] = new[] { "were", "not" }, ["can't"] = new[] { "can", "not" }, ["won't"] = new[] { "will", "not" },
        ["wouldn't"] = new[] { "would", "not" }, ["couldn't"] = new[] { "could", "not" }, ["shouldn't"] = new[] { "should", "not" },
        ["it's"] = new[] { "it", "is" }, ["i'm"] = new[] { "i", "am" }, ["i've"] = new[] { "i", "have" },
        ["that's"] = new[] { "that", "is" }, ["they're"] = new[] { "they", "are" }, ["we're"] = new[] { "we", "are" },
        ["you're"] = new[] { "you", "are" }, ["i'll"] = new[] { "i", "will" }, ["i'd"] = new[] { "i", "would" },
        ["there's"] = new[] { "there", "is" }, ["haven't"] = new[] { "have", "not" }, ["hasn't"] = new[] { "has", "not" },
    };

    private static readonly Dictionary<string, string> Positive = new(StringComparer.Ordinal)
    {
        ["don't"] = "do", ["doesn't"] = "does", ["didn't"] = "did", ["isn't"] = "is", ["wasn't"] = "was", ["aren't"] = "are",
        ["weren't"] = "were", ["can't"] = "can", ["won't"] = "will", ["wouldn't"] = "would", ["couldn't"] = "could",
        ["shouldn't"] = "should", ["haven't"] = "have", ["hasn't"] = "has",
    };

    private static readonly string[] Auxiliaries = { "is", "are", "was", "were", "will", "can", "would", "should", "could", "am" };

    private static readonly Dictionary<string, string> ComparativePairs = Symmetric(
        ("better", "worse"), ("more", "less"), ("bigger", "smaller"), ("larger", "smaller"), ("higher", "lower"), ("stronger", "weaker"), ("cheaper", "pricier"));

    private static readonly Dictionary<string, string> Antonyms = Symmetric(
        ("good", "bad"), ("great", "terrible"), ("love", "hate"), ("loved", "hated"), ("loves", "hates"), ("like", "dislike"),
        ("liked", "disliked"), ("delicious", "disgusting"), ("fresh", "stale"), ("best", "worst"), ("happy", "unhappy"),
        ("easy", "difficult"), ("excellent", "awful"), ("tasty", "bland"), ("perfect", "flawed"), ("favorite", "least favorite"));

    private static readonly Dictionary<string, string> TemporalPairs = Symmetric(("before", "after"));

    private static readonly string[] Determiners = { "the", "my", "these", "those", "our", "their", "his", "her", "your", "its", "this", "that" };
    private static readonly string[] NumberWords = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty" };
    private static readonly string[] NegationTokens = { "not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "without" };

    private readonly IReadOnlyList<string[]> _pool;

    /// <summary>Creates a generator; <paramref name="unrelatedPool"/> supplies hypotheses for the "unrelated" rule.</summary>
    public PairGenerator(IReadOnlyList<string[]> unrelatedPool)
    {
        ArgumentNullException.ThrowIfNull(unrelatedPool);
        if (unrelatedPool.Count < 2) throw new ArgumentException("The unrelated-sentence pool needs at least 2 sentences.", nameof(unrelatedPool));
        _pool = unrelatedPool;
        Rules = new[]
        {
            new PairRule("drop_modifier", 1, "delete an intensifier or -ly adverb (only when the sentence has no negation, where deletion is not monotone)", DropModifier),
            new PairRule("drop_clause", 1, "keep only the main clause before 'but', 'because', 'although', ... or a comma + 'and'", DropClause),
            new PairRule("expand_contraction", 1, "expand a contraction (don't -> do not, it's -> it is)", ExpandContraction),
            new PairRule("number_at_least", 1, "a number n becomes 'at least n'", NumberAtLeast),
            new PairRule("all_to_some", 1, "'all' becomes 'some' (no negation in the sentence)", AllToSome),
            new PairRule("insert_negation", 0, "insert 'not' after the first auxiliary (is, was, will, can, ...)", InsertNegation),
            new PairRule("remove_negation", 0, "remove 'not'/'never' or un-negate a contraction (don't -> do)", RemoveNegation),
            new PairRule("comparative_swap", 0, "swap a comparative for its opposite (better <-> worse, more <-> less)", (t, _) => Swap(t, ComparativePairs)),
            new PairRule("antonym_swap", 0, "swap an evaluative word for its antonym (good <-> bad, love <-> hate)", (t, _) => Swap(t, Antonyms)),
            new PairRule("number_change", 0, "change a number (n -> n + 1..5, or another number word)", NumberChange),
            new PairRule("temporal_swap", 0, "swap 'before' and 'after'", (t, _) => Swap(t, TemporalPairs)),
            new PairRule("with_without", 0, "swap 'with' and 'without'", WithWithout),
            new PairRule("quantifier_to_none", 0, "'some' or 'all' becomes 'no'", QuantifierToNone),
            new PairRule("unrelated", 0, "a sentence from another review", Unrelated),
        };
    }

    /// <summary>The rules, entailment rules first.</summary>
    public IReadOnlyList<PairRule> Rules { get; }

    public PairRule Rule(string name) => Rules.Single(r => r.Name == name);

    /// <summary>
    /// Splits reviews into sentences usable as premises: 6 to 40 words, no question.
    /// Returned as token arrays (lowercase words and punctuation, sentence-final mark kept).
    /// </summary>
    public static IReadOnlyList<string[]> Sentences(IEnumerable<Review> reviews)
    {
        var result = new List<string[]>();
        foreach (var r in reviews)
        {
            var current = new List<string>();
            foreach (var t in r.Parsed.Tokens)
            {
                current.Add(t);
                if (t is "." or "!" or "?")
                {
                    Keep(current);
                    current = new List<string>();
                }
            }
            Keep(current);
        }
        return result;

        void Keep(List<string> s)
        {
            int words = s.Count(ParsedText.IsWord);
            if (words >= 6 && words <= 40 && !s.Contains("?")) result.Add(s.ToArray());
        }
    }

    /// <summary>Makes at most one pair per premise (premises that no rule of the chosen label fits are skipped), seeded.</summary>
    public IReadOnlyList<SentencePair> Generate(IReadOnlyList<string[]> premises, int seed)
    {
        ArgumentNullException.ThrowIfNull(premises);
        var random = new Random(seed);
        var pairs = new List<SentencePair>(premises.Count);
        int[] counts = new int[2];
        foreach (var premise in premises)
        {
            // The label that is behind so far (ties drawn at random), so the pairs stay 50/50 even though
            // entailment rules fit fewer premises than not-entailment ones (the unrelated rule fits all).
            int label = counts[1] == counts[0] ? random.Next(2) : counts[1] < counts[0] ? 1 : 0;
            // A premise no rule of that label fits is skipped.
            SentencePair? pair = TryLabel(premise, label, random);
            if (pair is not null) counts[pair.Label]++;
            if (pair is not null) pairs.Add(pair);
        }
        return pairs;
    }

    private SentencePair? TryLabel(string[] premise, int label, Random random)
    {
        var candidates = Rules.Where(r => r.Label == label).OrderBy(_ => random.Next()).ToArray();
        foreach (var rule in candidates)
        {
            var hypothesis = rule.Apply(premise, random);
            if (hypothesis is not null && !hypothesis.SequenceEqual(premise))
                return new SentencePair(ParsedText.Join(premise), ParsedText.Join(hypothesis), rule.Label, rule.Name);
        }
        return null;
    }

    private static bool HasNegation(string[] t) => t.Any(w => NegationTokens.Contains(w) || w.EndsWith("n't", StringComparison.Ordinal));

    private static int[] Positions(string[] t, Func<string, bool> test) => Enumerable.Range(0, t.Length).Where(i => test(t[i])).ToArray();

    private static T Pick<T>(T[] items, Random random) => items[random.Next(items.Length)];

    private static string[] Replace(string[] t, int index, params string[] with) => t[..index].Concat(with).Concat(t[(index + 1)..]).ToArray();

    private static string[]? DropModifier(string[] t, Random random)
    {
        if (HasNegation(t)) return null;
        var at = Positions(t, w => Intensifiers.Contains(w)
            || (w.Length >= 5 && w.EndsWith("ly", StringComparison.Ordinal) && !PosHeuristic.LyNonAdverbs.Contains(w)));
        return at.Length == 0 ? null : Replace(t, Pick(at, random));
    }

    private static string[]? DropClause(string[] t, Random random)
    {
        for (int i = 4; i < t.Length - 2; i++)
        {
            bool clause = ClauseConjunctions.Contains(t[i]) || (t[i] == "and" && t[i - 1] == ",");
            if (!clause) continue;
            int end = t[i - 1] == "," ? i - 1 : i;
            if (t[..end].Count(ParsedText.IsWord) < 4) continue;
            return t[..end].Append(".").ToArray();
        }
        return null;
    }

    private static string[]? ExpandContraction(string[] t, Random random)
    {
        var at = Positions(t, Contractions.ContainsKey);
        return at.Length == 0 ? null : Replace(t, at[0], Contractions[t[at[0]]]);
    }

    private static bool IsNumber(string w) => w.All(char.IsDigit) || NumberWords.Contains(w);

    private static string[]? NumberAtLeast(string[] t, Random random)
    {
        var at = Positions(t, IsNumber).Where(i => i == 0 || t[i - 1] is not ("only" or "than" or "about" or "least" or "most" or "under" or "over")).ToArray();
        if (at.Length == 0) return null;
        int i = Pick(at, random);
        return Replace(t, i, "at", "least", t[i]);
    }

    private static string[]? NumberChange(string[] t, Random random)
    {
        var at = Positions(t, IsNumber);
        if (at.Length == 0) return null;
        int i = Pick(at, random);
        string w = t[i];
        string changed = w.All(char.IsDigit) && long.TryParse(w, out long n)
            ? (n + 1 + random.Next(5)).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : Pick(NumberWords.Where(x => x != w).ToArray(), random);
        return Replace(t, i, changed);
    }

    private static string[]? AllToSome(string[] t, Random random)
    {
        if (HasNegation(t)) return null;
        var at = Positions(t, w => w == "all");
        if (at.Length == 0) return null;
        int i = Pick(at, random);
        // "all the cookies" -> "some of the cookies"; "all of them" -> "some of them".
        return i + 1 < t.Length && Determiners.Contains(t[i + 1]) ? Replace(t, i, "some", "of") : Replace(t, i, "some");
    }

    private static string[]? QuantifierToNone(string[] t, Random random)
    {
        var at = Positions(t, w => w is "some" or "all").Where(i => i + 1 < t.Length && ParsedText.IsWord(t[i + 1]) && t[i + 1] != "of" && !Determiners.Contains(t[i + 1])).ToArray();
        return at.Length == 0 ? null : Replace(t, Pick(at, random), "no");
    }

    private static string[]? InsertNegation(string[] t, Random random)
    {
        for (int i = 0; i < t.Length - 1; i++)
        {
            if (Auxiliaries.Contains(t[i]) && t[i + 1] is not ("not" or "never" or "no") && ParsedText.IsWord(t[i + 1]))
                return Replace(t, i, t[i], "not");
        }
        return null;
    }

    private static string[]? RemoveNegation(string[] t, Random random)
    {
        var at = Positions(t, w => w is "not" or "never" || Positive.ContainsKey(w));
        if (at.Length == 0) return null;
        int i = Pick(at, random);
        return Positive.TryGetValue(t[i], out var positive) ? Replace(t, i, positive) : Replace(t, i);
    }

    private static string[]? Swap(string[] t, Dictionary<string, string> pairs)
    {
        var at = Positions(t, pairs.ContainsKey);
        return at.Length == 0 ? null : Replace(t, at[0], pairs[t[at[0]]].Split(' '));
    }

    private static string[]? WithWithout(string[] t, Random random)
    {
        var at = Positions(t, w => w is "with" or "without");
        return at.Length == 0 ? null : Replace(t, at[0], t[at[0]] == "with" ? "without" : "with");
    }

    private string[]? Unrelated(string[] t, Random random)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var other = _pool[random.Next(_pool.Count)];
            if (!other.SequenceEqual(t)) return other;
        }
        return null;
    }

    private static Dictionary<string, string> Symmetric(params (string A, string B)[] pairs)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (a, b) in pairs)
        {
            d.TryAdd(a, b);
            d.TryAdd(b, a);
        }
        return d;
    }
}
