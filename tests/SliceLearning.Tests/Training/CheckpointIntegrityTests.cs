using System.Reflection;
using SliceLearning.Models;
using SliceLearning.Modules;
using SliceLearning.Tests.Models;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

/// <summary>Checkpoints are all or nothing, carry every option, and never lose a good file.</summary>
[Collection("Sequential")]
public sealed class CheckpointIntegrityTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "slicelearning-ckpt-" + Guid.NewGuid().ToString("N"));

    public CheckpointIntegrityTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static Dictionary<string, float[]> Weights(ITrainableModel model) =>
        model.Module.state_dict().ToDictionary(p => p.Key, p => p.Value.cpu().data<float>().ToArray());

    private static void AssertSameWeights(Dictionary<string, float[]> expected, ITrainableModel model)
    {
        var now = Weights(model);
        Assert.Equal(expected.Keys.Order(), now.Keys.Order());
        foreach (var (name, values) in expected) Assert.True(values.SequenceEqual(now[name]), $"{name} changed");
    }

    [Fact]
    public void Load_OfATruncatedFile_NamesTheFile_AndLeavesTheModelAsItWas()
    {
        using var saved = ModelContractTests.Make("SRAM", seed: 1);
        string path = Path.Combine(_folder, "cut.ckpt");
        saved.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        using var target = ModelContractTests.Make("SRAM", seed: 2);
        var before = Weights(target);
        foreach (int length in new[] { 12, bytes.Length / 3, bytes.Length - 9, bytes.Length - 1 })
        {
            File.WriteAllBytes(path, bytes[..length]);
            var ex = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(target, path));
            Assert.Contains(path, ex.Message);
            AssertSameWeights(before, target);
        }
    }

    [Fact]
    public void Load_OfFlippedBytesInAWeight_FailsOnTheChecksum_AndLeavesTheModelAsItWas()
    {
        using var saved = ModelContractTests.Make("HPS", seed: 1);
        string path = Path.Combine(_folder, "flipped.ckpt");
        saved.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        using var target = ModelContractTests.Make("HPS", seed: 2);
        var before = Weights(target);
        foreach (int at in new[] { bytes.Length - 40, bytes.Length / 2, 20 })
        {
            var copy = (byte[])bytes.Clone();
            copy[at] ^= 0x40;
            File.WriteAllBytes(path, copy);
            var ex = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.Load(target, path));
            Assert.Contains(path, ex.Message);
            AssertSameWeights(before, target);
            Assert.Throws<InvalidDataException>(() => HardParameterSharingModel.Load(path, TwoDiscTask.Backbone(2, 8)));
        }
    }

    [Fact]
    public void Load_IntoAMismatchedModel_ChangesNothing()
    {
        using var saved = ModelContractTests.Make("SRAM", seed: 1);
        string path = Path.Combine(_folder, "m.ckpt");
        saved.Save(path);
        manual_seed(2);
        using var other = SliceAwareModel.Create(TwoDiscTask.Backbone(2, 8), 8, 2, new[] { "disc_a", "disc_b" }, o => o.ExpertSize = 6);
        var before = Weights(other);
        var ex = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(other, path));
        Assert.Contains("option ExpertSize is 5 in the checkpoint but 6 in the model.", ex.Message);
        AssertSameWeights(before, other);
    }

    [Fact]
    public void ASuccessfulSave_RemovesStaleTemporariesOfTheSameCheckpoint_Only()
    {
        using var model = ModelContractTests.Make("VANILLA");
        string path = Path.Combine(_folder, "v.ckpt");
        string stale = Path.Combine(_folder, ".v.ckpt." + Guid.NewGuid().ToString("N") + ".tmp");
        string otherStale = Path.Combine(_folder, ".w.ckpt." + Guid.NewGuid().ToString("N") + ".tmp");
        File.WriteAllText(stale, "killed mid-save");
        File.WriteAllText(otherStale, "another checkpoint's");
        model.Save(path);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(otherStale));
        Assert.True(File.Exists(path));
    }

    /// <summary>Writes <paramref name="body"/> (without a checksum) to <paramref name="path"/> with a valid XxHash64 checksum appended.</summary>
    private static void WriteWithChecksum(string path, byte[] body) =>
        File.WriteAllBytes(path, body.Concat(System.IO.Hashing.XxHash64.Hash(body)).ToArray());

    [Fact]
    public void Load_IntoAModelWithOtherClassCount_NamesBothCounts()
    {
        using var saved = ModelContractTests.Make("HPS", seed: 1);
        string path = Path.Combine(_folder, "two.ckpt");
        saved.Save(path);
        manual_seed(2);
        using var three = HardParameterSharingModel.Create(TwoDiscTask.Backbone(2, 8), 8, 3, new[] { "disc_a", "disc_b" }, o => o.SliceLossWeight = 0.5);
        var before = Weights(three);
        var ex = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(three, path));
        // The class count first, then the head tensors whose shapes follow from it.
        Assert.StartsWith($"The checkpoint '{path}' does not fit this model:" + Environment.NewLine + "- it was saved for 2 classes, the model has 3." + Environment.NewLine + "- tensor ", ex.Message);
        AssertSameWeights(before, three);
    }

    [Fact]
    public void AHeaderOfAnotherFormatVersion_SaysWhichVersions()
    {
        using var saved = ModelContractTests.Make("VANILLA", seed: 1);
        string path = Path.Combine(_folder, "version.ckpt");
        saved.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        byte[] body = bytes[..^8];
        // The header says version 2; make it 3 (same length) and give the file a valid checksum.
        string text = System.Text.Encoding.Latin1.GetString(body);
        int at = text.IndexOf("\"FormatVersion\":2", StringComparison.Ordinal);
        Assert.True(at > 0, "the header names its format version");
        body[at + "\"FormatVersion\":".Length] = (byte)'3';
        WriteWithChecksum(path, body);
        var ex = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.ReadInfo(path));
        Assert.Equal($"The checkpoint '{path}' has format version 3; this library reads version 2.", ex.Message);
    }

    [Fact]
    public void ATruncatedHeader_IsReportedAsTruncated()
    {
        string path = Path.Combine(_folder, "header.ckpt");
        // Shorter than the magic, a length and a checksum.
        File.WriteAllBytes(path, "SLCKPT02\u0001\0\0"u8.ToArray());
        var tiny = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.ReadInfo(path));
        Assert.Equal($"The checkpoint '{path}' is truncated (11 bytes).", tiny.Message);
        // A header length beyond the file.
        WriteWithChecksum(path, "SLCKPT02"u8.ToArray().Concat(BitConverter.GetBytes(1000)).Concat("{}"u8.ToArray()).ToArray());
        var length = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.ReadInfo(path));
        Assert.Equal($"The checkpoint '{path}' has a corrupt header length (1000).", length.Message);
        // A complete, checksummed header whose sections are cut off.
        using var saved = ModelContractTests.Make("VANILLA", seed: 1);
        saved.Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = BitConverter.ToInt32(bytes, 8);
        WriteWithChecksum(path, bytes[..(8 + 4 + headerLength + 3)]);
        var cut = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.ReadInfo(path));
        Assert.Equal($"The checkpoint '{path}' is truncated.", cut.Message);
        Assert.IsType<EndOfStreamException>(cut.InnerException);
    }

    [Fact]
    public void AFileOfAnOlderFormat_SaysSo()
    {
        string path = Path.Combine(_folder, "old.ckpt");
        File.WriteAllBytes(path, "SLCKPT01\u0010\0\0\0{}"u8.ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => ModelCheckpoint.ReadInfo(path));
        Assert.Contains("format 01", ex.Message);
    }

    /// <summary>
    /// Every public settable option of every model survives save and load: set each to a
    /// non-default value by reflection, save, load, compare. An option of a type this test does
    /// not know fails it, so a new option cannot be forgotten.
    /// </summary>
    [Fact]
    public void EveryOptionOfEveryModel_RoundTrips()
    {
        string path = Path.Combine(_folder, "options.ckpt");
        var backbone = () => TwoDiscTask.Backbone(2, 8);
        var names = new[] { "disc_a", "disc_b" };

        // Width 5 = the non-default ExpertSize, which the residual expert forms (here LowRankResidual, the last ExpertForm) need; ExpertRank 5 = d.
        var sram = NonDefault<SliceAwareOptions>(names);
        var sramBackbone = () => TwoDiscTask.Backbone(2, 5);
        RoundTrip(SliceAwareModel.Create(sramBackbone(), 5, 2, names, o => Copy(sram, o)), m => m.Options, sram, p => SliceAwareModel.Load(p, sramBackbone()), path);

        var hps = NonDefault<HardParameterSharingOptions>(names);
        RoundTrip(HardParameterSharingModel.Create(backbone(), 8, 2, names, o => Copy(hps, o)), m => m.Options, hps, p => HardParameterSharingModel.Load(p, backbone()), path);

        var manual = NonDefault<ManualReweightingOptions>(names);
        RoundTrip(ManualReweightingModel.Create(backbone(), 8, 2, names, o => Copy(manual, o)), m => m.Options, manual, p => ManualReweightingModel.Load(p, backbone()), path);

        var moe = NonDefault<MixtureOfExpertsOptions>(names);
        RoundTrip(MixtureOfExpertsModel.Create(backbone, 8, 2, names, o => Copy(moe, o)), m => m.Options, moe, p => MixtureOfExpertsModel.Load(p, backbone), path);
    }

    private static void RoundTrip<TModel, TOptions>(TModel model, Func<TModel, TOptions> options, TOptions expected, Func<string, TModel> load, string path)
        where TModel : SliceModelBase
    {
        using (model)
        {
            AssertSameOptions(expected, options(model));
            model.Save(path);
            using var loaded = load(path);
            AssertSameOptions(expected, options(loaded));
        }
    }

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite);

    private static T NonDefault<T>(string[] sliceNames) where T : new()
    {
        var options = new T();
        foreach (var p in Settable(typeof(T)))
        {
            object? current = p.GetValue(options);
            if (p.PropertyType == typeof(double))
            {
                // Off the default and valid: + 0.25 unless the option's range forbids it (e.g. a scale in [0, 1]).
                double d = (double)current!;
                p.SetValue(options, new[] { d + 0.25, d - 0.25, d / 2 }.First(v => v != d && IsValid(options, p, v, sliceNames)));
                continue;
            }
            object value = p.PropertyType switch
            {
                var t when t == typeof(long?) || t == typeof(long) => 5L,
                var t when t == typeof(int?) || t == typeof(int) => 3,
                var t when t == typeof(bool) => !(bool)current!,
                var t when t.IsEnum => Enum.GetValues(t).Cast<object>().Last(v => !v.Equals(current)),
                var t when t == typeof(IReadOnlyCollection<string>) || t == typeof(IReadOnlyList<string>) => new[] { sliceNames[^1] },
                var t => throw new InvalidOperationException($"{typeof(T).Name}.{p.Name} has type {t}: give this test a non-default value for it so that its round trip is checked."),
            };
            p.SetValue(options, value);
        }
        return options;
    }

    /// <summary>True when the options validate with <paramref name="property"/> set to <paramref name="value"/> (as far as that option is concerned).</summary>
    private static bool IsValid<T>(T options, PropertyInfo property, double value, string[] sliceNames)
    {
        object? before = property.GetValue(options);
        property.SetValue(options, value);
        try
        {
            var validate = typeof(T).GetMethod("Validate")!;
            validate.Invoke(options, validate.GetParameters().Length == 0 ? null : new object[] { new[] { "base" }.Concat(sliceNames).ToArray() });
            return true;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is ArgumentException a)
        {
            return !a.Message.Contains(property.Name + " ", StringComparison.Ordinal);
        }
        finally
        {
            property.SetValue(options, before);
        }
    }

    private static void Copy<T>(T from, T to)
    {
        foreach (var p in Settable(typeof(T))) p.SetValue(to, p.GetValue(from));
    }

    private static void AssertSameOptions<T>(T expected, T actual)
    {
        foreach (var p in Settable(typeof(T)))
        {
            object? a = p.GetValue(expected), b = p.GetValue(actual);
            if (a is IEnumerable<string> sa && b is IEnumerable<string> sb) Assert.Equal(sa, sb);
            else Assert.True(Equals(a, b), $"{typeof(T).Name}.{p.Name}: expected {a}, got {b}");
        }
    }
}
