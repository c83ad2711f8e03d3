using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SliceLearning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Training;

/// <summary>
/// Saves and loads model weights together with what they were trained for: model type, class
/// count, slice names, backbone width, the model's options (one JSON object, every public setting)
/// and every tensor's shape, optionally with the optimizer state and epoch of a training run.
/// </summary>
/// <remarks>
/// <para>Format (version 2): the bytes <c>SLCKPT02</c>, a JSON header, the weights in TorchSharp's
/// state-dict format, the optional optimizer state and trainer state, and an XxHash64 checksum of
/// everything before it.</para>
/// <para>Saving is atomic: the file is written to a temporary file in the same folder, flushed to
/// disk and renamed over the target, so a failure or crash mid-save leaves the previous checkpoint
/// intact; temporary files of the same checkpoint left by killed saves are removed by the next
/// successful save. Loading is all or nothing: the whole file is read and its checksum, header and
/// every tensor shape are verified before any weight is copied, and a load that fails leaves the
/// model exactly as it was.</para>
/// </remarks>
public static class ModelCheckpoint
{
    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = 2;

    private static ReadOnlySpan<byte> Magic => "SLCKPT02"u8;

    private const int HashSize = sizeof(ulong);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Saves <paramref name="model"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    /// <exception cref="ObjectDisposedException">The model has been disposed; the file is not touched.</exception>
    /// <exception cref="IOException">The file could not be written; an existing checkpoint at <paramref name="path"/> is unchanged.</exception>
    public static void Save(ITrainableModel model, string path) => Save(model, path, wrap: null, training: null);

    /// <summary>Reads and verifies a checkpoint (checksum, header) without loading its weights.</summary>
    /// <exception cref="InvalidDataException">The file is not a SliceLearning checkpoint, is truncated or corrupt; the message names the file.</exception>
    public static CheckpointInfo ReadInfo(string path) => CheckpointFile.Read(path).Info;

    /// <summary>
    /// Loads the weights saved at <paramref name="path"/> into <paramref name="model"/> after
    /// reading the whole file and checking its checksum, and that it was saved for the same model
    /// type, classes, slices, options and tensor shapes. All or nothing: when it throws, the model
    /// is unchanged.
    /// </summary>
    /// <returns>The checkpoint's header.</returns>
    /// <exception cref="CheckpointMismatchException">The checkpoint does not fit the model; the message lists every difference.</exception>
    /// <exception cref="InvalidDataException">The file is not a SliceLearning checkpoint, is truncated or corrupt.</exception>
    public static CheckpointInfo Load(ITrainableModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = CheckpointFile.Read(path);
        file.ApplyTo(model, path);
        return file.Info;
    }

