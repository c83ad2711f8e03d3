using SliceLearning.Backbones.Text;

namespace SliceLearning.Backbones.Tests.Text;

/// <summary>Token ids against known bert-base-uncased ids (the MiniLM package embeds that vocabulary).</summary>
[Collection("Sequential")]
public sealed class WordPieceTokenizerTests
{
    private static WordPieceTokenizer Tok => MiniLmParityTests.Tokenizer.Value;

    [Theory]
    [InlineData("A cyclist crosses the road.", new long[] { 101, 1037, 14199, 7821, 1996, 2346, 1012, 102 })]
    [InlineData("i like strawberries", new long[] { 101, 1045, 2066, 13137, 20968, 102 })]
    [InlineData("The quick brown fox jumped over the lazy dog!", new long[] { 101, 1996, 4248, 2829, 4419, 5598, 2058, 1996, 13971, 3899, 999, 102 })]
    public void Encode_GivesKnownBertIds(string text, long[] expected)
    {
        var e = Tok.Encode(text);
        Assert.Equal(expected, e.Ids);
        Assert.All(e.AttentionMask, m => Assert.Equal(1L, m));
        Assert.All(e.TokenTypes, t => Assert.Equal(0L, t));
    }

    [Fact]
    public void Vocabulary_IsBertBaseUncased()
    {
        Assert.Equal(30522, Tok.VocabularySize);
        // "unaffable" -> una ##ffa ##ble in bert-base-uncased.
        Assert.Equal(4, Tok.Encode("Unaffable").Ids.Length - 1);
    }

    [Theory]
    [InlineData("Zoë's café — naïve", "zoe's cafe — naive")] // accents stripped, as uncased BERT does
    [InlineData("Bikes\tparked\nhere", "bikes parked here")] // tab and newline are whitespace
    [InlineData("It costs $5 + 3 = 8 <ok>", "it costs $ 5 + 3 = 8 < ok >")] // symbols are split, not dropped
    public void Normalization_MatchesUncasedBert(string raw, string normalized)
    {
        Assert.Equal(Tok.Encode(normalized).Ids, Tok.Encode(raw).Ids);
        Assert.DoesNotContain(100L, Tok.Encode(raw).Ids); // no [UNK]
    }

    [Fact]
    public void EncodePair_BuildsClsASepBSep_WithTokenTypes()
    {
        var e = Tok.EncodePair("i like strawberries", "the lazy dog!");
        Assert.Equal(new long[] { 101, 1045, 2066, 13137, 20968, 102, 1996, 13971, 3899, 999, 102 }, e.Ids);
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 }, e.TokenTypes);
        Assert.Equal(11, e.TokenCount);
    }

    [Fact]
    public void EncodePair_TruncatesLongestFirst()
    {
        // 10 pieces + 4 pieces into 10 tokens: 7 pieces fit; the longer loses 6, then the tie goes to the second.
        var e = Tok.EncodePair("The quick brown fox jumped over the lazy dog!", "i like strawberries", maxLength: 10);
        Assert.Equal(new long[] { 101, 1996, 4248, 2829, 4419, 102, 1045, 2066, 13137, 102 }, e.Ids);
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 }, e.TokenTypes);
    }

    [Fact]
    public void Encode_TruncatesAndEndsWithSep_AndPads()
    {
        var e = Tok.Encode("The quick brown fox jumped over the lazy dog!", maxLength: 5, padTo: 8);
        Assert.Equal(new long[] { 101, 1996, 4248, 2829, 102, 0, 0, 0 }, e.Ids);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 0, 0, 0 }, e.AttentionMask);
    }

    [Fact]
    public void EncodeBatch_PadsToLongest_AsIdsMaskTypes()
    {
        using var t = Tok.EncodeBatch(new[] { "i like strawberries", "A cyclist crosses the road." });
        Assert.Equal(new long[] { 2, 3, 8 }, t.shape);
        Assert.Equal(new long[] { 101, 1045, 2066, 13137, 20968, 102, 0, 0 }, t[0, 0].data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }, t[0, 1].data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 1 }, t[1, 1].data<long>().ToArray());
        Assert.Equal(new long[8], t[1, 2].data<long>().ToArray());
    }

    [Fact]
    public void TooSmallMaxLength_IsRejected()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Tok.EncodePair("a", "b", maxLength: 2));
        Assert.Equal("maxLength", ex.ParamName);
    }

    [Fact]
    public void VocabularyWithoutSpecialTokens_IsRejected()
    {
        var ex = Assert.Throws<InvalidDataException>(() => WordPieceTokenizer.FromVocabulary("hello\nworld\n"));
        Assert.Contains("[CLS]", ex.Message);
    }
}
