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

    /// <summary>
    /// The paired lift interval of accuracy equals a bootstrap written out row by row: resample b of a
    /// slice with n members draws n members with replacement from stream (SliceSeed(42 ^ 0x2a2a, column), b)
    /// and scores both models on the same draw.
    /// </summary>
    [Property(MaxTest = 60)]
    public bool PairedAccuracyLift_EqualsANaiveRowBootstrap((byte Label, byte First, byte Second, byte Slices)[] data)
    {
        var rows = data.Take(64).ToArray();   // up to 64 rows: resamples draw rows one by one (see Bootstrap)
        var (matrix, labels, first) = Build(rows.Select(r => (r.Label, r.First, r.Slices)).ToArray(), 2);
        int[] second = rows.Select(r => r.Second % 2).ToArray();
        const int resamples = 30;
        var options = new SliceReportOptions { BootstrapResamples = resamples };
        var cmp = SliceReport.Compare(SliceReport.Create(matrix, labels, first, 2, options), SliceReport.Create(matrix, labels, second, 2, options));
        for (int col = 0; col < matrix.ColumnCount; col++)
        {
            var members = matrix.Members(col);
            var lift = cmp.Slices[col];
            if (members.Length == 0) { if (lift.LiftIntervals is not null) return false; continue; }
            var values = new double[resamples];
            int seed = Bootstrap.SliceSeed(options.Seed ^ 0x2a2a, col);
            for (int b = 0; b < resamples; b++)
            {
                var random = new Bootstrap.SplitMix64(seed, b);
                int right1 = 0, right2 = 0;
                for (int i = 0; i < members.Length; i++)
                {
                    int r = members[random.Below(members.Length)];
                    if (first[r] == labels[r]) right1++;
                    if (second[r] == labels[r]) right2++;
                }
                values[b] = (double)right2 / members.Length - (double)right1 / members.Length;
            }
            Array.Sort(values);
            double Quantile(double q)
            {
                double position = q * (resamples - 1);
                int lower = (int)Math.Floor(position);
                return values[lower] + (values[Math.Min(lower + 1, resamples - 1)] - values[lower]) * (position - lower);
            }
            var ci = lift.LiftIntervals!.Accuracy;
            if (Math.Abs(ci.Lower - Quantile(0.025)) > 1e-12 || Math.Abs(ci.Upper - Quantile(0.975)) > 1e-12) return false;
        }
        return true;
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
