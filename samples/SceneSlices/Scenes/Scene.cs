namespace SceneSlices.Scenes;

/// <summary>
/// One generated street scene: the RGB pixels, the label (is there a cyclist) and the ground truth
/// that slicing functions never see (they read <see cref="NoisyDetector"/> output and pixels); the
/// ground truth is kept to evaluate the SFs and to report metrics on the true slices.
/// </summary>
/// <param name="Index">The scene's index in its generator stream (it seeds the scene).</param>
/// <param name="Size">Width and height in pixels.</param>
/// <param name="Pixels">RGB bytes, row-major, [Size, Size, 3].</param>
/// <param name="HasCyclist">The label.</param>
/// <param name="Lighting">Day, dusk or night.</param>
/// <param name="Placed">Objects placed independently of the label at their <see cref="SceneOptions.ObjectRates"/>.</param>
/// <param name="Visible">Every class a perfect detector would report: <paramref name="Placed"/>, the bicycle and
/// person of a parked bicycle at a bench, and the bicycle and person that make up a cyclist.</param>
/// <param name="CyclistSmall">The cyclist was drawn at the small night-time scale.</param>
/// <param name="CyclistBehindBus">The cyclist rides partly hidden behind the bus.</param>
/// <param name="CyclistOccluded">A tree hides part of the cyclist.</param>
/// <param name="ParkedBicycleAtBench">A parked bicycle with a person by it stands at the bench (a hard negative).</param>
public sealed record Scene(
    int Index,
    int Size,
    byte[] Pixels,
    bool HasCyclist,
    Lighting Lighting,
    IReadOnlySet<SceneObject> Placed,
    IReadOnlySet<SceneObject> Visible,
    bool CyclistSmall,
    bool CyclistBehindBus,
    bool CyclistOccluded,
    bool ParkedBicycleAtBench)
{
    /// <summary>The label as a class index: 1 = cyclist.</summary>
    public int Label => HasCyclist ? 1 : 0;

    /// <summary>Mean luma (0..255) of the pixels, what a "night" SF can read.</summary>
    public double MeanLuma()
    {
        double sum = 0;
        for (int i = 0; i < Pixels.Length; i += 3) sum += 0.299 * Pixels[i] + 0.587 * Pixels[i + 1] + 0.114 * Pixels[i + 2];
        return sum / (Pixels.Length / 3);
    }
}
