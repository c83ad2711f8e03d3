using SliceLearning.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.TorchScript;

/// <summary>
/// A TorchScript module saved from PyTorch (<c>torch.jit.script(m).save(path)</c> or
/// <c>torch.jit.trace</c>) used as a backbone: one tensor in, [B, d] out. Its parameters are
/// trainable from C#. The output width is given, or measured by one forward pass on a probe input.
/// </summary>
public sealed class TorchScriptBackbone : nn.Module<Tensor, Tensor>, IBackbone
{
    private readonly jit.ScriptModule<Tensor, Tensor> module;

    private TorchScriptBackbone(jit.ScriptModule<Tensor, Tensor> scriptModule, long outputWidth) : base(nameof(TorchScriptBackbone))
    {
        module = scriptModule;
        OutputWidth = outputWidth;
        RegisterComponents();
        _modules = base.named_modules().ToList();
    }

    private readonly List<(string name, nn.Module module)> _modules;

    /// <inheritdoc />
    public long OutputWidth { get; }

    /// <summary>Loads a TorchScript file with a declared output width.</summary>
    /// <param name="path">The .pt file written by <c>torch.jit.save</c>.</param>
    /// <param name="outputWidth">d, the width of the module's [B, d] output.</param>
    /// <param name="device">Where to load the parameters; null means the CPU.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">libtorch cannot read the file as TorchScript.</exception>
    public static TorchScriptBackbone Load(string path, long outputWidth, Device? device = null)
    {
        if (outputWidth < 1) throw new ArgumentOutOfRangeException(nameof(outputWidth), outputWidth, "outputWidth must be at least 1.");
        return new TorchScriptBackbone(LoadScript(path, device), outputWidth);
    }

    /// <summary>Loads a TorchScript file and measures its output width by running <paramref name="probeInput"/> (in eval mode, without gradients).</summary>
    /// <param name="path">The .pt file written by <c>torch.jit.save</c>.</param>
    /// <param name="probeInput">A valid input batch, e.g. one example.</param>
    /// <param name="device">Where to load the parameters; null means the CPU.</param>
    /// <exception cref="InvalidDataException">The file is not TorchScript, or the module does not return [B, d].</exception>
    public static TorchScriptBackbone Load(string path, Tensor probeInput, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(probeInput);
        var script = LoadScript(path, device);
        bool wasTraining = script.training;
        script.eval();
        long width;
        using (no_grad())
        using (var output = script.call(probeInput))
        {
            if (output.dim() != 2 || output.shape[0] != probeInput.shape[0])
                throw new InvalidDataException($"The TorchScript module in '{path}' returned [{string.Join(", ", output.shape)}] for a batch of {probeInput.shape[0]}; a backbone must return [B, d].");
            width = output.shape[1];
        }
        script.train(wasTraining);
        return new TorchScriptBackbone(script, width);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => module.call(input);

    /// <summary>
    /// The submodules, listed once when loaded. TorchSharp's <c>Module.Dispose</c> (of this module or
    /// of any model that contains it) disposes modules while it enumerates them, and enumerating a
    /// ScriptModule after its handle is gone throws; the fixed list avoids that.
    /// </summary>
    public override IEnumerable<(string name, nn.Module module)> named_modules() => _modules;

    private static jit.ScriptModule<Tensor, Tensor> LoadScript(string path, Device? device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"The TorchScript file '{path}' does not exist.", path);
        try
        {
            return device is null ? jit.load<Tensor, Tensor>(path) : jit.load<Tensor, Tensor>(path, device);
        }
        catch (System.Runtime.InteropServices.ExternalException ex)
        {
            throw new InvalidDataException($"'{path}' is not a TorchScript file libtorch can load: {FirstLine(ex.Message)}", ex);
        }
    }

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();
}
