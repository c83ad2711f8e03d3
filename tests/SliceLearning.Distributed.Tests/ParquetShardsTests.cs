using Parquet.Serialization;

namespace SliceLearning.Distributed.Tests;

public sealed class ParquetShardsTests
{
    public sealed class Row
    {
        public float X { get; set; }
        public int Label { get; set; }
    }

    [Fact]
    public void FilesAreDealtRoundRobinInSortedOrderSoEveryFileHasOneRank()
    {
        var files = new[] { "c.parquet", "a.parquet", "d.parquet", "b.parquet", "e.parquet" };
        Assert.Equal(new[] { "a.parquet", "c.parquet", "e.parquet" }, ParquetShards.Assign(files, 0, 2));
        Assert.Equal(new[] { "b.parquet", "d.parquet" }, ParquetShards.Assign(files, 1, 2));
    }

    [Fact]
    public void FewerFilesThanRanksIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ParquetShards.Assign(["a.parquet"], 0, 2));
        Assert.Contains("1 Parquet file(s) for 2 ranks", e.Message);
    }

    [Fact]
    public async Task EachRankReadsItsFilesAndTogetherTheyReadEveryRowOnce()
    {
        var folder = Directory.CreateTempSubdirectory("slicelearning-parquet-").FullName;
        try
        {
            for (int f = 0; f < 3; f++)
            {
                var rows = Enumerable.Range(0, 4).Select(i => new Row { X = f * 10 + i, Label = i % 2 }).ToArray();
                await using var stream = File.Create(Path.Combine(folder, $"part-{f}.parquet"));
                await ParquetSerializer.SerializeAsync(rows, stream);
            }
            var files = Directory.GetFiles(folder, "*.parquet");
            var rank0 = await ParquetShards.ReadAsync<Row>(ParquetShards.Assign(files, 0, 2));
            var rank1 = await ParquetShards.ReadAsync<Row>(ParquetShards.Assign(files, 1, 2));
            Assert.Equal(new float[] { 0, 1, 2, 3, 20, 21, 22, 23 }, rank0.Select(r => r.X));
            Assert.Equal(new float[] { 10, 11, 12, 13 }, rank1.Select(r => r.X));
            Assert.Equal(new[] { 0, 1, 0, 1 }, rank1.Select(r => r.Label));

            using var session = MpiSession.Start();       // one rank: reads all three files
            Assert.Equal(12, (await session.ReadShardAsync<Row>(folder)).Count);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task AFileThatIsNotParquetIsNamedInTheError()
    {
        var file = Path.Combine(Path.GetTempPath(), $"not-parquet-{Guid.NewGuid():N}.parquet");
        await File.WriteAllTextAsync(file, "x,label\n1,0\n");
        try
        {
            var e = await Assert.ThrowsAsync<InvalidDataException>(() => ParquetShards.ReadAsync<Row>([file]));
            Assert.Contains(file, e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
