// Compiled twice: by MSBuild's RoslynCodeTaskFactory (SliceLearning.targets) as a build task, and
// by the test project (with SLICELEARNING_PATCHER_TESTS) to test the ELF logic directly.
//
// Why it exists: TorchSharp 0.107.0's libLibTorchSharp.so was linked against GCC 13's libstdc++
// and declares a need for the version tag GLIBCXX_3.4.32, which Debian 12's libstdc++ (GCC 12)
// lacks, so the loader refuses the file. The only symbol with that tag,
// std::ios_base_library_init(), is never bound (no relocation uses it). Marking that one
// version-need entry weak (VER_FLG_WEAK) lets the loader accept the library. Only the copy in
// the build output is changed, never the NuGet cache, and only when the system library lacks
// the tag.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace SliceLearning.Build
{
    /// <summary>What <see cref="LibTorchSharpPatcher.MarkVersionNeedWeak"/> found and did.</summary>
    public enum VersionNeedPatchResult
    {
        /// <summary>The file does not declare a need for the version.</summary>
        NotReferenced,
        /// <summary>The need was already weak; nothing changed.</summary>
        AlreadyWeak,
        /// <summary>The need was marked weak.</summary>
        Patched,
    }

    /// <summary>Reads and edits the GNU symbol-version sections of 64-bit little-endian ELF files.</summary>
    public static class LibTorchSharpPatcher
    {
        /// <summary>The version tag that libLibTorchSharp.so needs and Debian 12 lacks.</summary>
        public const string RequiredVersion = "GLIBCXX_3.4.32";

        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>Well-known locations of the system libstdc++ on x64 Linux distributions.</summary>
        public static readonly string[] LibStdCxxCandidates =
        {
            "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6",
            "/lib64/libstdc++.so.6",
            "/usr/lib/libstdc++.so.6",
        };

        /// <summary>The first existing system libstdc++, or null.</summary>
        public static string? FindSystemLibStdCxx()
        {
            foreach (var path in LibStdCxxCandidates)
            {
                if (File.Exists(path)) return path;
            }
            return null;
        }

        /// <summary>The version names an ELF file defines (its .gnu.version_d section).</summary>
        public static HashSet<string> DefinedVersions(byte[] elf)
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (var section in Sections(elf))
            {
                if (section.Type != ShtGnuVerdef) continue;
                var strtab = SectionAt(elf, section.Link);
                long entry = section.Offset;
                for (int i = 0; i < section.Info; i++)
                {
                    ushort count = U16(elf, entry + 6);
                    uint aux = U32(elf, entry + 12);
                    uint next = U32(elf, entry + 16);
                    long auxEntry = entry + aux;
                    for (int j = 0; j < count; j++)
                    {
                        result.Add(CString(elf, strtab.Offset + U32(elf, auxEntry)));
                        uint auxNext = U32(elf, auxEntry + 4);
                        if (auxNext == 0) break;
                        auxEntry += auxNext;
                    }
                    if (next == 0) break;
                    entry += next;
                }
            }
            return result;
        }

        /// <summary>The flags of the version-need entry named <paramref name="version"/>, or null if absent.</summary>
        public static ushort? VersionNeedFlags(byte[] elf, string version)
        {
            long? offset = FindVersionNeedAux(elf, version);
            return offset is null ? null : U16(elf, offset.Value + 4);
        }

        /// <summary>Sets VER_FLG_WEAK on the version-need entry named <paramref name="version"/>.</summary>
        public static VersionNeedPatchResult MarkVersionNeedWeak(byte[] elf, string version)
        {
            long? offset = FindVersionNeedAux(elf, version);
            if (offset is null) return VersionNeedPatchResult.NotReferenced;
            ushort flags = U16(elf, offset.Value + 4);
            if ((flags & VerFlagWeak) != 0) return VersionNeedPatchResult.AlreadyWeak;
            flags |= VerFlagWeak;
            elf[offset.Value + 4] = (byte)(flags & 0xff);
            elf[offset.Value + 5] = (byte)(flags >> 8);
            return VersionNeedPatchResult.Patched;
        }

        /// <summary>
        /// Patches <paramref name="outputCopy"/> in place when <paramref name="systemLibStdCxx"/> lacks
        /// <see cref="RequiredVersion"/>. Writes a temporary file and renames it over the copy (so a
        /// hard link into the NuGet cache is replaced, never written through), then gives the copy the
        /// modification time of <paramref name="packageOriginal"/> so incremental builds do not copy
        /// the unpatched file again.
        /// </summary>
        /// <returns>A one-line description of what was done.</returns>
        public static string PatchIfNeeded(string outputCopy, string? packageOriginal, string? systemLibStdCxx)
        {
            if (systemLibStdCxx is null)
                return "no system libstdc++ found; nothing to patch";
            if (DefinedVersions(File.ReadAllBytes(systemLibStdCxx)).Contains(RequiredVersion))
                return $"{systemLibStdCxx} provides {RequiredVersion}; nothing to patch";

            byte[] bytes = File.ReadAllBytes(outputCopy);
            var result = MarkVersionNeedWeak(bytes, RequiredVersion);
            if (result == VersionNeedPatchResult.Patched)
            {
                string temp = outputCopy + ".slicelearning-tmp";
                File.WriteAllBytes(temp, bytes);
                // netstandard2.0 (the code task factory) has no File.Move overwrite; Replace is a rename.
                File.Replace(temp, outputCopy, destinationBackupFileName: null);
            }
            if (packageOriginal is not null && File.Exists(packageOriginal)
                && File.GetLastWriteTimeUtc(outputCopy) != File.GetLastWriteTimeUtc(packageOriginal))
            {
                File.SetLastWriteTimeUtc(outputCopy, File.GetLastWriteTimeUtc(packageOriginal));
            }
            return result switch
            {
                VersionNeedPatchResult.Patched => $"marked {RequiredVersion} weak in {outputCopy} ({systemLibStdCxx} lacks it)",
                VersionNeedPatchResult.AlreadyWeak => $"{outputCopy} already patched",
                _ => $"{outputCopy} does not need {RequiredVersion}",
            };
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            {
                Type = type; Offset = offset; Size = size; Link = link; Info = info;
            }
            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
        }

        private static long? FindVersionNeedAux(byte[] elf, string version)
        {
            foreach (var section in Sections(elf))
            {
                if (section.Type != ShtGnuVerneed) continue;
                var strtab = SectionAt(elf, section.Link);
                long entry = section.Offset;
                for (int i = 0; i < section.Info; i++)
                {
                    ushort count = U16(elf, entry + 2);
                    uint aux = U32(elf, entry + 8);
                    uint next = U32(elf, entry + 12);
                    long auxEntry = entry + aux;
                    for (int j = 0; j < count; j++)
                    {
                        if (CString(elf, strtab.Offset + U32(elf, auxEntry + 8)) == version) return auxEntry;
                        uint auxNext = U32(elf, auxEntry + 12);
                        if (auxNext == 0) break;
                        auxEntry += auxNext;
                    }
                    if (next == 0) break;
                    entry += next;
                }
            }
            return null;
        }

        private static IEnumerable<Section> Sections(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
            long shoff = (long)U64(elf, 0x28);
            ushort shentsize = U16(elf, 0x3A);
            ushort shnum = U16(elf, 0x3C);
            for (int i = 0; i < shnum; i++)
                yield return ReadSection(elf, shoff + (long)i * shentsize);
        }

        private static Section SectionAt(byte[] elf, uint index)
        {
            long shoff = (long)U64(elf, 0x28);
            ushort shentsize = U16(elf, 0x3A);
            return ReadSection(elf, shoff + (long)index * shentsize);
        }

        private static Section ReadSection(byte[] elf, long at) =>
            new Section(U32(elf, at + 4), (long)U64(elf, at + 0x18), (long)U64(elf, at + 0x20), U32(elf, at + 0x28), U32(elf, at + 0x2C));

        private static ushort U16(byte[] b, long at) => (ushort)(b[at] | (b[at + 1] << 8));
        private static uint U32(byte[] b, long at) => (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
        private static ulong U64(byte[] b, long at) => U32(b, at) | ((ulong)U32(b, at + 4) << 32);

        private static string CString(byte[] b, long at)
        {
            long end = at;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)at, (int)(end - at));
        }
    }

#if !SLICELEARNING_PATCHER_TESTS
    /// <summary>MSBuild task: patches each copied libLibTorchSharp.so when the system needs it.</summary>
    public sealed class SliceLearningPatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        /// <summary>Copies in the output; metadata OriginalPath names the package file.</summary>
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        /// <summary>Optional override of the system libstdc++ path (tests).</summary>
        public string? SystemLibStdCxx { get; set; }

        /// <inheritdoc />
        public override bool Execute()
        {
            string? system = string.IsNullOrEmpty(SystemLibStdCxx) ? LibTorchSharpPatcher.FindSystemLibStdCxx() : SystemLibStdCxx;
            foreach (var item in Files)
            {
                string path = item.GetMetadata("FullPath");
                if (!File.Exists(path)) continue;
                try
                {
                    string original = item.GetMetadata("OriginalPath");
                    string message = LibTorchSharpPatcher.PatchIfNeeded(path, string.IsNullOrEmpty(original) ? null : original, system);
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "SliceLearning: " + message);
                }
                catch (Exception ex)
                {
                    Log.LogWarning("SliceLearning: could not patch {0} for this system's libstdc++ ({1}). TorchSharp may fail to load; see the SliceLearning README.", path, ex.Message);
                }
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
