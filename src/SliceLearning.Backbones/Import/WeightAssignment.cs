using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Import;

/// <summary>Copies named arrays into a module's parameters and buffers, checking coverage and shapes.</summary>
internal static class WeightAssignment
{
    /// <summary>A source array for one state-dict entry.</summary>
    internal readonly record struct Source(float[] Data, long[] Shape, string Origin);

    /// <summary>
    /// Copies <paramref name="sources"/> into <paramref name="module"/>. Every float parameter and
    /// buffer of the module must get exactly one source of the same shape; integer buffers
    /// (e.g. BatchNorm's num_batches_tracked) are left alone.
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor is missing, extra, or has the wrong shape.</exception>
    internal static void Assign(nn.Module module, IReadOnlyDictionary<string, Source> sources, string file, string expected)
    {
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in module.named_parameters()) targets[name] = p;
        foreach (var (name, b) in module.named_buffers())
            if (b.dtype == ScalarType.Float32) targets[name] = b;

        var problems = new List<string>();
        foreach (var (name, target) in targets.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (sources.TryGetValue(name, out var s) && !s.Shape.SequenceEqual(target.shape))
                problems.Add($"'{name}' (from {s.Origin}) has shape {Shape(s.Shape)}, the model needs {Shape(target.shape)}");
        }
        foreach (var name in targets.Keys.Where(k => !sources.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"no weights for '{name}' {Shape(targets[name].shape)}");
        foreach (var name in sources.Keys.Where(k => !targets.ContainsKey(k)).Order(StringComparer.Ordinal))
            problems.Add($"'{name}' (from {sources[name].Origin}) has no place in the model");
        if (problems.Count > 0)
            throw new InvalidDataException(
                $"'{file}' does not match {expected}: {problems.Count} problem(s): " + string.Join("; ", problems.Take(8)) +
                (problems.Count > 8 ? $"; and {problems.Count - 8} more." : "."));

        using var noGrad = torch.no_grad();
        foreach (var (name, target) in targets)
        {
            var s = sources[name];
            using var src = torch.tensor(s.Data, s.Shape, dtype: ScalarType.Float32);
            target.copy_(src);
        }
    }

    internal static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
