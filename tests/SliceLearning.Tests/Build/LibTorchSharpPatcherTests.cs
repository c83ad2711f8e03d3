using SliceLearning.Build;

namespace SliceLearning.Tests.Build;

[Collection("Sequential")]
public sealed class LibTorchSharpPatcherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sl-patch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool SystemLacksTag()
    {
        string? system = LibTorchSharpPatcher.FindSystemLibStdCxx();
        return system is not null
            && !LibTorchSharpPatcher.DefinedVersions(File.ReadAllBytes(system)).Contains(LibTorchSharpPatcher.RequiredVersion);
    }

    [Fact]
    public void PackageOriginal_NeedsTheTag_Strongly()
    {
        var flags = LibTorchSharpPatcher.VersionNeedFlags(File.ReadAllBytes(TestPaths.PackageLibTorchSharp), LibTorchSharpPatcher.RequiredVersion);
        Assert.Equal((ushort)0, flags);
    }

    [Fact]
    public void SystemLibStdCxx_VersionsAreRead()
    {
        string system = LibTorchSharpPatcher.FindSystemLibStdCxx()!;
        var versions = LibTorchSharpPatcher.DefinedVersions(File.ReadAllBytes(system));
        // Every libstdc++ since GCC 3.4 defines these.
        Assert.Contains("GLIBCXX_3.4", versions);
        Assert.Contains("CXXABI_1.3", versions);
    }

    [Fact]
    public void BuildOutput_IsPatched_ExactlyWhenTheSystemLacksTheTag()
    {
        var flags = LibTorchSharpPatcher.VersionNeedFlags(File.ReadAllBytes(TestPaths.OutputLibTorchSharp), LibTorchSharpPatcher.RequiredVersion);
        Assert.Equal(SystemLacksTag() ? (ushort)2 : (ushort)0, flags);
        // The incremental-build guard: the patched copy carries the package file's timestamp.
        Assert.Equal(File.GetLastWriteTimeUtc(TestPaths.PackageLibTorchSharp), File.GetLastWriteTimeUtc(TestPaths.OutputLibTorchSharp));
    }

    [Fact]
    public void Patch_ChangesOnlyTheFlag_AndIsIdempotent_AndLeavesTheOriginalAlone()
    {
        string copy = Path.Combine(_dir, "libLibTorchSharp.so");
        File.Copy(TestPaths.PackageLibTorchSharp, copy);
        byte[] originalBytes = File.ReadAllBytes(TestPaths.PackageLibTorchSharp);
        string lacking = FakeLibStdCxx(withTag: false);

        string first = LibTorchSharpPatcher.PatchIfNeeded(copy, TestPaths.PackageLibTorchSharp, lacking);
        byte[] once = File.ReadAllBytes(copy);
        string second = LibTorchSharpPatcher.PatchIfNeeded(copy, TestPaths.PackageLibTorchSharp, lacking);

        Assert.StartsWith("marked GLIBCXX_3.4.32 weak", first);
        Assert.EndsWith("already patched", second);
        Assert.Equal(once, File.ReadAllBytes(copy));
        Assert.Equal(originalBytes.Length, once.Length);
        int[] changed = Enumerable.Range(0, once.Length).Where(i => once[i] != originalBytes[i]).ToArray();
        Assert.Single(changed);
        Assert.Equal(originalBytes[changed[0]] | 2, once[changed[0]]);
        Assert.Equal(originalBytes, File.ReadAllBytes(TestPaths.PackageLibTorchSharp));
        Assert.Equal(File.GetLastWriteTimeUtc(TestPaths.PackageLibTorchSharp), File.GetLastWriteTimeUtc(copy));
    }

    [Fact]
    public void Patch_DoesNothing_WhenTheSystemProvidesTheTag()
    {
        string copy = Path.Combine(_dir, "libLibTorchSharp.so");
        File.Copy(TestPaths.PackageLibTorchSharp, copy);
        string message = LibTorchSharpPatcher.PatchIfNeeded(copy, TestPaths.PackageLibTorchSharp, FakeLibStdCxx(withTag: true));
        Assert.Contains("provides GLIBCXX_3.4.32; nothing to patch", message);
        Assert.Equal(File.ReadAllBytes(TestPaths.PackageLibTorchSharp), File.ReadAllBytes(copy));
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int link(string existing, string newPath);

    [Fact]
    public void Patch_ReplacesAHardLink_InsteadOfWritingThroughIt()
    {
        // A build output hard-linked into the NuGet cache (as some restore setups do): patching
        // the output must not change the cache's file, which is the same inode.
        string cacheLike = Path.Combine(_dir, "cache.so");
        string copy = Path.Combine(_dir, "out.so");
        File.Copy(TestPaths.PackageLibTorchSharp, cacheLike);
        Assert.Equal(0, link(cacheLike, copy));
        Assert.Equal(File.ReadAllBytes(cacheLike), File.ReadAllBytes(copy));
        LibTorchSharpPatcher.PatchIfNeeded(copy, null, FakeLibStdCxx(withTag: false));
        Assert.Equal(File.ReadAllBytes(TestPaths.PackageLibTorchSharp), File.ReadAllBytes(cacheLike));
        Assert.Equal((ushort)0, LibTorchSharpPatcher.VersionNeedFlags(File.ReadAllBytes(cacheLike), LibTorchSharpPatcher.RequiredVersion));
        Assert.Equal((ushort)2, LibTorchSharpPatcher.VersionNeedFlags(File.ReadAllBytes(copy), LibTorchSharpPatcher.RequiredVersion));
    }

    [Fact]
    public void Patch_ReplacesASymbolicLink_InsteadOfWritingThroughIt()
    {
        string cacheLike = Path.Combine(_dir, "cache.so");
        string copy = Path.Combine(_dir, "out.so");
        File.Copy(TestPaths.PackageLibTorchSharp, cacheLike);
        File.CreateSymbolicLink(copy, cacheLike);
        LibTorchSharpPatcher.PatchIfNeeded(copy, null, FakeLibStdCxx(withTag: false));
        Assert.Equal(File.ReadAllBytes(TestPaths.PackageLibTorchSharp), File.ReadAllBytes(cacheLike));
        Assert.Null(new FileInfo(copy).LinkTarget);   // a file of its own now
        Assert.Equal((ushort)2, LibTorchSharpPatcher.VersionNeedFlags(File.ReadAllBytes(copy), LibTorchSharpPatcher.RequiredVersion));
    }

    [Fact]
    public void NonElfInput_FailsClearly()
    {
        var ex = Assert.Throws<InvalidDataException>(() => LibTorchSharpPatcher.VersionNeedFlags(new byte[100], "X"));
        Assert.Equal("not an ELF file", ex.Message);
    }

    /// <summary>
    /// A stand-in system libstdc++: the real one, with its definition of the newest tag renamed
    /// to GLIBCXX_3.4.32 (or with no such definition).
    /// </summary>
    private string FakeLibStdCxx(bool withTag)
    {
        byte[] bytes = File.ReadAllBytes(LibTorchSharpPatcher.FindSystemLibStdCxx()!);
        var defined = LibTorchSharpPatcher.DefinedVersions(bytes);
        string path = Path.Combine(_dir, withTag ? "with.so" : "without.so");
        if (withTag && !defined.Contains("GLIBCXX_3.4.32"))
        {
            // Rename "GLIBCXX_3.4.30" to "GLIBCXX_3.4.32" in the string table (same length).
            byte[] from = System.Text.Encoding.ASCII.GetBytes("GLIBCXX_3.4.30\0");
            byte[] to = System.Text.Encoding.ASCII.GetBytes("GLIBCXX_3.4.32\0");
            int at = bytes.AsSpan().IndexOf(from);
            Assert.True(at >= 0);
            to.CopyTo(bytes, at);
        }
        else if (!withTag && defined.Contains("GLIBCXX_3.4.32"))
        {
            byte[] from = System.Text.Encoding.ASCII.GetBytes("GLIBCXX_3.4.32\0");
            byte[] to = System.Text.Encoding.ASCII.GetBytes("GLIBCXX_3.4.99\0");
            int at;
            while ((at = bytes.AsSpan().IndexOf(from)) >= 0) to.CopyTo(bytes, at);
        }
        File.WriteAllBytes(path, bytes);
        Assert.Equal(withTag, LibTorchSharpPatcher.DefinedVersions(bytes).Contains("GLIBCXX_3.4.32"));
        return path;
    }
}
