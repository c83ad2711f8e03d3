using SliceLearning.Models;

namespace SliceLearning.Tests.Docs;

/// <summary>docs/api.md lists the public API: a new public type fails this test until it is listed there.</summary>
public sealed class ApiDocsTests
{
    [Fact]
    public void EveryPublicType_IsListedInDocsApi()
    {
        string api = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "api.md"));
        var missing = typeof(ITrainableModel).Assembly.GetExportedTypes()
            .Select(t => t.Name.Split('`')[0])
            .Distinct()
            .Where(name => !api.Contains("`" + name + "`", StringComparison.Ordinal) && !api.Contains("`" + name + "<", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.True(missing.Length == 0, "Public types missing from docs/api.md (after a build, python3 scripts/api-docs.py regenerates it): " + string.Join(", ", missing));
    }

    [Fact]
    public void DocsApi_ListsNoTypeThatIsNotPublic()
    {
        string api = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "api.md"));
        var exported = typeof(ITrainableModel).Assembly.GetExportedTypes().Select(t => t.Name.Split('`')[0]).ToHashSet(StringComparer.Ordinal);
        var listed = System.Text.RegularExpressions.Regex.Matches(api, @"^\| `([A-Za-z0-9_]+)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value);
        Assert.All(listed, name => Assert.Contains(name, exported));
    }
}
