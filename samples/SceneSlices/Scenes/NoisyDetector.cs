using System.Globalization;

namespace SceneSlices.Scenes;

/// <summary>Error rates of the simulated object detector, per class.</summary>
public sealed record NoisyDetectorOptions
{
    /// <summary>P(a visible object of the class is not reported). The default is 0.15 for every class (0.25 for
    /// the small classes fire hydrant and stop sign).</summary>
    public IReadOnlyDictionary<SceneObject, double> MissRates { get; init; } = Enum.GetValues<SceneObject>()
        .ToDictionary(o => o, o => o is SceneObject.FireHydrant or SceneObject.StopSign ? 0.25 : 0.15);

    /// <summary>P(a class that is not in the image is reported). The default is 0.05 for every class.</summary>
    public IReadOnlyDictionary<SceneObject, double> FalseAlarmRates { get; init; } = Enum.GetValues<SceneObject>().ToDictionary(o => o, _ => 0.05);

    /// <summary>Seeds the detector's errors (independent of the scene seed). The default is 7.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>The same miss and false-alarm rate for every class.</summary>
    public static NoisyDetectorOptions Uniform(double missRate, double falseAlarmRate, int seed = 7) => new()
    {
        MissRates = Enum.GetValues<SceneObject>().ToDictionary(o => o, _ => missRate),
        FalseAlarmRates = Enum.GetValues<SceneObject>().ToDictionary(o => o, _ => falseAlarmRate),
        Seed = seed,
    };

    /// <summary>Checks that every class has both rates, each in [0, 1].</summary>
    /// <exception cref="ArgumentException">A rate is missing or out of range; the message names the class.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        foreach (var o in Enum.GetValues<SceneObject>())
        {
            if (MissRates is null || !MissRates.TryGetValue(o, out double m)) errors.Add($"MissRates has no rate for {o}.");
            else if (!(m >= 0 && m <= 1)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"MissRates[{o}] must be in [0, 1], got {m}."));
            if (FalseAlarmRates is null || !FalseAlarmRates.TryGetValue(o, out double f)) errors.Add($"FalseAlarmRates has no rate for {o}.");
            else if (!(f >= 0 && f <= 1)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"FalseAlarmRates[{o}] must be in [0, 1], got {f}."));
        }
        if (errors.Count > 0)
            throw new ArgumentException("Invalid NoisyDetectorOptions:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)));
    }
}

/// <summary>
/// Stands in for the paper's off-the-shelf Mask R-CNN (appendix A1.5): reports the classes it
/// "sees" in a scene, missing visible objects and hallucinating absent ones at per-class rates.
/// Deterministic per (detector seed, scene index, class). SFs read only this output.
/// </summary>
public sealed class NoisyDetector
{
    private readonly NoisyDetectorOptions _options;

    /// <summary>Creates a detector; the options are validated.</summary>
    public NoisyDetector(NoisyDetectorOptions? options = null)
    {
        _options = options ?? new NoisyDetectorOptions();
        _options.Validate();
    }

    /// <summary>The options.</summary>
    public NoisyDetectorOptions Options => _options;

    /// <summary>The classes reported for <paramref name="scene"/>.</summary>
    public IReadOnlySet<SceneObject> Detect(Scene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var found = new HashSet<SceneObject>();
        foreach (var o in Enum.GetValues<SceneObject>())
        {
            double u = new Random(SeedMix.Of(_options.Seed, scene.Index, (int)o, 101)).NextDouble();
            bool visible = scene.Visible.Contains(o);
            if (visible ? u >= _options.MissRates[o] : u < _options.FalseAlarmRates[o]) found.Add(o);
        }
        return found;
    }
}
