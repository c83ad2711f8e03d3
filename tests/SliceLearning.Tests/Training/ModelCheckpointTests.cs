using SliceLearning.Models;
using SliceLearning.Modules;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

[Collection("Sequential")]
public sealed class ModelCheckpointTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "slicelearning-ckpt-" + Guid.NewGuid().ToString("N"));

    public ModelCheckpointTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static SliceAwareModel Trained(int seed)
    {
        manual_seed(seed);
        var model = SliceAwareModel.Create(TwoDiscTask.Backbone(), 13, 2, TwoDiscTask.Slices.SliceNames,
            o => { o.ExpertSize = 7; o.Temperature = 0.5; o.Attention = AttentionVariant.ConfidenceOnly; o.IndicatorLossWeight = 2; o.Backpropagation = AttentionBackpropagation.IndicatorsAndExperts; o.SliceHeadNormalization = SliceHeadNormalization.PerSlice; });
        using var data = TwoDiscTask.Dataset(200, seed: seed);
        SliceTrainer.For(model).WithData(data).WithEpochs(2).WithSeed(seed).Fit();
        return model;
    }

    [Fact]
    public void SaveLoad_GivesIdenticalPredictions_AndKeepsOptions()
    {
        using var model = Trained(1);
        string path = Path.Combine(_folder, "sram.ckpt");
        model.Save(path);
        manual_seed(99);   // the fresh backbone gets other weights, which the load replaces
        using var loaded = SliceAwareModel.Load(path, TwoDiscTask.Backbone());
        Assert.Equal(model.SliceNames, loaded.SliceNames);
        Assert.Equal(7, loaded.ExpertSize);
        Assert.Equal(0.5, loaded.Options.Temperature);
        Assert.Equal(AttentionVariant.ConfidenceOnly, loaded.Options.Attention);
        Assert.Equal(AttentionBackpropagation.IndicatorsAndExperts, loaded.Options.Backpropagation);
        Assert.Equal(SliceHeadNormalization.PerSlice, loaded.Options.SliceHeadNormalization);
        Assert.Equal(2.0, loaded.Options.IndicatorLossWeight);
        using var x = rand(50, 2) * 2 - 1;
        var (p1, c1) = model.Predict(x);
        var (p2, c2) = loaded.Predict(x);
        using (p1)
        using (p2)
        {
            Assert.True(p1.allclose(p2, rtol: 0, atol: 0));
            Assert.Equal(c1, c2);
        }
        var info = ModelCheckpoint.ReadInfo(path);
        Assert.Equal(new[] { "base", "disc_a", "disc_b" }, info.SliceNames);
        Assert.Equal(new long[] { 3, 13, 7 }, info.Parameters["sram.expert_projections.weight"]);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
    }

    [Fact]
    public void Load_WithOtherSlicesOrShapes_FailsWithAClearMessage()
    {
        using var model = Trained(1);
        string path = Path.Combine(_folder, "sram.ckpt");
        model.Save(path);

        manual_seed(1);
        using var otherSlices = SliceAwareModel.Create(TwoDiscTask.Backbone(), 13, 2, new[] { "disc_a", "night" }, o => o.ExpertSize = 7);
        var slices = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(otherSlices, path));
        Assert.Contains("it was saved for slices (base, disc_a, disc_b), the model has (base, disc_a, night).", slices.Message);

        using var otherShape = SliceAwareModel.Create(TwoDiscTask.Backbone(), 13, 2, TwoDiscTask.Slices.SliceNames, o => o.ExpertSize = 5);
        var shape = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(otherShape, path));
        Assert.Contains("option ExpertSize is 7 in the checkpoint but 5 in the model.", shape.Message);
        Assert.Contains("tensor 'sram.expert_projections.weight' is [3, 13, 7] in the checkpoint but [3, 13, 5] in the model.", shape.Message);

        using var vanilla = VanillaModel.Create(TwoDiscTask.Backbone(), 13, 2);
        var type = Assert.Throws<CheckpointMismatchException>(() => ModelCheckpoint.Load(vanilla, path));
        Assert.Contains("it holds a SliceLearning.Models.SliceAwareModel, the model is a SliceLearning.Models.VanillaModel.", type.Message);

        File.WriteAllText(Path.Combine(_folder, "junk.ckpt"), "not a checkpoint");
        Assert.Throws<InvalidDataException>(() => ModelCheckpoint.ReadInfo(Path.Combine(_folder, "junk.ckpt")));
    }

    [Fact]
    public void FailedSave_LeavesThePreviousCheckpointIntact()
    {
        using var first = Trained(1);
        string path = Path.Combine(_folder, "sram.ckpt");
        first.Save(path);
        byte[] before = File.ReadAllBytes(path);

        using var second = Trained(2);
        // The disk "fills up" after 1000 bytes of the new checkpoint.
        var ex = Assert.Throws<IOException>(() => ModelCheckpoint.Save(second, path, s => new FailingStream(s, failAfter: 1000), training: null));
        Assert.Equal("disk full (simulated)", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(_folder, ".*")));
        manual_seed(5);
        using var loaded = SliceAwareModel.Load(path, TwoDiscTask.Backbone());
        using var x = rand(20, 2);
        using var l1 = first.Logits(x);
        using var l2 = loaded.Logits(x);
        Assert.True(l1.allclose(l2, rtol: 0, atol: 0));

        // a complete save replaces it
        second.Save(path);
        Assert.NotEqual(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void VanillaModel_RoundTrips()
    {
        manual_seed(3);
        using var model = VanillaModel.Create(TwoDiscTask.Backbone(), 13, 2);
        string path = Path.Combine(_folder, "vanilla.ckpt");
        ModelCheckpoint.Save(model, path);
        manual_seed(4);
        using var other = VanillaModel.Create(TwoDiscTask.Backbone(), 13, 2);
        var info = ModelCheckpoint.Load(other, path);
        Assert.Empty(info.SliceNames);
        Assert.Equal(13, info.BackboneWidth);
        using var x = rand(10, 2);
        using var a = model.Logits(x);
        using var b = other.Logits(x);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));
    }

    private sealed class FailingStream(Stream inner, long failAfter) : Stream
    {
        private long _written;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_written + count > failAfter)
            {
                int part = (int)Math.Max(0, failAfter - _written);
                inner.Write(buffer, offset, part);
                _written += part;
                throw new IOException("disk full (simulated)");
            }
            inner.Write(buffer, offset, count);
            _written += count;
        }
    }
}
