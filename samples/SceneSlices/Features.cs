using System.Security.Cryptography;
using System.Text;
using SceneSlices.Scenes;
using SliceLearning.Backbones.Vision;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SceneSlices;

/// <summary>How the ResNet-18 is used.</summary>
public enum BackboneMode
{
    /// <summary>Pretrained, all four stages frozen and cached; a small trainable head (1x1 conv + linear) on the 512-channel map.</summary>
    FrozenCached,

    /// <summary>Pretrained, stem and layers 1-3 frozen and cached; layer4 (the last stage) is fine-tuned.</summary>
    TrainLastStage,

    /// <summary>ResNet-18 from scratch on the raw pixels, all stages trained (slow on a CPU).</summary>
    FromScratch,
}

/// <summary>
/// Turns scenes into model inputs. With a pretrained backbone the frozen leading stages are run
/// once per image (<see cref="ResNet.ForwardStages"/>) and their feature maps cached on disk, so
/// training only runs the trainable rest; from scratch the input is the normalised pixels.
/// </summary>
public static class Features
{
    /// <summary>Stages computed once and cached for a mode (0: none).</summary>
    public static int CachedStages(BackboneMode mode) => mode switch { BackboneMode.FrozenCached => 5, BackboneMode.TrainLastStage => 4, _ => 0 };

    /// <summary>RGB pixels of scenes as a float tensor [N, 3, H, W] in 0..255.</summary>
    public static Tensor Pixels(IReadOnlyList<Scene> scenes)
    {
        int n = scenes.Count, size = scenes[0].Size;
        var data = new float[(long)n * 3 * size * size];
        long plane = size * size;
        for (int i = 0; i < n; i++)
        {
            var p = scenes[i].Pixels;
            long o = (long)i * 3 * plane;
            for (int k = 0; k < plane; k++)
                for (int c = 0; c < 3; c++)
                    data[o + c * plane + k] = p[k * 3 + c];
        }
        return tensor(data, new long[] { n, 3, size, size });
    }

    /// <summary>
    /// The model input for <paramref name="scenes"/>: cached frozen-stage maps of the pretrained
    /// ResNet-18, or normalised pixels when nothing is frozen. <paramref name="cacheKey"/> names the scenes
    /// (generator options, seed, index range); maps are stored under <paramref name="cacheDirectory"/>.
    /// </summary>
    public static Tensor Compute(IReadOnlyList<Scene> scenes, BackboneMode mode, string cacheKey, string? cacheDirectory, Action<string>? log = null)
    {
        int stages = CachedStages(mode);
        if (stages == 0)
        {
            using var px = Pixels(scenes);
            return (px / 255.0 - 0.45) / 0.25;
        }
        string? file = null;
        if (cacheDirectory is not null)
        {
            string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{cacheKey}|stages={stages}|v1")))[..20];
            file = Path.Combine(cacheDirectory, $"resnet18-{stages}-{hash}.bin");
            if (File.Exists(file))
            {
                var cached = Read(file);
                if (cached.shape[0] == scenes.Count) { log?.Invoke($"features: {scenes.Count} cached maps from {file}"); return cached; }
                cached.Dispose();
            }
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var prep = ResNet18Preprocessing.Load();
        using var net = ResNet.LoadMlNetResNet18();
        net.eval();
        var parts = new List<Tensor>();
        using (no_grad())
            for (int start = 0; start < scenes.Count; start += 64)
            {
                using var scope = NewDisposeScope();
                var batch = scenes.Skip(start).Take(64).ToArray();
                var map = net.ForwardStages(prep.Apply(Pixels(batch)), stages);
                parts.Add(scope.MoveToOuter(map.contiguous()));
            }
        var all = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        log?.Invoke($"features: {scenes.Count} images through the frozen stages in {clock.Elapsed.TotalSeconds:F0} s, maps [{string.Join(", ", all.shape)}]");
        if (file is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            Write(all, file);
        }
        return all;
    }

    private static void Write(Tensor t, string file)
    {
        string tmp = file + ".tmp";
        using (var w = new BinaryWriter(File.Create(tmp)))
        {
            w.Write((int)t.dim());
            foreach (long d in t.shape) w.Write(d);
            var data = t.data<float>().ToArray();
            var bytes = new byte[data.Length * sizeof(float)];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            w.Write(bytes);
        }
        File.Move(tmp, file, overwrite: true);
    }

    private static Tensor Read(string file)
    {
        using var r = new BinaryReader(File.OpenRead(file));
        int dims = r.ReadInt32();
        var shape = new long[dims];
        for (int i = 0; i < dims; i++) shape[i] = r.ReadInt64();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = r.ReadBytes(checked((int)(count * sizeof(float))));
        var data = new float[count];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return tensor(data, shape);
    }
}

/// <summary>The trainable part on top of cached 512-channel maps: 1x1 conv to 128 channels, 2x2 pooling, linear to 128.</summary>
public sealed class CachedMapHead : nn.Module<Tensor, Tensor>
{
    public const long Width = 128;
    private readonly Conv2d reduce;
    private readonly Linear fc;

    public CachedMapHead(long inputChannels = 512) : base(nameof(CachedMapHead))
    {
        reduce = nn.Conv2d(inputChannels, 128, 1);
        fc = nn.Linear(128 * 4, Width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.adaptive_avg_pool2d(nn.functional.relu(reduce.call(x)), new long[] { 2, 2 });
        return scope.MoveToOuter(nn.functional.relu(fc.call(h.flatten(1))));
    }
}

/// <summary>The rest of a pretrained ResNet-18 after its cached stages (only those remaining stages are trained).</summary>
public sealed class ResNetTail : nn.Module<Tensor, Tensor>
{
    private readonly ResNet resnet;
    private readonly int _completed;

    public ResNetTail(ResNet resnet, int completedStages) : base(nameof(ResNetTail))
    {
        this.resnet = resnet;
        _completed = completedStages;
        resnet.FreezeStages(completedStages);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => resnet.ForwardFrom(x, _completed);

    protected override void Dispose(bool disposing)
    {
        if (disposing) resnet.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Builds the trainable backbone for a mode.</summary>
public static class Backbones
{
    public static long Width(BackboneMode mode) => mode == BackboneMode.FrozenCached ? CachedMapHead.Width : 512;

    public static nn.Module<Tensor, Tensor> Create(BackboneMode mode) => mode switch
    {
        BackboneMode.FrozenCached => new CachedMapHead(),
        BackboneMode.TrainLastStage => new ResNetTail(ResNet.LoadMlNetResNet18(), Features.CachedStages(mode)),
        _ => ResNet.ResNet18(),
    };

    /// <summary>Parameters that run at inference but are not in the trained module (the frozen cached stages).</summary>
    public static long FrozenParameters(BackboneMode mode) => mode switch
    {
        BackboneMode.FrozenCached => 15_897_152L,
        _ => 0, // the tail module holds the whole ResNet, frozen stages included
    };
}
