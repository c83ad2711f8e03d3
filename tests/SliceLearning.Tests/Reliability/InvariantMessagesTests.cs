using System.Globalization;
using SliceLearning.Evaluation;
using SliceLearning.SliceTuner;
using SliceLearning.Training;

namespace SliceLearning.Tests.Reliability;

/// <summary>
/// Messages and names print numbers the same way whatever the current culture: under de-DE a
/// culture-formatted 1.5 would read "1,5".
/// </summary>
[Collection("Sequential")]
public sealed class InvariantMessagesTests
{
    [Fact]
    public void NumbersInMessages_IgnoreTheCurrentCulture()
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var report = Assert.Throws<ArgumentException>(() => new SliceReportOptions { ConfidenceLevel = 1.5 }.Validate());
            Assert.Contains("Got 1.5.", report.Message);

            Assert.Equal("exponential(0.25)", LearningRateSchedule.Exponential(0.25).Name);
            Assert.Equal("step(2, 0.5)", LearningRateSchedule.Step(2, 0.5).Name);

            var costs = Assert.Throws<SliceDataException>(() => new AcquisitionProblem(new[] { 10, 20 }, new[] { new LearningCurve(0.5, 1), new LearningCurve(0.5, 1) }, new[] { 1.0, -2.5 }));
            Assert.Contains("cost -2.5;", costs.Message);

            var lambda = Assert.Throws<ArgumentException>(() => new IterativeOptions { Lambda = -0.5 }.Validate());
            Assert.Contains("Got -0.5.", lambda.Message);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