    /// <summary>The header <see cref="Save(ITrainableModel, string)"/> would write for <paramref name="model"/>.</summary>
    public static CheckpointInfo Describe(ITrainableModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var shapes = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, tensor) in model.Module.state_dict()) shapes[name] = tensor.shape;
        var baseModel = model as SliceModelBase;
        return new CheckpointInfo(FormatVersion, model.GetType().FullName ?? model.GetType().Name, model.NumClasses, model.SliceNames.ToArray(),
            baseModel?.BackboneWidth, baseModel?.DescribeOptions(), shapes, Epoch: null, HasOptimizerState: false);
    }

    /// <summary>Reads a checkpoint, builds a model from its header with <paramref name="create"/>, loads the weights; disposes the model on failure.</summary>
    internal static TModel Recreate<TModel>(string path, Func<CheckpointInfo, TModel> create) where TModel : ITrainableModel
    {
        var file = CheckpointFile.Read(path);
        if (file.Info.ModelType != typeof(TModel).FullName)
            throw new CheckpointMismatchException($"The checkpoint '{path}' holds a {file.Info.ModelType}, not a {typeof(TModel).Name}.");
        TModel model;
        try
        {
            model = create(file.Info);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The checkpoint '{path}' describes a model that cannot be built: {ex.Message}", ex);
        }
        try
        {
            file.ApplyTo(model, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    internal static void Save(ITrainableModel model, string path, Func<Stream, Stream>? wrap, TrainingCheckpoint? training)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (model is SliceModelBase { IsDisposed: true })
            throw new ObjectDisposedException(model.GetType().Name, $"Cannot save a disposed model; '{path}' was not touched.");
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        // Everything is serialised in memory first: a failure here never creates a file.
        var info = Describe(model) with { Epoch = training?.Epoch, HasOptimizerState = training?.OptimizerState is not null };
        byte[] header = JsonSerializer.SerializeToUtf8Bytes(info, Json);
        byte[] weights = SerializeModule(model.Module);
        byte[] optimizer = training?.OptimizerState ?? Array.Empty<byte>();
        byte[] best = training?.BestWeights ?? Array.Empty<byte>();
        byte[] state = training?.TrainerState ?? Array.Empty<byte>();

        Directory.CreateDirectory(directory);
        string prefix = $".{Path.GetFileName(full)}.";
        string temp = Path.Combine(directory, $"{prefix}{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var target = wrap?.Invoke(file) ?? file;
                var hash = new XxHash64();
                using (var writer = new BinaryWriter(new HashingStream(target, hash), Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(Magic);
                    writer.Write(header.Length);
                    writer.Write(header);
                    foreach (var section in new[] { weights, optimizer, best, state })
                    {
                        writer.Write((long)section.Length);
                        writer.Write(section);
                    }
                    writer.Flush();
                }
                target.Write(hash.GetCurrentHash());
                target.Flush();
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
        RemoveStaleTemporaries(directory, prefix);
    }

    internal static byte[] SerializeModule(nn.Module module)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, Encoding.UTF8, leaveOpen: true))
        {
            module.save(writer);
        }
        return memory.ToArray();
    }

    private static void RemoveStaleTemporaries(string directory, string prefix)
    {
        try
        {
            foreach (var stale in Directory.EnumerateFiles(directory, prefix + "*.tmp"))
            {
                try { File.Delete(stale); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>A verified checkpoint file held in memory.</summary>
    internal sealed class CheckpointFile
    {
        private CheckpointFile(CheckpointInfo info, byte[] weights, byte[] optimizer, byte[] best, byte[] state)
        {
            Info = info;
            Weights = weights;
            OptimizerState = optimizer.Length == 0 ? null : optimizer;
            BestWeights = best.Length == 0 ? null : best;
            TrainerState = state.Length == 0 ? null : state;
        }

        public CheckpointInfo Info { get; }

        public byte[] Weights { get; }

        public byte[]? OptimizerState { get; }

        public byte[]? BestWeights { get; }

        public byte[]? TrainerState { get; }

        public static CheckpointFile Read(string path)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            {
                string hint = bytes.Length >= 8 && bytes.AsSpan(0, 6).SequenceEqual("SLCKPT"u8)
                    ? $" It was written in format {Encoding.ASCII.GetString(bytes, 6, 2)}; this library reads format {FormatVersion:00}: save the model again."
                    : "";
                throw new InvalidDataException($"'{path}' is not a SliceLearning checkpoint (it does not start with {Encoding.ASCII.GetString(Magic)}).{hint}");
            }
            if (bytes.Length < Magic.Length + sizeof(int) + HashSize)
                throw new InvalidDataException($"The checkpoint '{path}' is truncated ({bytes.Length} bytes).");
            var body = bytes.AsSpan(0, bytes.Length - HashSize);
            ulong stored = BitConverter.ToUInt64(bytes, bytes.Length - HashSize);
            ulong actual = BitConverter.ToUInt64(XxHash64.Hash(body));
            if (stored != actual)
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"The checkpoint '{path}' is corrupt or truncated: its checksum does not match its contents ({bytes.Length} bytes). No weights were loaded."));
            try
            {
                using var reader = new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false), Encoding.UTF8);
                reader.ReadBytes(Magic.Length);
                int length = reader.ReadInt32();
                if (length <= 0 || length > body.Length)
                    throw new InvalidDataException($"The checkpoint '{path}' has a corrupt header length ({length}).");
                var info = JsonSerializer.Deserialize<CheckpointInfo>(reader.ReadBytes(length), Json)
                    ?? throw new InvalidDataException($"The checkpoint '{path}' has an empty header.");
                if (info.FormatVersion != FormatVersion)
                    throw new InvalidDataException($"The checkpoint '{path}' has format version {info.FormatVersion}; this library reads version {FormatVersion}.");
                var sections = new byte[4][];
                for (int i = 0; i < sections.Length; i++)
                {
                    long size = reader.ReadInt64();
                    if (size < 0 || size > body.Length - reader.BaseStream.Position)
                        throw new InvalidDataException($"The checkpoint '{path}' has a corrupt section length ({size}).");
                    sections[i] = reader.ReadBytes((int)size);
                }
                if (reader.BaseStream.Position != body.Length)
                    throw new InvalidDataException($"The checkpoint '{path}' has {body.Length - reader.BaseStream.Position} unexpected bytes after its last section.");
                return new CheckpointFile(info, sections[0], sections[1], sections[2], sections[3]);
            }
            catch (EndOfStreamException ex)
            {
                throw new InvalidDataException($"The checkpoint '{path}' is truncated.", ex);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"The checkpoint '{path}' has a corrupt header: {ex.Message}", ex);
            }
        }

        /// <summary>Checks the header against <paramref name="model"/>, then copies the weights; restores the model's weights if copying fails.</summary>
        public void ApplyTo(ITrainableModel model, string path)
        {
            if (model is SliceModelBase { IsDisposed: true })
                throw new ObjectDisposedException(model.GetType().Name, "Cannot load a checkpoint into a disposed model.");
            var problems = Compare(Info, Describe(model));
            if (problems.Count > 0)
                throw new CheckpointMismatchException($"The checkpoint '{path}' does not fit this model:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
            LoadWeights(model.Module, Weights, path);
        }

        /// <summary>Copies serialised weights into <paramref name="module"/>, all or nothing.</summary>
        public static void LoadWeights(nn.Module module, byte[] weights, string path)
        {
            byte[] before = SerializeModule(module);
            try
            {
                using var reader = new BinaryReader(new MemoryStream(weights, writable: false), Encoding.UTF8);
                module.load(reader, strict: true);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                using (var restore = new BinaryReader(new MemoryStream(before, writable: false), Encoding.UTF8))
                    module.load(restore, strict: true);
                throw new InvalidDataException($"The checkpoint '{path}' could not be loaded ({ex.Message}); the model was left as it was.", ex);
            }
        }
    }

    private static List<string> Compare(CheckpointInfo saved, CheckpointInfo current)
    {
        var problems = new List<string>();
        if (saved.ModelType != current.ModelType)
            problems.Add($"it holds a {saved.ModelType}, the model is a {current.ModelType}.");
        if (saved.NumClasses != current.NumClasses)
            problems.Add($"it was saved for {saved.NumClasses} classes, the model has {current.NumClasses}.");
        if (!saved.SliceNames.SequenceEqual(current.SliceNames, StringComparer.Ordinal))
            problems.Add($"it was saved for slices ({string.Join(", ", saved.SliceNames)}), the model has ({string.Join(", ", current.SliceNames)}).");
        if (saved.BackboneWidth != current.BackboneWidth)
            problems.Add($"it was saved with backbone width {saved.BackboneWidth}, the model has {current.BackboneWidth}.");
        if (saved.ModelType == current.ModelType)
        {
            var savedOptions = saved.Options ?? new JsonObject();
            var currentOptions = current.Options ?? new JsonObject();
            foreach (var key in savedOptions.Select(p => p.Key).Union(currentOptions.Select(p => p.Key)).Order(StringComparer.Ordinal))
            {
                savedOptions.TryGetPropertyValue(key, out var a);
                currentOptions.TryGetPropertyValue(key, out var b);
                if (!JsonNode.DeepEquals(a, b))
                    problems.Add($"option {key} is {a?.ToJsonString() ?? "missing"} in the checkpoint but {b?.ToJsonString() ?? "missing"} in the model.");
            }
        }
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

    /// <summary>A write-through stream that feeds every byte to a hash.</summary>
    private sealed class HashingStream(Stream inner, NonCryptographicHashAlgorithm hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.Append(buffer);
            inner.Write(buffer);
        }
    }
}

