using SliceLearning.Slicing;

namespace SceneSlices.Scenes;

/// <summary>A scene as the SFs see it: the detector's report and the pixels' mean luma, never the ground truth.</summary>
/// <param name="Row">Row in its split (for the features).</param>
/// <param name="Detections">What the noisy detector reported.</param>
/// <param name="MeanLuma">Mean luma of the pixels (0..255).</param>
public sealed record DetectedScene(int Row, IReadOnlySet<SceneObject> Detections, double MeanLuma);

/// <summary>The sample's slicing functions and the matching ground-truth slices.</summary>
public static class SceneSlicing
{
    /// <summary>Mean luma below which the "night" SF fires.</summary>
    public const double NightLumaThreshold = 55;

    /// <summary>SF name of each detector class, as in the paper (SF_bench ... SF_bicycle).</summary>
    public static string Name(SceneObject o) => o switch
    {
        SceneObject.TrafficLight => "traffic_light",
        SceneObject.FireHydrant => "fire_hydrant",
        SceneObject.StopSign => "stop_sign",
        _ => o.ToString().ToLowerInvariant(),
    };

    /// <summary>Slice names in column order (without the base slice): the nine detector classes, then "night".</summary>
    public static IReadOnlyList<string> SliceNames { get; } = Enum.GetValues<SceneObject>().Select(Name).Append("night").ToArray();

    /// <summary>The paper's nine detector SFs plus a pixel-intensity night SF (the paper's Example 1).</summary>
    public static SliceSet<DetectedScene> Functions()
    {
        var builder = SliceSet.For<DetectedScene>();
        foreach (var o in Enum.GetValues<SceneObject>()) builder.Add(Name(o), s => s.Detections.Contains(o));
        return builder.Add("night", s => s.MeanLuma < NightLumaThreshold).Build();
    }

    /// <summary>Applies the SFs to the detector's output on <paramref name="scenes"/>.</summary>
    public static SliceMatrix Apply(IReadOnlyList<Scene> scenes, NoisyDetector detector) =>
        Functions().Apply(scenes.Select((s, i) => new DetectedScene(i, detector.Detect(s), s.MeanLuma())).ToArray());

    /// <summary>The true slices: the classes visible in each scene and the night lighting.</summary>
    public static SliceMatrix Truth(IReadOnlyList<Scene> scenes)
    {
        var names = new[] { SliceMatrix.BaseSliceName }.Concat(SliceNames).ToArray();
        var m = new bool[scenes.Count, names.Length];
        var objects = Enum.GetValues<SceneObject>();
        for (int i = 0; i < scenes.Count; i++)
        {
            m[i, 0] = true;
            for (int k = 0; k < objects.Length; k++) m[i, k + 1] = scenes[i].Visible.Contains(objects[k]);
            m[i, names.Length - 1] = scenes[i].Lighting == Lighting.Night;
        }
        return SliceMatrix.FromRows(names, m);
    }
}
