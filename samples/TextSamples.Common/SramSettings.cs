using System.Globalization;
using System.Reflection;
using SliceLearning.Models;

namespace TextSamples;

/// <summary>
/// Parses "Name=Value" assignments of <see cref="SliceAwareOptions"/> properties (e.g.
/// "ExpertSize=128", "IndicatorLossWeight=0.25", "Attention=Full"), so a run can change SRAM's
/// options from the command line; no assignment keeps the library's defaults.
/// </summary>
public static class SramSettings
{
    /// <summary>Turns the assignments into a configure action for <see cref="SliceAwareModel.Create(TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor}, long, int, IReadOnlyList{string}, Action{SliceAwareOptions}?)"/>.</summary>
    /// <exception cref="ArgumentException">An assignment has no '=', names no settable option, or its value does not parse; the message names it and lists the options.</exception>
    public static Action<SliceAwareOptions> Parse(IEnumerable<string> assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var settable = typeof(SliceAwareOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();
        var actions = new List<Action<SliceAwareOptions>>();
        foreach (var assignment in assignments)
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"SRAM option '{assignment}' is not Name=Value; options: {string.Join(", ", settable.Select(p => p.Name))}.");
            string name = assignment[..eq].Trim(), text = assignment[(eq + 1)..].Trim();
            var property = settable.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"SRAM option '{name}' does not exist; options: {string.Join(", ", settable.Select(p => p.Name))}.");
            object? value = Convert(property.PropertyType, text)
                ?? throw new ArgumentException($"SRAM option {property.Name}: '{text}' is not a valid {Describe(property.PropertyType)}.");
            var boxed = value is DBNull ? null : value;
            actions.Add(o => property.SetValue(o, boxed));
        }
        // Fail here, not when the first model is built.
        var check = new SliceAwareOptions();
        foreach (var a in actions) a(check);
        check.Validate();
        return o => { foreach (var a in actions) a(o); };
    }

    private static object? Convert(Type type, string text)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null)
            return text.Equals("null", StringComparison.OrdinalIgnoreCase) ? DBNull.Value : Convert(underlying, text);
        if (type.IsEnum) return Enum.TryParse(type, text, ignoreCase: true, out var e) && Enum.IsDefined(type, e!) ? e : null;
        if (type == typeof(double)) return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
        if (type == typeof(long)) return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
        if (type == typeof(int)) return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;
        if (type == typeof(bool)) return bool.TryParse(text, out var b) ? b : null;
        return null;
    }

    private static string Describe(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null) return Describe(underlying) + " or null";
        return type.IsEnum ? $"value of {string.Join("|", Enum.GetNames(type))}" : type.Name;
    }
}
