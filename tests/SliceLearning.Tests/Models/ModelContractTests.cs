using SliceLearning.Models;
using SliceLearning.Tests.Training;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Models;

/// <summary>
/// One contract every model meets (SRAM, VANILLA, HPS, MANUAL, MoE): label and membership checks
/// naming the row or shape, backbone widths checked with expected vs got, dispose, save/load round
/// trip, prediction without SFs, device moves.
/// </summary>
[Collection("Sequential")]
public sealed class ModelContractTests : IDisposable
{
    public static TheoryData<string> Kinds => new() { "SRAM", "VANILLA", "HPS", "MANUAL", "MoE" };

    private static readonly string[] SliceNames = { "disc_a", "disc_b" };

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "slicelearning-contract-" + Guid.NewGuid().ToString("N"));

    public ModelContractTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    internal static SliceModelBase Make(string kind, int seed = 1, long inputWidth = 2, long width = 8, long declaredWidth = 8)
    {
        manual_seed(seed);
        Func<nn.Module<Tensor, Tensor>> backbone = () => TwoDiscTask.Backbone(inputWidth, width);
        return kind switch
        {
            "SRAM" => SliceAwareModel.Create(backbone(), declaredWidth, 2, SliceNames, o => o.ExpertSize = 5),
            "VANILLA" => VanillaModel.Create(backbone(), declaredWidth, 2),
            "HPS" => HardParameterSharingModel.Create(backbone(), declaredWidth, 2, SliceNames, o => o.SliceLossWeight = 0.5),
            "MANUAL" => ManualReweightingModel.Create(backbone(), declaredWidth, 2, SliceNames, o => { o.Alpha = 20; o.ReweightedSlices = new[] { "disc_b" }; }),
            "MoE" => MixtureOfExpertsModel.Create(backbone, declaredWidth, 2, SliceNames, o => o.GateRoutingLossWeight = 0.5),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    internal static SliceModelBase LoadAs(string kind, string path, int seed)
    {
        manual_seed(seed);
        return kind switch
        {
            "SRAM" => SliceAwareModel.Load(path, TwoDiscTask.Backbone(2, 8)),
            "VANILLA" => VanillaModel.Load(path, TwoDiscTask.Backbone(2, 8)),
            "HPS" => HardParameterSharingModel.Load(path, TwoDiscTask.Backbone(2, 8)),
            "MANUAL" => ManualReweightingModel.Load(path, TwoDiscTask.Backbone(2, 8)),
            "MoE" => MixtureOfExpertsModel.Load(path, () => TwoDiscTask.Backbone(2, 8)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static (Tensor X, Tensor Y, Tensor M) Batch(int n = 6)
    {
        manual_seed(3);
        var x = rand(n, 2) * 2 - 1;
        var y = randint(0, 2, new long[] { n }, dtype: ScalarType.Int64);
        var m = (rand(n, 3) < 0.5).to(ScalarType.Float32);
        m[TensorIndex.Colon, 0] = ones(n);
        return (x, y, m);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Loss_IsAFiniteScalar_AndLogitsAreBC(string kind)
    {
        using var model = Make(kind);
        var (x, y, m) = Batch();
        using (x) using (y) using (m)
        {
            using var loss = model.Loss(x, y, m);
            Assert.Equal(0, loss.dim());
            Assert.True(float.IsFinite(loss.item<float>()));
            using var logits = model.Logits(x);
            Assert.Equal(new long[] { 6, 2 }, logits.shape);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Loss_RejectsALabelOutOfRange_NamingTheRow(string kind)
    {
        using var model = Make(kind);
        var (x, y, m) = Batch();
        using (x) using (y) using (m)
        {
            y[4] = tensor(2L);
            var ex = Assert.Throws<SliceDataException>(() => model.Loss(x, y, m));
            Assert.Contains("Label 2 at row 4 is outside [0, 2)", ex.Message);
            Assert.Equal(4, ex.Row);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Loss_RejectsMembershipForOtherSlices(string kind)
    {
        using var model = Make(kind);
        var (x, y, _) = Batch();
        using var wrong = ones(6, 2);
        using (x) using (y)
        {
            if (model.SliceNames.Count == 0)
            {
                // VANILLA ignores slices: any membership is accepted.
                using var loss = model.Loss(x, y, wrong);
                return;
            }
            var ex = Assert.Throws<SliceDataException>(() => model.Loss(x, y, wrong));
            Assert.Contains("Expected slice membership [6, 3] for the model's 3 slices (base, disc_a, disc_b), got [6, 2]", ex.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ABackboneOfAnotherOutputWidth_FailsWithExpectedVsGot(string kind)
    {
        using var model = Make(kind, width: 8, declaredWidth: 16);
        using var x = rand(4, 2);
        var ex = Assert.Throws<InvalidOperationException>(() => model.Logits(x));
        Assert.Contains("The backbone output is [4, 8], but the model was created with backboneWidth = 16: expected [B, 16]", ex.Message);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void FeaturesOfAnotherWidth_FailWithExpectedVsGot(string kind)
    {
        using var model = Make(kind);
        using var x = rand(4, 3);
        var ex = Assert.Throws<SliceDataException>(() => model.Predict(x));
        Assert.Contains("The backbone could not take features of shape [4, 3]. Its first Linear layer expects 2 features per row; got 3.", ex.Message);
        Assert.True(model.training);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Predict_NeedsNoSlices_AndRejectsNonFiniteFeatures(string kind)
    {
        using var model = Make(kind);
        using var x = rand(5, 2);
        var (probabilities, classes) = model.Predict(x, batchSize: 2);
        using (probabilities)
        {
            Assert.Equal(new long[] { 5, 2 }, probabilities.shape);
            Assert.True(probabilities.sum(1).allclose(ones(5), atol: 1e-5));
            Assert.Equal(5, classes.Length);
        }
        x[3, 1] = tensor(float.NaN);
        var ex = Assert.Throws<SliceDataException>(() => model.Predict(x));
        Assert.Contains("Feature 1 of row 3 is NaN", ex.Message);
        Assert.Equal(3, ex.Row);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Dispose_MakesEveryEntryPointThrow_AndSaveNeverTouchesTheFile(string kind)
    {
        var model = Make(kind);
        string path = Path.Combine(_folder, kind + ".ckpt");
        model.Save(path);
        byte[] before = File.ReadAllBytes(path);
        model.Dispose();
        Assert.True(model.IsDisposed);
        using var x = rand(2, 2);
        Assert.Throws<ObjectDisposedException>(() => model.Logits(x));
        Assert.Throws<ObjectDisposedException>(() => model.Predict(x));
        Assert.Throws<ObjectDisposedException>(() => model.Save(path));
        Assert.Throws<ObjectDisposedException>(() => ModelCheckpoint.Save(model, Path.Combine(_folder, "new.ckpt")));
        Assert.False(File.Exists(Path.Combine(_folder, "new.ckpt")));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void SaveAndLoad_RoundTripsWeightsAndSettings(string kind)
    {
        using var model = Make(kind, seed: 1);
        string path = Path.Combine(_folder, kind + ".ckpt");
        model.Save(path);
        using var x = rand(7, 2);
        using var expected = model.Logits(x);

        using var loaded = LoadAs(kind, path, seed: 99);
        Assert.Equal(model.GetType(), loaded.GetType());
        Assert.Equal(model.SliceNames, loaded.SliceNames);
        Assert.Equal(ModelCheckpoint.Describe(model).Options!.ToJsonString(), ModelCheckpoint.Describe(loaded).Options!.ToJsonString());
        using var got = loaded.Logits(x);
        Assert.True(expected.allclose(got, rtol: 0, atol: 0));

        using var other = Make(kind, seed: 2);
        ModelCheckpoint.Load(other, path);
        using var again = other.Logits(x);
        Assert.True(expected.allclose(again, rtol: 0, atol: 0));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void DeviceMove_KeepsTheModelWorking(string kind)
    {
        using var model = Make(kind);
        foreach (var device in cuda.is_available() ? new[] { CPU, CUDA, CPU } : new[] { CPU })
        {
            model.Module.to(device);
            using var x = rand(3, 2, device: device);
            var (y, m) = (zeros(3, ScalarType.Int64, device: device), ones(3, 3, device: device));
            using (y) using (m)
            {
                using var logits = model.Logits(x);
                Assert.Equal(device.type, logits.device.type);
                using var loss = model.Loss(x, y, m);
                Assert.Equal(device.type, loss.device.type);
            }
            // Predict takes CPU features and moves them batch by batch.
            using var cpuX = rand(3, 2);
            var (p, _) = model.Predict(cpuX);
            p.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TrainsThroughTheTrainer(string kind)
    {
        using var data = TwoDiscTask.Dataset(200, seed: 4);
        using var model = Make(kind);
        var result = SliceTrainer.For(model).WithData(data, data).WithEpochs(2).WithBatchSize(50).WithSeed(3).Fit();
        Assert.Equal(2, result.EpochsRun);
        Assert.All(result.LossHistory, l => Assert.True(double.IsFinite(l)));
        Assert.True(model.training);
    }
}
