using TorchSharp;
using static TorchSharp.torch;

namespace TextSamples;

/// <summary>Copies trained head parameters into a model of the same method with another backbone.</summary>
public static class HeadTransfer
{
    /// <summary>
    /// Copies every parameter of <paramref name="source"/> into the parameter of the same name in
    /// <paramref name="target"/> (the target's other parameters, e.g. its backbone's, are left alone).
    /// </summary>
    /// <exception cref="ArgumentException">A source parameter has no target of that name, or the shapes differ; the message names it.</exception>
    public static void Copy(nn.Module source, nn.Module target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var targets = target.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = no_grad();
        foreach (var (name, p) in source.named_parameters())
        {
            if (!targets.TryGetValue(name, out var t))
                throw new ArgumentException($"The target model has no parameter '{name}' (it has {string.Join(", ", targets.Keys)}).", nameof(target));
            if (!t.shape.SequenceEqual(p.shape))
                throw new ArgumentException($"Parameter '{name}' is [{string.Join(", ", p.shape)}] in the source and [{string.Join(", ", t.shape)}] in the target.", nameof(target));
            t.copy_(p);
        }
    }
}
