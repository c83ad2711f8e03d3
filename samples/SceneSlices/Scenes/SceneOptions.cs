using System.Globalization;

namespace SceneSlices.Scenes;

/// <summary>The object classes of the paper's CyDet slicing functions (appendix A1.5), in its order.</summary>
public enum SceneObject
{
    Bench,
    Truck,
    Car,
    Bus,
    Person,
    TrafficLight,
    FireHydrant,
    StopSign,
    Bicycle,
}

/// <summary>Scene lighting.</summary>
public enum Lighting
{
    Day,
    Dusk,
    Night,
}

/// <summary>
/// Parameters of the street-scene generator: label rate, object rates, lighting, cyclist size and
/// occlusion, clutter, and the correlations that make some slices hard. Every probability is
/// checked by <see cref="Validate"/>.
/// </summary>
public sealed record SceneOptions
{
    /// <summary>Objects placed independently of the label, with these probabilities per image.
    /// <see cref="SceneObject.Person"/> and <see cref="SceneObject.Bicycle"/> here are pedestrians and parked
    /// bicycles; a cyclist also shows a person and a bicycle to a detector.</summary>
    public static IReadOnlyDictionary<SceneObject, double> DefaultObjectRates { get; } = new Dictionary<SceneObject, double>
    {
        [SceneObject.Bench] = 0.15,
        [SceneObject.Truck] = 0.15,
        [SceneObject.Car] = 0.45,
        [SceneObject.Bus] = 0.15,
        [SceneObject.Person] = 0.30,
        [SceneObject.TrafficLight] = 0.30,
        [SceneObject.FireHydrant] = 0.12,
        [SceneObject.StopSign] = 0.12,
        [SceneObject.Bicycle] = 0.10,
    };

    /// <summary>Image width and height in pixels. The default is 64.</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>P(the image contains a cyclist), the positive label. The default is 0.35.</summary>
    public double CyclistRate { get; init; } = 0.35;

    /// <summary>Per-class probability of an independently placed object; see <see cref="DefaultObjectRates"/>.</summary>
    public IReadOnlyDictionary<SceneObject, double> ObjectRates { get; init; } = DefaultObjectRates;

    /// <summary>Probabilities of day, dusk and night (normalised). The default is 0.55 / 0.25 / 0.20.</summary>
    public IReadOnlyList<double> LightingWeights { get; init; } = new[] { 0.55, 0.25, 0.20 };

    /// <summary>Smallest cyclist scale (1 = the size a cyclist has at its depth). The default is 0.9.</summary>
    public double CyclistMinScale { get; init; } = 0.9;

    /// <summary>Largest cyclist scale. The default is 1.4.</summary>
    public double CyclistMaxScale { get; init; } = 1.4;

    /// <summary>Hard slice: P(a cyclist at night is small, scale x <see cref="SmallScale"/>). The default is 0.6.</summary>
    public double SmallCyclistAtNight { get; init; } = 0.6;

    /// <summary>Scale factor of a small cyclist. The default is 0.55.</summary>
    public double SmallScale { get; init; } = 0.55;

    /// <summary>Hard slice: when a bus and a cyclist are both in the image, P(the cyclist rides partly
    /// hidden behind the bus). The default is 0.7.</summary>
    public double CyclistBehindBus { get; init; } = 0.7;

    /// <summary>Hard slice (hard negatives): when a bench is in the image, P(a parked bicycle with a person
    /// standing by it is next to the bench), which looks like a cyclist. The default is 0.6.</summary>
    public double ParkedBicycleAtBench { get; init; } = 0.6;

    /// <summary>P(a tree in front of the cyclist hides part of it). The default is 0.2.</summary>
    public double OcclusionRate { get; init; } = 0.2;

    /// <summary>Clutter, 0 to 1: buildings, trees and street furniture that are no detector class. The default is 0.5.</summary>
    public double Clutter { get; init; } = 0.5;

    /// <summary>Standard deviation of the Gaussian pixel noise (0..255 scale). The default is 6.</summary>
    public double PixelNoise { get; init; } = 6;

    /// <summary>Checks every option; the message lists each problem with the option's name and value.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        void Probability(string name, double value)
        {
            if (!(value >= 0 && value <= 1)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"{name} must be a probability in [0, 1], got {value}."));
        }
        if (ImageSize < 32 || ImageSize > 512) errors.Add($"ImageSize must be between 32 and 512 pixels, got {ImageSize}.");
        Probability(nameof(CyclistRate), CyclistRate);
        Probability(nameof(SmallCyclistAtNight), SmallCyclistAtNight);
        Probability(nameof(CyclistBehindBus), CyclistBehindBus);
        Probability(nameof(ParkedBicycleAtBench), ParkedBicycleAtBench);
        Probability(nameof(OcclusionRate), OcclusionRate);
        Probability(nameof(Clutter), Clutter);
        if (ObjectRates is null) errors.Add("ObjectRates must not be null.");
        else
            foreach (var o in Enum.GetValues<SceneObject>())
                if (!ObjectRates.TryGetValue(o, out double r)) errors.Add($"ObjectRates has no rate for {o}.");
                else Probability($"ObjectRates[{o}]", r);
        if (LightingWeights is null || LightingWeights.Count != 3 || LightingWeights.Any(w => !(w >= 0)) || LightingWeights.Sum() <= 0)
            errors.Add("LightingWeights must hold three non-negative weights (day, dusk, night) with a positive sum.");
        if (!(CyclistMinScale > 0 && CyclistMaxScale >= CyclistMinScale && CyclistMaxScale <= 3))
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"CyclistMinScale and CyclistMaxScale must satisfy 0 < min <= max <= 3, got {CyclistMinScale} and {CyclistMaxScale}."));
        if (!(SmallScale > 0 && SmallScale <= 1)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"SmallScale must be in (0, 1], got {SmallScale}."));
        if (!(PixelNoise >= 0 && PixelNoise <= 100)) errors.Add(string.Create(CultureInfo.InvariantCulture, $"PixelNoise must be in [0, 100], got {PixelNoise}."));
        if (errors.Count > 0)
            throw new ArgumentException("Invalid SceneOptions:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e)));
    }

    /// <summary>A stable text of every option, for cache keys and logs.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"size={ImageSize};cyclist={CyclistRate};objects={string.Join(",", Enum.GetValues<SceneObject>().Select(o => ObjectRates[o]))};" +
        $"light={string.Join(",", LightingWeights)};scale={CyclistMinScale}-{CyclistMaxScale};small@night={SmallCyclistAtNight}x{SmallScale};" +
        $"behindBus={CyclistBehindBus};bikeAtBench={ParkedBicycleAtBench};occl={OcclusionRate};clutter={Clutter};noise={PixelNoise}");
}
