using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using SliceLearning.Models;
using SliceLearning.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Training;

/// <summary>
/// Saves and loads model weights together with what they were trained for: model type, class
/// count, slice names, sizes, options and every tensor's shape. The file is a small JSON header
/// followed by TorchSharp's state-dict format. Saving is atomic: the file is written to a temporary
/// file in the same folder, flushed to disk and renamed over the target, so a failure or crash
/// mid-save leaves the previous checkpoint intact.
/// </summary>
public static class ModelCheckpoint
{
    private static ReadOnlySpan<byte> Magic => "SLCKPT01"u8;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    /// <exception cref="IOException">The file could not be written; an existing checkpoint at <paramref name="path"/> is unchanged.</exception>
    public static void Save(ITrainableModel model, string path) => Save(model, path, wrap: null);

    /// <summary>Reads the header of a checkpoint without loading weights.</summary>
    /// <exception cref="InvalidDataException">The file is not a SliceLearning checkpoint.</exception>
    public static CheckpointInfo ReadInfo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        return ReadHeader(reader, path);
    }

    /// <summary>
    /// Loads the weights saved at <paramref name="path"/> into <paramref name="model"/> after checking
    /// that the checkpoint was saved for the same model type, classes, slices and tensor shapes.
    /// </summary>
    /// <returns>The checkpoint's header.</returns>
    /// <exception cref="CheckpointMismatchException">The checkpoint does not fit the model; the message lists every difference.</exception>
    /// <exception cref="InvalidDataException">The file is not a SliceLearning checkpoint.</exception>
    public static CheckpointInfo Load(ITrainableModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var info = ReadHeader(reader, path);
        var problems = Compare(info, Describe(model));
        if (problems.Count > 0)
            throw new CheckpointMismatchException($"The checkpoint '{path}' does not fit this model:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
        model.Module.load(reader, strict: true);
        return info;
    }

    /// <summary>The header <see cref="Save(ITrainableModel, string)"/> would write for <paramref name="model"/>.</summary>
    public static CheckpointInfo Describe(ITrainableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var shapes = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, tensor) in model.Module.state_dict()) shapes[name] = tensor.shape;
        CheckpointOptions? options = null;
        long? backboneWidth = null, expertSize = null;
        if (model is SliceAwareModel sram)
        {
            var o = sram.Options;
            options = new CheckpointOptions(o.ExpertSize, o.Temperature, o.Attention, o.PredictionLossWeight, o.SliceHeadLossWeight, o.IndicatorLossWeight, o.Backpropagation, o.SliceHeadNormalization);
            backboneWidth = sram.BackboneWidth;
            expertSize = sram.ExpertSize;
        }
        else if (model is VanillaModel vanilla)
        {
            backboneWidth = vanilla.BackboneWidth;
        }
        return new CheckpointInfo(1, model.GetType().FullName ?? model.GetType().Name, model.NumClasses, model.SliceNames.ToArray(),
            backboneWidth, expertSize, options, shapes);
    }

    internal static void Save(ITrainableModel model, string path, Func<Stream, Stream>? wrap)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var target = wrap?.Invoke(file) ?? file;
                using (var writer = new BinaryWriter(target, Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(Magic);
                    byte[] header = JsonSerializer.SerializeToUtf8Bytes(Describe(model), Json);
                    writer.Write(header.Length);
                    writer.Write(header);
                    model.Module.save(writer);
                    writer.Flush();
                }
                if (!ReferenceEquals(target, file)) target.Dispose();
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static CheckpointInfo ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            var magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException($"'{path}' is not a SliceLearning checkpoint (it does not start with {Encoding.ASCII.GetString(Magic)}).");
            int length = reader.ReadInt32();
            if (length <= 0 || length > 64 << 20)
                throw new InvalidDataException($"'{path}' has a corrupt checkpoint header (length {length}).");
            var bytes = reader.ReadBytes(length);
            if (bytes.Length != length)
                throw new InvalidDataException($"'{path}' is truncated inside the checkpoint header.");
            return JsonSerializer.Deserialize<CheckpointInfo>(bytes, Json)
                ?? throw new InvalidDataException($"'{path}' has an empty checkpoint header.");
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"'{path}' is truncated.", ex);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' has a corrupt checkpoint header: {ex.Message}", ex);
        }
    }

    private static List<string> Compare(CheckpointInfo saved, CheckpointInfo current)
    {
        var problems = new List<string>();
        if (saved.FormatVersion != 1)
            problems.Add($"format version {saved.FormatVersion} is not supported (this library reads version 1).");
        if (saved.ModelType != current.ModelType)
            problems.Add($"it holds a {saved.ModelType}, the model is a {current.ModelType}.");
        if (saved.NumClasses != current.NumClasses)
            problems.Add($"it was saved for {saved.NumClasses} classes, the model has {current.NumClasses}.");
        if (!saved.SliceNames.SequenceEqual(current.SliceNames, StringComparer.Ordinal))
            problems.Add($"it was saved for slices ({string.Join(", ", saved.SliceNames)}), the model has ({string.Join(", ", current.SliceNames)}).");
        if (saved.BackboneWidth != current.BackboneWidth)
            problems.Add($"it was saved with backbone width {saved.BackboneWidth}, the model has {current.BackboneWidth}.");
        if (saved.ExpertSize != current.ExpertSize)
            problems.Add($"it was saved with expert size {saved.ExpertSize}, the model has {current.ExpertSize}.");
        foreach (var (name, shape) in saved.Parameters)
        {
            if (!current.Parameters.TryGetValue(name, out var now))
                problems.Add($"tensor '{name}' [{string.Join(", ", shape)}] is not in the model.");
            else if (!shape.SequenceEqual(now))
                problems.Add($"tensor '{name}' is [{string.Join(", ", shape)}] in the checkpoint but [{string.Join(", ", now)}] in the model.");
        }
        foreach (var name in current.Parameters.Keys.Where(n => !saved.Parameters.ContainsKey(n)))
            problems.Add($"the model's tensor '{name}' is not in the checkpoint.");
        return problems;
    }
}

