using System.Text.RegularExpressions;

namespace TextSamples;

/// <summary>
/// A text split once into lowercase tokens and sentences, so that slicing functions do not re-tokenize.
/// Tokens: words (with an apostrophe part, e.g. "don't", "it's"), numbers, and the punctuation
/// marks . , ! ? ; : as tokens of their own.
/// </summary>
public sealed partial class ParsedText
{
    [GeneratedRegex(@"[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)?|[.,!?;:]", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();

    public ParsedText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Text = text;
        Tokens = TokenPattern().Matches(text.ToLowerInvariant().Replace('\u2019', '\'')).Select(m => m.Value).ToArray();
        Words = Tokens.Where(IsWord).ToArray();
        WordSet = Words.ToHashSet(StringComparer.Ordinal);
        var sentences = new List<string[]>();
        var current = new List<string>();
        foreach (var t in Tokens)
        {
            if (t is "." or "!" or "?")
            {
                if (current.Count > 0) sentences.Add(current.ToArray());
                current.Clear();
            }
            else if (IsWord(t))
            {
                current.Add(t);
            }
        }
        if (current.Count > 0) sentences.Add(current.ToArray());
        Sentences = sentences;
    }

    /// <summary>The original text.</summary>
    public string Text { get; }

    /// <summary>All tokens, lowercase, punctuation included.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The word and number tokens (no punctuation).</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>The distinct words.</summary>
    public IReadOnlySet<string> WordSet { get; }

    /// <summary>Sentences (split at . ! ?) as word lists, punctuation removed.</summary>
    public IReadOnlyList<string[]> Sentences { get; }

    public bool Has(string word) => WordSet.Contains(word);

    public bool HasAny(IEnumerable<string> words) => words.Any(WordSet.Contains);

    /// <summary>True when the word sequence <paramref name="phrase"/> (space-separated) occurs.</summary>
    public bool HasPhrase(string phrase)
    {
        var parts = phrase.Split(' ');
        for (int i = 0; i + parts.Length <= Words.Count; i++)
        {
            bool match = true;
            for (int j = 0; j < parts.Length && match; j++) match = Words[i + j] == parts[j];
            if (match) return true;
        }
        return false;
    }

    public static bool IsWord(string token) => token.Length > 0 && char.IsLetterOrDigit(token[0]);

    /// <summary>Joins tokens back into text: a space between tokens, none before punctuation.</summary>
    public static string Join(IEnumerable<string> tokens)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var t in tokens)
        {
            if (sb.Length > 0 && IsWord(t)) sb.Append(' ');
            sb.Append(t);
        }
        return sb.ToString();
    }

    public override string ToString() => Text;
}

/// <summary>Text clean-up for the fine-food reviews.</summary>
public static partial class TextCleaning
{
    [GeneratedRegex(@"<br\s*/?>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LineBreak();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>Replaces HTML line breaks by spaces and collapses runs of white space.</summary>
    public static string Clean(string text) => Spaces().Replace(LineBreak().Replace(text, " "), " ").Trim();
}
