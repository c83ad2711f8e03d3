using System.Runtime.InteropServices;
using System.Security.Cryptography;
using SliceLearning.Backbones.Text;
using static TorchSharp.torch;

namespace TextSamples;

/// <summary>
/// Keeps the frozen MiniLM layers' outputs on disk, so a second run over the same examples (another
/// method list, more seeds, other learning rates) skips the encoder's frozen part. The file name is a
/// SHA-256 of everything the tensor depends on: the encoder's weights, the number of frozen layers,
/// the padded length, the pooling, and every example's token ids and token types.
/// </summary>
public sealed class FeatureCache
{
    private const uint Magic = 0x46435446; // "FTCF"

    /// <param name="directory">Where the files go (created on first write).</param>
    public FeatureCache(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = directory;
    }

    /// <summary>The folder of the cache files.</summary>
    public string Directory { get; }

    /// <summary>$SLICELEARNING_CACHE/text-features, else ~/.cache/slicelearning/text-features.</summary>
    public static string DefaultDirectory()
    {
        string root = Environment.GetEnvironmentVariable("SLICELEARNING_CACHE") is { Length: > 0 } d
            ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slicelearning");
        return Path.Combine(root, "text-features");
    }

    /// <summary>A SHA-256 of the encoder's options that matter here and of every parameter tensor.</summary>
    public static byte[] Fingerprint(BertEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes((int)encoder.Options.Pooling));
        foreach (var (name, p) in encoder.named_parameters())
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            using var c = p.detach().contiguous().cpu();
            hash.AppendData(c.bytes);
        }
        return hash.GetHashAndReset();
    }

    /// <summary>The cache key of <paramref name="texts"/> run through <paramref name="lowerLayers"/> layers of the encoder with <paramref name="fingerprint"/>, padded to <paramref name="length"/> (or pooled).</summary>
    public static string Key(byte[] fingerprint, IReadOnlyList<EncodedText> texts, int lowerLayers, int length, bool pooled)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        ArgumentNullException.ThrowIfNull(texts);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(fingerprint);
        hash.AppendData(BitConverter.GetBytes(lowerLayers));
        hash.AppendData(BitConverter.GetBytes(length));
        hash.AppendData(BitConverter.GetBytes(pooled));
        hash.AppendData(BitConverter.GetBytes(texts.Count));
        foreach (var t in texts)
        {
            int n = t.TokenCount;
            hash.AppendData(BitConverter.GetBytes(n));
            hash.AppendData(MemoryMarshal.AsBytes(t.Ids.AsSpan(0, n)));
            hash.AppendData(MemoryMarshal.AsBytes(t.TokenTypes.AsSpan(0, n)));
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant()[..32];
    }

    /// <summary>The cached tensor of <paramref name="key"/>, or null if there is none (or the file is unreadable).</summary>
    public Tensor? TryLoad(string key)
    {
        string path = PathOf(key);
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            if (reader.ReadUInt32() != Magic) return null;
            int rank = reader.ReadInt32();
            if (rank is < 1 or > 4) return null;
            var shape = new long[rank];
            for (int i = 0; i < rank; i++) shape[i] = reader.ReadInt64();
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (stream.Length - stream.Position != count * sizeof(float)) return null;
            var result = zeros(shape, dtype: ScalarType.Float32);
            stream.ReadExactly(result.bytes);
            return result;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Writes <paramref name="features"/> (float32, CPU) under <paramref name="key"/>; a failed write only leaves no file.</summary>
    public void Save(string key, Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dtype != ScalarType.Float32) throw new ArgumentException($"Only float32 features are cached, got {features.dtype}.", nameof(features));
        System.IO.Directory.CreateDirectory(Directory);
        string path = PathOf(key), temporary = path + "." + Environment.ProcessId + ".tmp";
        try
        {
            using (var stream = File.Create(temporary))
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(Magic);
                writer.Write((int)features.dim());
                foreach (var d in features.shape) writer.Write(d);
                writer.Flush();
                using var c = features.contiguous().cpu();
                stream.Write(c.bytes);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (IOException)
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private string PathOf(string key) => Path.Combine(Directory, key + ".f32");
}
