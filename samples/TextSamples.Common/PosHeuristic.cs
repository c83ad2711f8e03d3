namespace TextSamples;

/// <summary>The coarse part-of-speech classes the paper's CoLA SFs ask for.</summary>
public enum CoarsePos
{
    Other = 0,
    Verb,
    Adverb,
}

/// <summary>
/// A documented part-of-speech heuristic for the paper's "ends with a verb / an adverb" SFs. The paper
/// tags with spaCy's en_core_web_sm; no English tagger is available to .NET here without downloading a
/// model, so this uses closed word lists, suffixes and the left neighbour:
/// <list type="bullet">
/// <item>Adverb: a listed adverb (too, also, well, again, ...), or a word of 5+ letters ending in "ly"
/// that is not a listed -ly adjective or noun (family, friendly, lovely, ...).</item>
/// <item>Verb: a listed verb form (auxiliaries, modals, and frequent review verbs such as recommend,
/// buy, taste, like), or any word right after a modal, "to", a subject pronoun, "not" or a negated
/// auxiliary (would <i>buy</i>, to <i>eat</i>, I <i>ordered</i>, don't <i>bother</i>), or a word ending in
/// "ed" right after a form of be/have/get (was <i>disappointed</i>).</item>
/// <item>Everything else: Other.</item>
/// </list>
/// It is a slice heuristic, like the SFs themselves, not a tagger: it errs on words that are both
/// nouns and verbs ("love", "order") when they have no telling neighbour.
/// </summary>
public static class PosHeuristic
{
    internal static readonly HashSet<string> Adverbs = new(StringComparer.Ordinal)
    {
        "too", "also", "well", "again", "very", "now", "then", "here", "there", "soon", "often", "always", "never", "ever",
        "yet", "still", "already", "enough", "anymore", "though", "instead", "away", "back", "today", "tomorrow", "yesterday",
        "later", "together", "else", "anyway", "almost", "quite", "rather", "much", "so", "just", "even", "far", "fast",
        "hard", "once", "twice", "alone", "indeed", "perhaps", "maybe", "forever", "anywhere", "everywhere", "somewhere",
        "nowhere", "ahead", "around", "before", "afterwards", "otherwise", "anyhow", "overall", "regularly",
    };

    internal static readonly HashSet<string> LyNonAdverbs = new(StringComparer.Ordinal)
    {
        "family", "friendly", "lovely", "ugly", "early", "daily", "weekly", "monthly", "yearly", "oily", "jelly", "belly",
        "reply", "supply", "apply", "fly", "july", "italy", "holy", "silly", "curly", "chilly", "costly", "deadly",
        "elderly", "lonely", "lively", "smelly", "only", "likely", "unlikely", "bully", "rally", "ally", "lily", "assembly",
        "butterfly", "comply", "rely", "bubbly", "crumbly", "wobbly", "prickly", "jolly", "burly", "manly", "homely",
        "orderly", "timely", "kindly", "sickly", "sly", "wily", "melly", "nelly", "kelly", "molly", "sally", "billy",
    };

    internal static readonly HashSet<string> VerbForms = new(StringComparer.Ordinal)
    {
        "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "have", "has", "had",
        "go", "goes", "went", "gone", "get", "gets", "got", "gotten", "make", "makes", "made", "recommend", "recommended",
        "buy", "buys", "bought", "try", "tried", "eat", "ate", "eaten", "taste", "tastes", "tasted", "like", "likes", "liked",
        "love", "loves", "loved", "enjoy", "enjoyed", "need", "needs", "needed", "want", "wants", "wanted", "use", "used",
        "work", "works", "worked", "know", "knew", "known", "think", "thought", "say", "said", "see", "saw", "seen", "order",
        "ordered", "expect", "expected", "disappoint", "disappointed", "arrive", "arrived", "help", "helps", "helped",
        "find", "found", "keep", "kept", "drink", "drank", "hate", "hated", "return", "returned", "stop", "stopped",
        "stay", "stayed", "agree", "agreed", "happen", "happened", "notice", "noticed", "mention", "mentioned",
        "describe", "described", "advertise", "advertised", "purchase", "purchased", "continue", "continued",
    };

    internal static readonly HashSet<string> Modals = new(StringComparer.Ordinal)
    {
        "will", "would", "can", "could", "shall", "should", "may", "might", "must", "to", "not", "don't", "doesn't",
        "didn't", "won't", "wouldn't", "can't", "couldn't", "shouldn't", "i", "you", "we", "they", "he", "she",
        "i'll", "we'll", "you'll", "they'll", "please", "let's",
    };

    internal static readonly HashSet<string> BeHaveGet = new(StringComparer.Ordinal)
    {
        "is", "are", "was", "were", "be", "been", "being", "am", "has", "have", "had", "get", "got", "gets", "getting",
    };

    private static readonly HashSet<string> NotVerbsAfterPronoun = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "and", "or", "but", "too", "also", "all", "both", "it", "this", "that", "them", "so",
    };

    /// <summary>Tags <paramref name="words"/>[<paramref name="index"/>] (lowercase words without punctuation).</summary>
    public static CoarsePos Tag(IReadOnlyList<string> words, int index)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, words.Count);
        string w = words[index];
        string? previous = index > 0 ? words[index - 1] : null;
        if (Adverbs.Contains(w)) return CoarsePos.Adverb;
        if (w.Length >= 5 && w.EndsWith("ly", StringComparison.Ordinal) && !LyNonAdverbs.Contains(w)) return CoarsePos.Adverb;
        if (VerbForms.Contains(w)) return CoarsePos.Verb;
        if (previous is not null && Modals.Contains(previous) && !NotVerbsAfterPronoun.Contains(w) && char.IsLetter(w[0])) return CoarsePos.Verb;
        if (previous is not null && BeHaveGet.Contains(previous) && w.Length > 3 && w.EndsWith("ed", StringComparison.Ordinal)) return CoarsePos.Verb;
        return CoarsePos.Other;
    }

    /// <summary>The tag of the last word of the last sentence, or Other for an empty text.</summary>
    public static CoarsePos LastWord(ParsedText text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Sentences.Count == 0) return CoarsePos.Other;
        var last = text.Sentences[^1];
        return Tag(last, last.Length - 1);
    }
}
