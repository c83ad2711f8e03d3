using System.Diagnostics;
using System.Text;
using SliceLearning.Build;

namespace SliceLearning.Tests.Packaging;

/// <summary>
/// The "NuGet reference in ML apps" path: pack the library, build a throwaway console app in a
/// temp folder that references the .nupkg from a local folder feed (plus the CPU native package),
/// and run a tensor op through the library. The app gets the libLibTorchSharp patch through the
/// package's buildTransitive targets, not through this repository. The app restores offline (local
/// folders only), so the test does not depend on any outside feed.
/// </summary>
[Collection("Sequential")]
public sealed class PackageConsumerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sl-consumer-").FullName;
    private readonly string _version = "0.0.0-consumertest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        // Drop this throwaway version from the global package cache (it is never reused).
        string cached = Path.Combine(TestPaths.NuGetPackagesRoot, "slicelearning", _version);
        if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
    }

    [Fact]
    public void PackedLibrary_WorksInAFreshConsoleApp()
    {
        string feed = Path.Combine(_dir, "feed");
        string app = Path.Combine(_dir, "app");
        Directory.CreateDirectory(app);

        Run(TestPaths.RepositoryRoot, "pack", "src/SliceLearning/SliceLearning.csproj", "-c", "Release", "-o", feed, $"-p:Version={_version}");
        string nupkg = Path.Combine(feed, $"SliceLearning.{_version}.nupkg");
        Assert.True(File.Exists(nupkg), "pack did not produce " + nupkg);
        AssertPackageContents(nupkg);

        // Offline: only the packed library and the packages this machine already has (the global
        // packages folder is a valid local feed); no source from the user's or machine's config.
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
                <add key="installed" value="{TestPaths.NuGetPackagesRoot}" />
              </packageSources>
              <packageSourceMapping>
                <clear />
              </packageSourceMapping>
              <disabledPackageSources>
                <clear />
              </disabledPackageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SliceLearning" Version="{_version}" />
                <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using SliceLearning.Runtime;
            using SliceLearning.Slicing;
            using static TorchSharp.torch;

            var slices = SliceSet.For<int>().Add("even", i => i % 2 == 0).Build();
            var matrix = slices.Apply(new[] { 1, 2, 3, 4 });
            using var members = matrix.ToTensor();
            var device = ComputeDevice.Resolve(DevicePreference.Cpu);
            using var x = tensor(new float[] { 1, 2, 3, 4 }, device: device);
            using var total = (members.select(1, 1) * x).sum();
            Console.WriteLine($"even sum = {total.item<float>()}");
            """);
        // Isolated from this repository's Directory.Build.* files by living in the temp folder.
        Run(app, "build", "-c", "Release");
        string output = Run(app, "run", "-c", "Release", "--no-build");
        Assert.Contains("even sum = 6", output);

        string copy = Path.Combine(app, "bin", "Release", "net10.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        string? system = LibTorchSharpPatcher.FindSystemLibStdCxx();
        bool lacks = system is not null && !LibTorchSharpPatcher.DefinedVersions(File.ReadAllBytes(system)).Contains(LibTorchSharpPatcher.RequiredVersion);
        Assert.Equal(lacks ? (ushort)2 : (ushort)0, LibTorchSharpPatcher.VersionNeedFlags(File.ReadAllBytes(copy), LibTorchSharpPatcher.RequiredVersion));
    }

    private static void AssertPackageContents(string nupkg)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(nupkg);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/SliceLearning.dll", entries);
        Assert.Contains("lib/net10.0/SliceLearning.xml", entries);
        Assert.Contains("README.md", entries);
        Assert.Contains("LICENSE", entries);
        Assert.Contains("buildTransitive/SliceLearning.targets", entries);
        Assert.Contains("buildTransitive/LibTorchSharpPatcher.cs", entries);
        using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        string text = nuspec.ReadToEnd();
        Assert.Contains("<license type=\"expression\">MIT</license>", text);
        Assert.Contains("<readme>README.md</readme>", text);
        Assert.Contains("<repository type=\"git\"", text);
        Assert.Contains("<description>Slice-based learning for TorchSharp", text);
        Assert.Contains("id=\"TorchSharp\" version=\"0.107.0\"", text);
        Assert.DoesNotContain("libtorch", text);
    }

    private static string Run(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // The test host runs under MSBuild/VSTest variables that would leak into a nested build.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stdout.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish in 8 minutes:\n{stdout}");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed with exit code {process.ExitCode}:\n{stdout}");
        return stdout.ToString();
    }
}
