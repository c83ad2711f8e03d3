using System.Text.Json.Serialization;

namespace SliceLearning.Evaluation;

internal sealed class SliceReportJson
{
    public int NumClasses { get; set; }
    public int RowCount { get; set; }
    public int BootstrapResamples { get; set; }
    public double ConfidenceLevel { get; set; }
    public int Seed { get; set; }
    public List<SliceMetricsJson>? Slices { get; set; }
}

internal sealed class SliceMetricsJson
{
    public string Name { get; set; } = "";
    public int Support { get; set; }
    public int Correct { get; set; }
    public double Coverage { get; set; }
    public bool IsEmpty { get; set; }
    public double? Accuracy { get; set; }
    public double? Precision { get; set; }
    public double? Recall { get; set; }
    public double? F1 { get; set; }
    public double? Mcc { get; set; }
    public Dictionary<string, double[]>? Intervals { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SliceReportJson))]
internal sealed partial class SliceReportJsonContext : JsonSerializerContext
{
    private static SliceReportJsonContext? _indented;

    /// <summary>The same context writing indented JSON.</summary>
    public static SliceReportJsonContext Indented => _indented ??= new SliceReportJsonContext(new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase, WriteIndented = true });
}
