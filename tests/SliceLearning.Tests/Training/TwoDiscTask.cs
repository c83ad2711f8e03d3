using SliceLearning.Slicing;
using SliceLearning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

/// <summary>
/// The paper's synthetic setting (section 3.3) in small: points in [-1, 1]^2 labelled by the line
/// x0 + x1 &gt; 0, except inside two discs on the boundary where the label is flipped. The SFs mark
/// the discs, so no linear boundary fits the slices.
/// </summary>
internal static class TwoDiscTask
{
    // Discs of radius 0.2 centred on the boundary: about 3% of the points each, as in the paper.
    public static readonly (double X, double Y, double R) DiscA = (-0.45, 0.45, 0.2);
    public static readonly (double X, double Y, double R) DiscB = (0.5, -0.5, 0.2);

    public static bool InDisc((double X, double Y, double R) d, float[] p) =>
        (p[0] - d.X) * (p[0] - d.X) + (p[1] - d.Y) * (p[1] - d.Y) < d.R * d.R;

    public static SliceSet<float[]> Slices { get; } = SliceSet.For<float[]>()
        .Add("disc_a", p => InDisc(DiscA, p))
        .Add("disc_b", p => InDisc(DiscB, p))
        .Build();

    public static int Label(float[] p)
    {
        bool positive = p[0] + p[1] > 0;
        if (InDisc(DiscA, p) || InDisc(DiscB, p)) positive = !positive;
        return positive ? 1 : 0;
    }

    public static float[][] Points(int n, int seed)
    {
        var random = new Random(seed);
        var points = new float[n][];
        for (int i = 0; i < n; i++) points[i] = new[] { (float)(random.NextDouble() * 2 - 1), (float)(random.NextDouble() * 2 - 1) };
        return points;
    }

    public static SliceDataset Dataset(int n, int seed)
    {
        var points = Points(n, seed);
        return SliceDataset.From(points, p => p, Label, Slices);
    }

    /// <summary>The paper's backbone: a 2-layer MLP with a final ReLU, width d.</summary>
    public static nn.Module<Tensor, Tensor> Backbone(long inputWidth = 2, long width = 13) =>
        nn.Sequential(nn.Linear(inputWidth, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU());
}