/// <summary>The header of a checkpoint.</summary>
/// <param name="FormatVersion">The file format version (1).</param>
/// <param name="ModelType">The model's full type name.</param>
/// <param name="NumClasses">C.</param>
/// <param name="SliceNames">The slice names, base slice first (empty for models without slices).</param>
/// <param name="BackboneWidth">d, when the model declares it.</param>
/// <param name="ExpertSize">h, for slice-aware models.</param>
/// <param name="Options">The slice-aware model's options, or null.</param>
/// <param name="Parameters">Every state-dict tensor's name and shape.</param>
public sealed record CheckpointInfo(
    int FormatVersion,
    string ModelType,
    int NumClasses,
    IReadOnlyList<string> SliceNames,
    long? BackboneWidth,
    long? ExpertSize,
    CheckpointOptions? Options,
    IReadOnlyDictionary<string, long[]> Parameters);

/// <summary>The <see cref="SliceAwareOptions"/> stored in a checkpoint.</summary>
/// <param name="ExpertSize">The configured expert size (null: backbone width).</param>
/// <param name="Temperature">Attention temperature.</param>
/// <param name="Attention">Attention variant.</param>
/// <param name="PredictionLossWeight">Prediction loss weight.</param>
/// <param name="SliceHeadLossWeight">Shared slice head loss weight.</param>
/// <param name="IndicatorLossWeight">Indicator loss weight.</param>
/// <param name="Backpropagation">What the attention back-propagated into (training only; absent in older checkpoints).</param>
/// <param name="SliceHeadNormalization">How the slice head loss was averaged (training only; absent in older checkpoints).</param>
public sealed record CheckpointOptions(
    long? ExpertSize,
    double Temperature,
    AttentionVariant Attention,
    double PredictionLossWeight,
    double SliceHeadLossWeight,
    double IndicatorLossWeight,
    AttentionBackpropagation Backpropagation = AttentionBackpropagation.ExpertsOnly,
    SliceHeadNormalization SliceHeadNormalization = SliceHeadNormalization.PerMemberPair)
{
    /// <summary>These options as <see cref="SliceAwareOptions"/>.</summary>
    public SliceAwareOptions ToOptions() => new()
    {
        ExpertSize = ExpertSize,
        Temperature = Temperature,
        Attention = Attention,
        PredictionLossWeight = PredictionLossWeight,
        SliceHeadLossWeight = SliceHeadLossWeight,
        IndicatorLossWeight = IndicatorLossWeight,
        Backpropagation = Backpropagation,
        SliceHeadNormalization = SliceHeadNormalization,
    };
}

/// <summary>A checkpoint does not fit the model it is loaded into (other slices, classes or shapes).</summary>
public sealed class CheckpointMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Every difference found.</param>
    public CheckpointMismatchException(string message) : base(message) { }
}
