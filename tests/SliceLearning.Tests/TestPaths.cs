namespace SliceLearning.Tests;

/// <summary>Locations the tests need: the repository root and TorchSharp's package files.</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string NuGetPackagesRoot =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>The unmodified libLibTorchSharp.so in the NuGet cache.</summary>
    public static string PackageLibTorchSharp =>
        Path.Combine(NuGetPackagesRoot, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    /// <summary>The copy next to the test assembly, as the build left it.</summary>
    public static string OutputLibTorchSharp =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SliceLearning.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("SliceLearning.sln not found above " + AppContext.BaseDirectory);
    }
}
