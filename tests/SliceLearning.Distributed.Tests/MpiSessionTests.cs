using SliceLearning.Models;
using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Distributed.Tests;

public sealed class MpiSessionTests
{
    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 3)]
    [InlineData(2, 4)]
    [InlineData(0, 2)]
    public void ShardsCoverEveryRowOnceInContiguousBlocksThatDifferByAtMostOne(int count, int worldSize)
    {
        var covered = new List<int>();
        var sizes = new List<int>();
        for (int rank = 0; rank < worldSize; rank++)
        {
            var (start, length) = MpiSession.ShardRange(count, rank, worldSize);
            Assert.Equal(covered.Count, start);
            covered.AddRange(Enumerable.Range(start, length));
            sizes.Add(length);
        }
        Assert.Equal(Enumerable.Range(0, count), covered);
        Assert.True(sizes.Max() - sizes.Min() <= 1);
    }

    [Fact]
    public void ShardRangeRejectsARankOutsideTheGroup()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MpiSession.ShardRange(10, 2, 2));
        Assert.Contains("[0, 2)", e.Message);
    }

    [Fact]
    public void WithoutALauncherTheSessionIsOneRankAndTrainingIsUnchanged()
    {
        Assert.False(MpiSession.LaunchedByMpich());
        using var session = MpiSession.Start();
        Assert.Equal((0, 1), (session.Rank, session.WorldSize));
        Assert.Equal(new[] { 1, 2, 3 }, session.ShardOf(new[] { 1, 2, 3 }));

        var plain = TrainTiny(null);
        var parallel = TrainTiny(session);
        Assert.Equal(plain, parallel);
    }

    [Fact]
    public void OpenMpiLaunchIsRefusedWithWhatToInstall()
    {
        Environment.SetEnvironmentVariable("OMPI_COMM_WORLD_SIZE", "2");
        try
        {
            var e = Assert.Throws<MpiUnavailableException>(() => MpiSession.Start());
            Assert.Contains("Open MPI", e.Message);
            Assert.Contains("mpich", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OMPI_COMM_WORLD_SIZE", null);
        }
    }

    [Fact]
    public void ADisposedSessionRefusesCollectives()
    {
        var session = MpiSession.Start();
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.SumInPlace(new double[1]));
    }

    private static float[] TrainTiny(MpiSession? session)
    {
        var slices = SliceSet.For<float[]>().Add("left", p => p[0] < 0).Build();
        var random = new Random(3);
        var rows = Enumerable.Range(0, 200).Select(_ => new[] { (float)random.NextDouble() * 2 - 1, (float)random.NextDouble() * 2 - 1 }).ToArray();
        using var data = SliceDataset.From(rows, p => p, p => p[0] + p[1] > 0 ? 1 : 0, slices);
        manual_seed(4);
        using var model = SliceAwareModel.Create(nn.Sequential(nn.Linear(2, 8), nn.ReLU()), 8, 2, slices.SliceNames);
        var trainer = SliceTrainer.For(model).WithData(data).WithEpochs(2).WithSeed(4);
        if (session is not null) trainer.WithDataParallel(session);
        trainer.Fit();
        return model.Module.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();
    }
}
