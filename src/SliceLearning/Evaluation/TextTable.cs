using System.Globalization;
using System.Text;

namespace SliceLearning.Evaluation;

/// <summary>Formatting helpers shared by the report renderers.</summary>
internal static class TextTable
{
    /// <summary>An aligned table: first column left-aligned, the others right-aligned, a rule under the header.</summary>
    public static string Render(IReadOnlyList<string[]> rows)
    {
        int columns = rows[0].Length;
        var widths = new int[columns];
        foreach (var row in rows)
            for (int c = 0; c < columns; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        var sb = new StringBuilder();
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            for (int c = 0; c < columns; c++)
            {
                if (c > 0) sb.Append("  ");
                sb.Append(c == 0 ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]));
            }
            TrimEnd(sb);
            sb.Append('\n');
            if (r == 0)
            {
                sb.Append('-', widths.Sum() + 2 * (columns - 1));
                sb.Append('\n');
            }
        }
        return sb.ToString();
    }

    public static string Number(double value) => double.IsNaN(value) ? "-" : value.ToString("F3", CultureInfo.InvariantCulture);

    public static string Signed(double value) => double.IsNaN(value) ? "-" : value.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    public static string Interval(ConfidenceInterval? ci, bool signed = false) => ci is { } c
        ? "[" + (signed ? Signed(c.Lower) : Number(c.Lower)) + ", " + (signed ? Signed(c.Upper) : Number(c.Upper)) + "]"
        : "";

    public static string Percent(double value) => (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    public static string Csv(double value) => double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

    public static string CsvField(string value) =>
        value.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    public static string LevelLabel(double level) => (level * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    private static void TrimEnd(StringBuilder sb)
    {
        while (sb.Length > 0 && sb[^1] == ' ') sb.Length--;
    }
}
