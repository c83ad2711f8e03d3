using SliceLearning.Slicing;

namespace TextSamples.Tests;

public class SlicingFunctionTests
{
    private static readonly SliceSet<Review> CoLa = CoLaSlices.Create();
    private static readonly SliceSet<SentencePair> Rte = RteSlices.Create();

    private static bool InSlice(string slice, string text)
    {
        var matrix = CoLa.Apply(new[] { new Review("p", text, 1) });
        return matrix[0, matrix.IndexOf(slice)];
    }

    private static bool InPairSlice(string slice, string premise, string hypothesis)
    {
        var matrix = Rte.Apply(new[] { new SentencePair(premise, hypothesis, 1, "test") });
        return matrix[0, matrix.IndexOf(slice)];
    }

    [Theory]
    [InlineData("where", "I don't know where they source the beans.", true)]
    [InlineData("where", "Somewhere in the box was a note.", false)]
    [InlineData("who", "Anyone who likes tea will enjoy it.", true)]
    [InlineData("what", "What a great snack!", true)]
    [InlineData("when", "When it arrived the bag was torn.", true)]
    [InlineData("when", "The whenever trick.", false)]
    [InlineData("multiple_articles", "The dog ate the treat.", true)]
    [InlineData("multiple_articles", "A dog ate a treat.", true)]
    [InlineData("multiple_articles", "The dog ate a treat. The cat slept.", false)]
    [InlineData("and", "Sweet and crunchy.", true)]
    [InlineData("but", "Tasty but expensive.", true)]
    [InlineData("or", "Tea or coffee.", true)]
    [InlineData("or", "Good for you.", false)]
    [InlineData("short_sentence", "Love it. I will buy this coffee again next month.", true)]
    [InlineData("short_sentence", "I will buy this coffee again next month.", false)]
    [InlineData("ends_with_verb", "This is the best tea I have ever tasted.", true)]
    [InlineData("ends_with_verb", "I would not recommend.", true)]
    [InlineData("ends_with_verb", "Great coffee.", false)]
    [InlineData("ends_with_adverb", "It arrived quickly.", true)]
    [InlineData("ends_with_adverb", "We will order it again!", true)]
    [InlineData("ends_with_adverb", "My family loved it. The whole family.", false)]
    [InlineData("question", "Why would anyone buy this?", true)]
    [InlineData("question", "Nobody asked.", false)]
    [InlineData("negation", "It doesn't taste fresh.", true)]
    [InlineData("negation", "Never again.", true)]
    [InlineData("negation", "Nice and fresh.", false)]
    [InlineData("exclamation", "Wow!", true)]
    [InlineData("short_review", "Tastes great, my kids love it.", true)]
    public void CoLaAndReviewSlices(string slice, string text, bool expected) => Assert.Equal(expected, InSlice(slice, text));

    [Fact]
    public void LongReviewNeedsMoreThan150Words()
    {
        Assert.True(InSlice("long_review", string.Join(' ', Enumerable.Repeat("tasty", 151))));
        Assert.False(InSlice("long_review", string.Join(' ', Enumerable.Repeat("tasty", 150))));
        Assert.False(InSlice("short_review", string.Join(' ', Enumerable.Repeat("tasty", 20))));
    }

    [Fact]
    public void CoLaSetHasThePaperSlicesAndTheReviewSlices()
    {
        Assert.Equal(new[] { "base", "where", "who", "what", "when", "multiple_articles", "and", "but", "or", "short_sentence", "ends_with_verb", "ends_with_adverb",
            "question", "negation", "exclamation", "long_review", "short_review" }, CoLa.SliceNames);
    }

    [Theory]
    [InlineData("temporal_preposition", "we ate it after dinner .", "we ate it .", true)]
    [InlineData("temporal_preposition", "we ate it at dinner .", "we ate it .", false)]
    [InlineData("possessive_preposition", "tea with milk is nice .", "tea is nice .", true)]
    [InlineData("possessive_preposition", "it was inside of the box .", "it was there .", true)]
    [InlineData("possessive_preposition", "without milk it is bitter .", "it is bitter .", false)]
    [InlineData("comparative", "this is better than the old one .", "this is good .", true)]
    [InlineData("quantification", "all the bags were fresh .", "the bags were fresh .", true)]
    [InlineData("quantification", "the bags were fresh .", "the bags were fresh .", false)]
    [InlineData("quantification_hypothesis", "all the bags were fresh .", "the bags were fresh .", false)]
    [InlineData("quantification_hypothesis", "the bags were fresh .", "some bags were fresh .", true)]
    [InlineData("negation", "it doesn't taste good .", "it tastes good .", true)]
    [InlineData("negation", "it does not taste good .", "it tastes good .", true)]
    [InlineData("negation", "it hardly tastes of anything .", "it tastes .", true)]
    [InlineData("negation", "it tastes good .", "it is nice .", false)]
    [InlineData("short_hypothesis", "the coffee is strong and smooth .", "it is strong .", true)]
    [InlineData("short_hypothesis", "the coffee is strong and smooth .", "the coffee is very strong .", false)]
    [InlineData("short_premise", "the coffee is strong and smooth .", "it is strong .", true)]
    public void RtePairSlices(string slice, string premise, string hypothesis, bool expected) => Assert.Equal(expected, InPairSlice(slice, premise, hypothesis));

    [Fact]
    public void LongPremiseAndHypothesis()
    {
        string longText = string.Join(' ', Enumerable.Repeat("good", 26));
        Assert.True(InPairSlice("long_premise", longText, "ok ."));
        Assert.True(InPairSlice("long_hypothesis", "ok .", longText));
        Assert.False(InPairSlice("long_premise", "ok .", longText));
    }

    [Theory]
    [InlineData("i would buy", CoarsePos.Verb)]
    [InlineData("highly recommended", CoarsePos.Verb)]
    [InlineData("it was disappointed", CoarsePos.Verb)]
    [InlineData("it arrived quickly", CoarsePos.Adverb)]
    [InlineData("i love it too", CoarsePos.Adverb)]
    [InlineData("my whole family", CoarsePos.Other)]
    [InlineData("great coffee", CoarsePos.Other)]
    [InlineData("you the best", CoarsePos.Other)]
    public void PosHeuristicTagsTheLastWord(string words, CoarsePos expected)
    {
        var w = words.Split(' ');
        Assert.Equal(expected, PosHeuristic.Tag(w, w.Length - 1));
    }

    [Fact]
    public void ParsedTextSplitsSentencesAndKeepsContractions()
    {
        var t = new ParsedText("I don't like it. Not at ALL! Why?");
        Assert.Equal(3, t.Sentences.Count);
        Assert.Contains("don't", t.Words);
        Assert.Equal("i don't like it. not at all! why?", ParsedText.Join(t.Tokens));
        Assert.Equal("Great. Tea", TextCleaning.Clean("Great.<br /><br />Tea "));
    }
}
