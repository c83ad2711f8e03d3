namespace SliceLearning.Distributed.Tests;

/// <summary>2-rank training under mpirun.mpich against the single-process reference.</summary>
public sealed class TwoRankTrainingTests
{
    [Theory]
    [InlineData("vanilla")]
    [InlineData("sram")]
    [InlineData("sram-per-slice")]
    public void TwoRanksOnHalfTheRowsEachMatchOneProcessOnAllRows(string model)
    {
        // One step per epoch: each rank's batch is its whole shard (200 rows), the reference's batch
        // is all 400 rows, so both take the same 20 full-batch steps.
        var single = MpiRun.Train(0, $"--model {model} --rows 400 --batch-size 400 --epochs 20 --seed 5");
        var twoRanks = MpiRun.Train(2, $"--model {model} --rows 400 --batch-size 200 --epochs 20 --seed 5");

        Assert.Equal(1, single.WorldSize);
        Assert.Equal(2, twoRanks.WorldSize);
        Assert.Equal(single.Weights.Keys.Order(), twoRanks.Weights.Keys.Order());
        foreach (var (name, expected) in single.Weights)
        {
            var actual = twoRanks.Weights[name];
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"{name}[{i}]: {expected[i]} vs {actual[i]}");
        }
        for (int e = 0; e < single.Losses.Length; e++) Assert.Equal(single.Losses[e], twoRanks.Losses[e], 1e-5);
        // Validation F1 is computed over the gathered rows, so it equals the single-process score.
        Assert.Equal(single.Scores, twoRanks.Scores);
    }

    [Fact]
    public void ReportsReducedOverShardsEqualTheSingleProcessReport()
    {
        var single = MpiRun.Train(0, "--model vanilla --rows 400 --batch-size 400 --epochs 5 --seed 9");
        var twoRanks = MpiRun.Train(2, "--model vanilla --rows 400 --batch-size 200 --epochs 5 --seed 9");
        // Same predictions (weights agree to 1e-5 and no test row sits on the boundary), and the
        // report is built from the gathered rows: support, metrics and seeded CIs are identical.
        Assert.Equal(single.Report, twoRanks.Report);
    }

    [Fact]
    public void MiniBatchTrainingKeepsTheRanksInStepAndLearns()
    {
        var twoRanks = MpiRun.Train(2, "--model sram --rows 2001 --batch-size 64 --epochs 4 --seed 2");
        Assert.Equal(4, twoRanks.Losses.Length);
        Assert.True(twoRanks.Losses[^1] < twoRanks.Losses[0], string.Join(", ", twoRanks.Losses));
        Assert.True(twoRanks.Scores[^1] > 0.8, string.Join(", ", twoRanks.Scores));
    }

    [Fact]
    public void AFailureOnOneRankStopsEveryRankWithItsRankAndError()
    {
        var outcome = MpiRun.Sample(2, "--model sram --rows 2000 --epochs 50 --fail-on-rank 1", TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("rank 1 of 2 failed", outcome.StdErr);
        Assert.Contains("deliberate failure on rank 1", outcome.StdErr);
    }
}

/// <summary>Slice Tuner curve estimation with its trainings dealt over 2 ranks.</summary>
public sealed class TwoRankCurveEstimationTests
{
    [Fact]
    public void CurvesEstimatedOnTwoRanksEqualTheSequentialEstimateExactly()
    {
        string Run(int ranks)
        {
            var file = Path.Combine(Path.GetTempPath(), $"slicelearning-curves-{Guid.NewGuid():N}.json");
            try
            {
                var outcome = MpiRun.Sample(ranks, $"--curves --rows 600 --epochs 3 --seed 4 --output \"{file}\"", TimeSpan.FromMinutes(3));
                Assert.True(outcome.ExitCode == 0, $"exit {outcome.ExitCode}\n{outcome.StdOut}\n{outcome.StdErr}");
                Assert.Contains($"8 trainings over {Math.Max(ranks, 1)} rank(s)", outcome.StdOut);
                return File.ReadAllText(file);
            }
            finally
            {
                File.Delete(file);
            }
        }

        string sequential = Run(0);
        string twoRanks = Run(2);
        Assert.Equal(sequential, twoRanks);      // every (size, loss) point, bit for bit
        Assert.Contains("[", sequential);
    }
}
