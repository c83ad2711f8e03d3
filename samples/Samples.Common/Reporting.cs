using System.Globalization;
using System.Text;
using Spectre.Console;

namespace SliceLearning.Samples;

/// <summary>Mean and sample standard deviation over seeds.</summary>
public readonly record struct MeanStd(double Mean, double Std, int Count)
{
    public static MeanStd Of(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new MeanStd(double.NaN, double.NaN, 0);
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return new MeanStd(mean, std, v.Length);
    }

    /// <summary>"0.873 ± 0.012" (scores on the 0-1 scale).</summary>
    public string Score => double.IsNaN(Mean) ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{Mean:F3} ± {Std:F3}");

    /// <summary>"+32.1 ± 2.0" (F1 points).</summary>
    public string Points => double.IsNaN(Mean) ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{100 * Mean:+0.0;-0.0;0.0} ± {100 * Std:F1}");
}

/// <summary>A titled table printed with Spectre.Console and saved as Markdown.</summary>
public sealed class ResultTable(string title, params string[] headers)
{
    private readonly List<string[]> _rows = new();

    public string Title { get; } = title;
    public IReadOnlyList<string> Headers { get; } = headers;
    public List<string> Notes { get; } = new();

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Print()
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(Title)}[/]");
        foreach (var h in Headers) table.AddColumn(new TableColumn(Markup.Escape(h)).RightAligned());
        table.Columns[0].LeftAligned();
        foreach (var row in _rows) table.AddRow(row.Select(c => Markup.Escape(c)).ToArray());
        AnsiConsole.Write(table);
        foreach (var note in Notes) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(note)}[/]");
        AnsiConsole.WriteLine();
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"#### {Title}").AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Headers) + " |");
        sb.AppendLine("|" + string.Join("|", Headers.Select((_, i) => i == 0 ? " --- " : " ---: ")) + "|");
        foreach (var row in _rows) sb.AppendLine("| " + string.Join(" | ", row) + " |");
        if (Notes.Count > 0) sb.AppendLine();
        foreach (var note in Notes) sb.AppendLine(note).AppendLine();
        return sb.ToString();
    }
}