/// <summary>What a training run adds to a checkpoint (internal: written and read by <see cref="SliceTrainer"/>).</summary>
internal sealed record TrainingCheckpoint(int Epoch, byte[]? OptimizerState, byte[]? BestWeights, byte[]? TrainerState);

/// <summary>The header of a checkpoint.</summary>
/// <param name="FormatVersion">The file format version (<see cref="ModelCheckpoint.FormatVersion"/>).</param>
/// <param name="ModelType">The model's full type name.</param>
/// <param name="NumClasses">C.</param>
/// <param name="SliceNames">The slice names, base slice first (empty for models without slices).</param>
/// <param name="BackboneWidth">d, for SliceLearning's models.</param>
/// <param name="Options">The model's options as one JSON object (every public setting), or null.</param>
/// <param name="Parameters">Every state-dict tensor's name and shape.</param>
/// <param name="Epoch">The last completed epoch, for checkpoints written during training; else null.</param>
/// <param name="HasOptimizerState">Whether the checkpoint carries the optimizer state (training checkpoints).</param>
public sealed record CheckpointInfo(
    int FormatVersion,
    string ModelType,
    int NumClasses,
    IReadOnlyList<string> SliceNames,
    long? BackboneWidth,
    JsonObject? Options,
    IReadOnlyDictionary<string, long[]> Parameters,
    int? Epoch,
    bool HasOptimizerState)
{
    internal long RequireBackboneWidth(string path) =>
        BackboneWidth ?? throw new InvalidDataException($"The checkpoint '{path}' does not record a backbone width; it was not saved from a SliceLearning model.");
}

/// <summary>A checkpoint does not fit the model it is loaded into (other slices, classes, options or shapes).</summary>
public sealed class CheckpointMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Every difference found.</param>
    public CheckpointMismatchException(string message) : base(message) { }
}
