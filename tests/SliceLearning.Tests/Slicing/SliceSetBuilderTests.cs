using SliceLearning.Slicing;

namespace SliceLearning.Tests.Slicing;

public sealed class SliceSetBuilderTests
{
    [Fact]
    public void NoSfs_IsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => SliceSet.For<string>().Build());
        Assert.Contains("needs at least one slicing function", ex.Message);
    }

    [Theory]
    [InlineData("", "has an empty name")]
    [InlineData("base", "reserved for the base slice")]
    [InlineData("BASE", "reserved for the base slice")]
    [InlineData("has space", "works as a file and column name")]
    [InlineData("a/b", "works as a file and column name")]
    [InlineData(".hidden", "works as a file and column name")]
    public void BadName_IsRejected_WithItsReason(string name, string reason)
    {
        var ex = Assert.Throws<ArgumentException>(() => SliceSet.For<string>().Add("ok", _ => true).Add(name, _ => true).Build());
        Assert.Contains("SF #1", ex.Message);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void DuplicateNames_AreRejected_IgnoringCase_AndAllProblemsListed()
    {
        var ex = Assert.Throws<ArgumentException>(() => SliceSet.For<string>()
            .Add("question", s => s.EndsWith('?')).Add("Question", _ => true).Add("", _ => true).Build());
        Assert.Contains("SF #1 is named 'Question', like an earlier SF", ex.Message);
        Assert.Contains("SF #2 has an empty name", ex.Message);
    }

    [Fact]
    public void BuiltBuilder_RejectsMoreSfs()
    {
        var builder = SliceSet.For<string>().Add("q", s => s.EndsWith('?'));
        builder.Build();
        Assert.Throws<InvalidOperationException>(() => builder.Add("x", _ => true));
    }

    [Fact]
    public void SliceSet_ExposesNamesAndSfs()
    {
        var set = SliceSet.For<string>().Add("question", s => s.EndsWith('?')).Add("short", s => s.Length < 5).Build();
        Assert.Equal(2, set.Count);
        Assert.Equal(new[] { "base", "question", "short" }, set.SliceNames);
        Assert.True(set[0].IsMember("why?"));
        Assert.Equal(new[] { "question", "short" }, set.Select(f => f.Name));
        var matrix = set.Apply(new[] { "why?", "a long statement.", "hi" });
        Assert.Equal(new[] { 0 }, matrix.Members(1));
        Assert.Equal(new[] { 0, 2 }, matrix.Members(2));
    }
}
