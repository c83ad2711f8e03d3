using SliceLearning.Slicing;

namespace SliceLearning.Data.Synthetic;

/// <summary>One generated synthetic data set: points, labels, and slice membership twice: the truth and the noisy SFs.</summary>
public sealed class SyntheticSliceData
{
    private readonly double[] _noiseRates;

    internal SyntheticSliceData(SyntheticPoint[] points, int[] labels, SliceMatrix trueSlices, SliceMatrix sfSlices, double[] noiseRates)
    {
        Points = points;
        Labels = labels;
        TrueSlices = trueSlices;
        SfSlices = sfSlices;
        _noiseRates = noiseRates;
    }

    /// <summary>Number of points, N.</summary>
    public int Count => Points.Count;

    /// <summary>The points, in generated (shuffled) order.</summary>
    public IReadOnlyList<SyntheticPoint> Points { get; }

    /// <summary>Class labels (0 or 1), one per point.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>True region membership [N, m], base first: what slice metrics are measured on.</summary>
    public SliceMatrix TrueSlices { get; }

    /// <summary>The SFs' (noisy) outputs [N, m], base first: what a slice-aware model trains on.</summary>
    public SliceMatrix SfSlices { get; }

    /// <summary>The SF noise rate requested for each column (0 for the base slice).</summary>
    public double NoiseRate(int column) => _noiseRates[column];

    /// <summary>Features as a row-major float array [N × 2] (x, y per point), ready for <c>torch.tensor(data, N, 2)</c>.</summary>
    public float[] FeatureArray()
    {
        var result = new float[Points.Count * 2];
        for (int i = 0; i < Points.Count; i++) { result[2 * i] = Points[i].X; result[2 * i + 1] = Points[i].Y; }
        return result;
    }

    /// <summary>Labels as an int64 array (TorchSharp's class-index type).</summary>
    public long[] LabelArray() => Labels.Select(l => (long)l).ToArray();
}
