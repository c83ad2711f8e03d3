using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using SliceLearning.Backbones.Import;

namespace SliceLearning.Backbones.Tests;

/// <summary>The weight packages as this test project restored them (paths baked in at build time).</summary>
internal static class TestWeights
{
    public static string MiniLmPackageDirectory { get; } = Metadata("MiniLmPackageDirectory");

    public static string ResNet18PackageDirectory { get; } = Metadata("ResNet18PackageDirectory");

    public static string MiniLmAssembly => PretrainedWeights.MiniLmAssemblyPath(MiniLmPackageDirectory);

    public static string ResNet18Onnx => PretrainedWeights.ResNet18ModelPath(ResNet18PackageDirectory);

    public static string ResNet18PreprocessOnnx => PretrainedWeights.ResNet18PreprocessPath(ResNet18PackageDirectory);

    private static readonly Lazy<byte[]> MiniLmOnnxBytes = new(() =>
        PretrainedWeights.ReadEmbeddedResource(MiniLmAssembly, PretrainedWeights.MiniLmModelResource));

    public static byte[] MiniLmOnnx => MiniLmOnnxBytes.Value;

    private static readonly Lazy<OnnxWeightFile> MiniLmParsed = new(() =>
        OnnxWeightFile.Load(new MemoryStream(MiniLmOnnx), $"{MiniLmAssembly} (resource {PretrainedWeights.MiniLmModelResource})"));

    /// <summary>The MiniLM graph, parsed once for all tests.</summary>
    public static OnnxWeightFile MiniLmFile => MiniLmParsed.Value;

    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A single-threaded OnnxRuntime session: the reference implementation.</summary>
    public static InferenceSession OrtSession(byte[] model)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        return new InferenceSession(model, options);
    }

    public static InferenceSession OrtSession(string path) => OrtSession(File.ReadAllBytes(path));

    private static string Metadata(string key)
    {
        string? value = typeof(TestWeights).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value;
        if (string.IsNullOrEmpty(value) || !Directory.Exists(value))
            throw new InvalidOperationException($"The test build recorded no existing directory for {key} ('{value}'); restore the test project.");
        return value;
    }
}
