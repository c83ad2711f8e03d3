using SliceLearning.Slicing;

namespace TextSamples;

/// <summary>
/// The paper's CoLA SFs (appendix A1.3) written over a review, plus slices that matter for reviews.
/// Words are matched as whole lowercase words (the paper's Python tests substrings, so its "or" also
/// fires on "for"); SFs the paper defines for one sentence fire when any sentence of the review
/// qualifies (multiple articles, short sentence) or look at the review's last sentence (ends with a
/// verb / an adverb, tagged by <see cref="PosHeuristic"/>).
/// </summary>
public static class CoLaSlices
{
    public static SliceSet<Review> Create() => SliceSet.For<Review>()
        // Wh-words (the paper drops why and how for lack of examples).
        .Add("where", r => r.Parsed.Has("where"))
        .Add("who", r => r.Parsed.Has("who"))
        .Add("what", r => r.Parsed.Has("what"))
        .Add("when", r => r.Parsed.Has("when"))
        // Definite-indefinite articles: a sentence repeats the same article.
        .Add("multiple_articles", r => r.Parsed.Sentences.Any(HasRepeatedArticle))
        // Coordinating conjunctions.
        .Add("and", r => r.Parsed.Has("and"))
        .Add("but", r => r.Parsed.Has("but"))
        .Add("or", r => r.Parsed.Has("or"))
        // End of sentence: short sentences, last word a verb / an adverb.
        .Add("short_sentence", r => r.Parsed.Sentences.Any(s => s.Length < 5))
        .Add("ends_with_verb", r => PosHeuristic.LastWord(r.Parsed) == CoarsePos.Verb)
        .Add("ends_with_adverb", r => PosHeuristic.LastWord(r.Parsed) == CoarsePos.Adverb)
        // Slices of this data (data.md): questions, negation, exclamations, long and short reviews.
        .Add("question", r => r.Text.Contains('?', StringComparison.Ordinal))
        .Add("negation", r => IsNegated(r.Parsed))
        .Add("exclamation", r => r.Text.Contains('!', StringComparison.Ordinal))
        .Add("long_review", r => r.Parsed.Words.Count > 150)
        .Add("short_review", r => r.Parsed.Words.Count < 20)
        .Build();

    internal static bool HasRepeatedArticle(string[] sentence) =>
        sentence.Count(w => w == "a") > 1 || sentence.Count(w => w == "an") > 1 || sentence.Count(w => w == "the") > 1;

    internal static readonly string[] NegationWords = { "not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "nowhere" };

    internal static bool IsNegated(ParsedText t) => t.HasAny(NegationWords) || t.Words.Any(w => w.EndsWith("n't", StringComparison.Ordinal));
}

/// <summary>
/// The paper's RTE SFs (appendix A1.4) over premise/hypothesis pairs, as whole-word matches. The
/// paper's length thresholds (short hypothesis &lt; 5 words, short premise &lt; 15; long &gt; 100) are
/// for RTE's news paragraphs; review sentences are never 100 words long, so "long" is &gt; 20 words
/// for a hypothesis and &gt; 25 for a premise here.
/// </summary>
public static class RteSlices
{
    internal static readonly string[] Temporal = { "after", "before", "past" };
    internal static readonly string[] Comparatives = { "more", "less", "better", "worse", "bigger", "smaller" };
    internal static readonly string[] Quantifiers = { "all", "some", "none" };

    /// <summary>The paper's list (grammarly.com's negatives), apostrophes removed before matching.</summary>
    internal static readonly string[] Negations =
    {
        "no", "not", "none", "nobody", "nothing", "neither", "nowhere", "never", "hardly", "scarcely", "barely",
        "doesnt", "isnt", "wasnt", "shouldnt", "wouldnt", "couldnt", "wont", "cant", "dont",
    };

    public static SliceSet<SentencePair> Create() => SliceSet.For<SentencePair>()
        .Add("temporal_preposition", p => Either(p, t => t.HasAny(Temporal)))
        .Add("possessive_preposition", p => Either(p, t => t.HasPhrase("inside of") || t.Has("with") || t.Has("within")))
        .Add("comparative", p => Either(p, t => t.HasAny(Comparatives)))
        .Add("quantification", p => Either(p, t => t.HasAny(Quantifiers)))
        .Add("quantification_hypothesis", p => p.Hypothesis.HasAny(Quantifiers))
        .Add("negation", p => Either(p, HasNegation))
        .Add("short_hypothesis", p => p.Hypothesis.Words.Count < 5)
        .Add("long_hypothesis", p => p.Hypothesis.Words.Count > 20)
        .Add("short_premise", p => p.Premise.Words.Count < 15)
        .Add("long_premise", p => p.Premise.Words.Count > 25)
        .Build();

    internal static bool HasNegation(ParsedText t) =>
        t.Words.Any(w => Negations.Contains(w.Replace("'", "", StringComparison.Ordinal), StringComparer.Ordinal));

    private static bool Either(SentencePair p, Func<ParsedText, bool> test) => test(p.Premise) || test(p.Hypothesis);
}
