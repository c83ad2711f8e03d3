using Google.Protobuf;

namespace SliceLearning.Backbones.Import;

/// <summary>One ONNX initializer: a named constant tensor of the graph (weights, biases, shape constants).</summary>
/// <param name="Name">The initializer's name in the graph.</param>
/// <param name="Shape">Its dimensions (empty for a scalar).</param>
/// <param name="DataType">The ONNX element type code (1 = float32, 7 = int64, ...).</param>
/// <param name="FloatData">The values for float32 tensors, row-major; null for other element types.</param>
public sealed record OnnxInitializer(string Name, long[] Shape, int DataType, float[]? FloatData)
{
    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>The shape formatted as <c>[a, b, ...]</c> for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>One ONNX graph node, reduced to what weight mapping needs.</summary>
/// <param name="OpType">The operator, e.g. <c>MatMul</c> or <c>Conv</c>.</param>
/// <param name="Inputs">Input value names, in order.</param>
/// <param name="Outputs">Output value names, in order.</param>
/// <param name="IntAttributes">The node's integer attributes (e.g. <c>transB</c>).</param>
/// <param name="IntListAttributes">The node's integer-list attributes (e.g. <c>strides</c>, <c>pads</c>).</param>
public sealed record OnnxNode(string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, long> IntAttributes, IReadOnlyDictionary<string, long[]> IntListAttributes);

/// <summary>
/// The weights and graph structure of an ONNX model file, read with OnnxSharp's generated ONNX
/// protobuf classes. Only float32 initializers are decoded to arrays; the graph is kept as a list
/// of nodes so that backbones can map anonymous initializers by structure.
/// </summary>
public sealed class OnnxWeightFile
{
    private const int FloatType = 1;

    private OnnxWeightFile(string source, IReadOnlyDictionary<string, OnnxInitializer> initializers, IReadOnlyList<OnnxNode> nodes,
        string producerName, long opsetVersion)
    {
        Source = source;
        Initializers = initializers;
        Nodes = nodes;
        ProducerName = producerName;
        OpsetVersion = opsetVersion;
    }

    /// <summary>Where the model came from (a path, or a path plus an embedded resource name), for messages.</summary>
    public string Source { get; }

    /// <summary>The graph's initializers by name.</summary>
    public IReadOnlyDictionary<string, OnnxInitializer> Initializers { get; }

    /// <summary>The graph's nodes in file order (which is a topological order for exported models).</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>The exporter's name as recorded in the file (e.g. <c>pytorch</c>, <c>CNTK</c>).</summary>
    public string ProducerName { get; }

    /// <summary>The default-domain opset version, or 0 when none is recorded.</summary>
    public long OpsetVersion { get; }

    /// <summary>Reads an ONNX model file.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable ONNX model with weights.</exception>
    public static OnnxWeightFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The ONNX model file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>Reads an ONNX model from a stream.</summary>
    /// <param name="stream">The serialized ModelProto.</param>
    /// <param name="source">A name for messages (e.g. the path it came from).</param>
    /// <exception cref="InvalidDataException">The bytes are not a readable ONNX model with weights.</exception>
    public static OnnxWeightFile Load(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        global::Onnx.ModelProto model;
        try
        {
            model = global::Onnx.ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"'{source}' is not a readable ONNX model file (protobuf decoding failed: {ex.Message}).", ex);
        }

        if (model.Graph is null || model.Graph.Initializer.Count == 0 || model.Graph.Node.Count == 0)
            throw new InvalidDataException(
                $"'{source}' is not an ONNX model with weights: it decodes to {model.Graph?.Node.Count ?? 0} graph nodes and " +
                $"{model.Graph?.Initializer.Count ?? 0} initializers.");

        var initializers = new Dictionary<string, OnnxInitializer>(StringComparer.Ordinal);
        foreach (var t in model.Graph.Initializer)
        {
            long[] shape = t.Dims.ToArray();
            if (shape.Any(d => d < 0))
                throw new InvalidDataException($"'{source}': initializer '{t.Name}' has a negative dimension [{string.Join(", ", shape)}].");
            float[]? data = t.DataType == FloatType ? DecodeFloats(t, shape, source) : null;
            if (!initializers.TryAdd(t.Name, new OnnxInitializer(t.Name, shape, t.DataType, data)))
                throw new InvalidDataException($"'{source}': initializer '{t.Name}' appears twice.");
        }

        var nodes = model.Graph.Node.Select(n => new OnnxNode(
            n.OpType, n.Input.ToArray(), n.Output.ToArray(),
            n.Attribute.Where(a => a.Type == global::Onnx.AttributeProto.Types.AttributeType.Int)
                .ToDictionary(a => a.Name, a => a.I, StringComparer.Ordinal),
            n.Attribute.Where(a => a.Type == global::Onnx.AttributeProto.Types.AttributeType.Ints)
                .ToDictionary(a => a.Name, a => a.Ints.ToArray(), StringComparer.Ordinal))).ToArray();
        long opset = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain)).Select(o => o.Version).DefaultIfEmpty(0).Max();
        return new OnnxWeightFile(source, initializers, nodes, model.ProducerName ?? "", opset);
    }

    /// <summary>The initializer called <paramref name="name"/>, or an exception that names the file.</summary>
    /// <exception cref="InvalidDataException">No such float initializer.</exception>
    public OnnxInitializer RequireFloat(string name)
    {
        if (!Initializers.TryGetValue(name, out var init))
            throw new InvalidDataException($"'{Source}' has no initializer named '{name}'.");
        if (init.FloatData is null)
            throw new InvalidDataException($"'{Source}': initializer '{name}' has ONNX data type {init.DataType}, expected float32 (1).");
        return init;
    }

    private static float[] DecodeFloats(global::Onnx.TensorProto t, long[] shape, string source)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count > int.MaxValue)
            throw new InvalidDataException($"'{source}': initializer '{t.Name}' has {count} elements, too many for one array.");
        if (t.DataLocation == global::Onnx.TensorProto.Types.DataLocation.External)
            throw new InvalidDataException($"'{source}': initializer '{t.Name}' is stored in an external data file, which is not supported.");
        var result = new float[count];
        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != count * sizeof(float))
                throw new InvalidDataException(
                    $"'{source}': initializer '{t.Name}' has {t.RawData.Length} bytes of data, but its shape [{string.Join(", ", shape)}] needs {count * sizeof(float)}.");
            var bytes = t.RawData.Span;
            if (BitConverter.IsLittleEndian)
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
            else
                for (int i = 0; i < result.Length; i++)
                    result[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
        }
        else
        {
            if (t.FloatData.Count != count)
                throw new InvalidDataException(
                    $"'{source}': initializer '{t.Name}' has {t.FloatData.Count} values, but its shape [{string.Join(", ", shape)}] needs {count}.");
            t.FloatData.CopyTo(result, 0);
        }
        return result;
    }
}
