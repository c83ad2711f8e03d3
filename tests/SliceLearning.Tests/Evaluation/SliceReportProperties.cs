using FsCheck;
using FsCheck.Xunit;
using SliceLearning.Evaluation;
using SliceLearning.Slicing;

namespace SliceLearning.Tests.Evaluation;

public sealed class SliceReportProperties
{
    private static (SliceMatrix Matrix, int[] Labels, int[] Predictions) Build((byte Label, byte Prediction, byte Slices)[] rows, int numClasses)
    {
        var membership = new bool[rows.Length, 4];
        for (int r = 0; r < rows.Length; r++)
        {
            membership[r, 0] = true;
            for (int c = 1; c < 4; c++) membership[r, c] = (rows[r].Slices >> c & 1) == 1;
        }
        return (SliceMatrix.FromRows(new[] { "base", "s1", "s2", "s3" }, membership),
            rows.Select(r => r.Label % numClasses).ToArray(), rows.Select(r => r.Prediction % numClasses).ToArray());
    }

    [Property(MaxTest = 100)]
    public bool EachSlice_EqualsMetricsOfItsMembers_AndIntervalsAreOrdered((byte, byte, byte)[] rows, bool multiClass)
    {
        int c = multiClass ? 3 : 2;
        var (matrix, labels, predictions) = Build(rows, c);
        var report = SliceReport.Create(matrix, labels, predictions, c, new SliceReportOptions { BootstrapResamples = 30 });
        for (int col = 0; col < matrix.ColumnCount; col++)
        {
            var members = matrix.Members(col);
            var expected = ClassificationMetrics.Compute(members.Select(r => labels[r]).ToArray(), members.Select(r => predictions[r]).ToArray(), c);
            var s = report.Slices[col];
            if (s.Metrics != expected || s.IsEmpty != (members.Length == 0)) return false;
            if (s.IsEmpty != (s.Intervals is null)) return false;
            if (s.Intervals is { } ci && Enum.GetValues<Metric>().Any(m => ci.Get(m).Lower > ci.Get(m).Upper)) return false;
        }
        return true;
    }

    [Property(MaxTest = 100)]
    public bool Json_RoundTripsExactly((byte, byte, byte)[] rows, bool multiClass)
    {
        int c = multiClass ? 3 : 2;
        var (matrix, labels, predictions) = Build(rows, c);
        var report = SliceReport.Create(matrix, labels, predictions, c, new SliceReportOptions { BootstrapResamples = 20 });
        var back = SliceReport.FromJson(report.ToJson(indented: false));
        return back.Slices.SequenceEqual(report.Slices) && back.ToCsv() == report.ToCsv() && back.ToTable() == report.ToTable();
    }

    [Property(MaxTest = 50)]
    public bool Compare_WithItself_HasZeroLift((byte, byte, byte)[] rows)
    {
        var (matrix, labels, predictions) = Build(rows, 2);
        var report = SliceReport.Create(matrix, labels, predictions, 2, new SliceReportOptions { BootstrapResamples = 20 });
        var cmp = SliceReport.Compare(report, report);
        return cmp.Slices.All(s => s.IsEmpty
            ? s.LiftIntervals is null
            : Enum.GetValues<Metric>().All(m => s.Lift(m) == 0 && s.LiftIntervals!.Get(m) == new ConfidenceInterval(0, 0)));
    }
}
