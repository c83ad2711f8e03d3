using Xunit.Abstractions;

namespace SliceLearning.Tests.Runtime;

/// <summary>
/// Keeps the library free of temporary TorchSharp Scalars (see Runtime/ScalarMath.cs): TorchSharp 0.107
/// frees a Scalar's native value in its finalizer, so a garbage collection during a native call can
/// free a temporary one libtorch is still reading (an intermittent "toFloat" crash).
/// </summary>
public sealed class ScalarSafetyTests(ITestOutputHelper output)
{
    [Fact]
    public void TorchSharpScan_FindsHiddenAlphasAndNumberOperators_AndNotScalarFreeOps()
    {
        var names = ScalarSafetyAnalysis.TorchSharpImplicitScalarCreators.Values.ToHashSet();
        output.WriteLine($"{names.Count} TorchSharp methods create a temporary Scalar");
        string[] creators =
        {
            "TorchSharp.torch+Tensor.add(Tensor)",               // hidden alpha = 1
            "TorchSharp.torch+Tensor.op_Addition(Tensor, Tensor)",
            "TorchSharp.torch+Tensor.op_Division(Tensor, Double)", // the double becomes a Scalar inside
            "TorchSharp.torch+Tensor.op_Multiply(Double, Tensor)",
            "TorchSharp.torch+nn+functional.softplus(Tensor, Double, Double)",
            "TorchSharp.Modules.BatchNorm.forward(Tensor)",
        };
        string[] safe =
        {
            "TorchSharp.torch+Tensor.add(Tensor, Scalar)",
            "TorchSharp.torch+Tensor.op_Multiply(Tensor, Tensor)",
            "TorchSharp.torch+Tensor.op_Subtraction(Tensor, Tensor)",
            "TorchSharp.torch+Tensor.matmul(Tensor)",
            "TorchSharp.torch+Tensor.mul(Scalar)",
            "TorchSharp.torch+nn+functional.logsigmoid(Tensor)",
        };
        Assert.All(creators, c => Assert.Contains(c, names));
        Assert.All(safe, s => Assert.DoesNotContain(s, names));
    }

    [Fact]
    public void Analyzer_FlagsEachKindOfTemporaryScalar_AndAcceptsKeptOnes()
    {
        const string source = """
            using TorchSharp;
            using static TorchSharp.torch;
            static class Sample
            {
                static readonly Scalar One = 1.0.ToScalar();                  // kept: cached in a field
                static Tensor Bad1(Tensor a, Tensor b) => a + b;               // hidden alpha
                static Tensor Bad2(Tensor a) => a * 2.0;                       // number operator
                static Tensor Bad3(Tensor a, Tensor b) => a.add(b);            // hidden alpha
                static Tensor Bad4(Tensor a) => a.fill_(0);                    // conversion at the call
                static Tensor Bad5(Tensor a) => a.mul(3.0.ToScalar());         // explicit but not kept
                static Tensor Bad6(Tensor a) => nn.functional.softplus(a);     // inside TorchSharp
                static Tensor Bad7(Tensor a) { var s = (Scalar)2.0; return a.mul(s); } // not disposed
                static Tensor Ok1(Tensor a, Tensor b) => a.add(b, One);
                static Tensor Ok2(Tensor a) { using var s = 2.0.ToScalar(); return a.mul(s); }
                static Tensor Ok3(Tensor a, Tensor b) => a * b - b;
                static Tensor Ok4(Tensor a) { using (Scalar s = 2.0) { return a.div(s); } }
            }
            """;
        var violations = ScalarSafetyAnalysis.Analyze(new[] { ("Sample.cs", source) }, out var errors);
        Assert.Empty(errors);
        foreach (var v in violations) output.WriteLine(v.ToString());
        var lines = violations.Select(v => v.Line).Distinct().Order().ToArray();
        Assert.Equal(new[] { 6, 7, 8, 9, 10, 11, 12 }, lines);
    }

    [Fact]
    public void LibrarySource_CreatesNoTemporaryScalar()
    {
        var root = TestPaths.RepositoryRoot;
        var src = Path.Combine(root, "src", "SliceLearning");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(p => !IsUnder(p, "obj") && !IsUnder(p, "bin") && !IsUnder(p, "buildTransitive"))
            .Select(p => (Path.GetRelativePath(root, p), File.ReadAllText(p)))
            .ToList();
        Assert.True(files.Count > 50, $"only {files.Count} source files found under {src}");
        var violations = ScalarSafetyAnalysis.Analyze(files, out var errors);
        // Without the source generators ([LoggerMessage], System.Text.Json) their partial parts are missing; anything
        // else would mean code the check could not bind (and so could not check).
        var unexpected = errors.Where(e => e.Id != "CS8795" && !e.GetMessage().Contains("SliceReportJsonContext", StringComparison.Ordinal)
            && !e.Location.GetLineSpan().Path.EndsWith("SliceReportJson.cs", StringComparison.Ordinal)).ToList();
        Assert.True(unexpected.Count == 0, "The library did not compile for the check:\n" + string.Join("\n", unexpected.Take(20)));
        Assert.True(violations.Count == 0,
            $"{violations.Count} temporary TorchSharp Scalar(s) in library code; use the cached Scalars and helpers of " +
            "Runtime/ScalarMath.cs (e.g. a.add(b, ScalarMath.One), ScalarMath.Mul(t, w)) or a using variable:\n" +
            string.Join("\n", violations));
    }

    private static bool IsUnder(string path, string folder) =>
        path.Contains(Path.DirectorySeparatorChar + folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
