using SliceLearning.Slicing;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Slicing;

[Collection("Sequential")]
public sealed class SliceMatrixTests
{
    private static SliceMatrix Matrix() => SliceSet.For<int>().Add("even", i => i % 2 == 0).Add("big", i => i >= 67)
        .Build().Apply(Enumerable.Range(0, 70).ToArray());

    [Fact]
    public void Tensor_RoundTrips_FloatAndBool()
    {
        var matrix = Matrix();
        using var t = matrix.ToTensor();
        Assert.Equal(new long[] { 70, 3 }, t.shape);
        Assert.Equal(ScalarType.Float32, t.dtype);
        Assert.Equal(new float[] { 1, 1, 0 }, t[66].data<float>().ToArray());
        Assert.Equal(new float[] { 1, 0, 1 }, t[67].data<float>().ToArray());
        Assert.Equal(70f, t[.., 0].sum().item<float>());
        using var b = matrix.ToTensor(ScalarType.Bool);
        var back = SliceMatrix.FromTensor(b, matrix.SliceNames);
        for (int c = 0; c < 3; c++) Assert.Equal(matrix.Members(c), back.Members(c));
    }

    [Fact]
    public void Tensor_MatchesIndexer_ForManyColumnsAndRaggedRows()
    {
        var builder = SliceSet.For<int>();
        for (int f = 0; f < 70; f++) { int d = f + 2; builder.Add($"div{d}", i => i % d == 0); }
        var matrix = builder.Build().Apply(Enumerable.Range(0, 1000).ToArray());
        using var t = matrix.ToTensor();
        var values = t.data<float>().ToArray();
        for (int r = 0; r < 1000; r++)
            for (int c = 0; c < 71; c++)
                Assert.Equal(matrix[r, c] ? 1f : 0f, values[r * 71 + c]);
        using var onDevice = matrix.ToTensor(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, onDevice.dtype);
    }

    [Fact]
    public void FromTensor_RejectsBadShapeAndNonBaseRow()
    {
        using var wrong = zeros(4, 2);
        Assert.Throws<SliceDataException>(() => SliceMatrix.FromTensor(wrong, new[] { "base", "a", "b" }));
        var ex = Assert.Throws<SliceDataException>(() => SliceMatrix.FromTensor(wrong, new[] { "base", "a" }));
        Assert.Equal(0, ex.Row);
    }

    [Fact]
    public void SelectRows_KeepsOrder()
    {
        var sub = Matrix().SelectRows(new[] { 69, 2, 3 });
        Assert.Equal(3, sub.RowCount);
        Assert.Equal(new[] { 1 }, sub.Members(1));
        Assert.Equal(new[] { 0 }, sub.Members(2));
        Assert.Equal(3, sub.MemberCount(0));
    }

    [Fact]
    public void FromRows_RejectsNonBaseRow()
    {
        var rows = new bool[2, 2];
        rows[0, 0] = true;
        var ex = Assert.Throws<SliceDataException>(() => SliceMatrix.FromRows(new[] { "base", "x" }, rows));
        Assert.Equal(1, ex.Row);
    }
}
