using SliceLearning.Benchmarks.Soak;

namespace SliceLearning.Tests.Runtime;

/// <summary>
/// The short version of the soak tool (benchmarks: <c>-- soak &lt;minutes&gt;</c>): SRAM fits through the
/// public API while a thread forces full collections. A temporary Scalar on that path fails a step or
/// the process sooner or later (in 12-19 s of soak before the library avoided them).
/// </summary>
[Collection("Sequential")]
public sealed class ScalarRaceSoakTests
{
    [Fact]
    public void SramFits_CompleteWhileCollectionsAreForced()
    {
        var result = GcSoak.Run((fits, _) => fits < 4);
        Assert.Equal(4, result.Fits);
        Assert.Equal(4 * 2 * 8, result.Steps);
        Assert.True(result.ForcedCollections > 0, "the collector thread never ran");
    }
}
