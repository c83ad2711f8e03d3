using SliceLearning.Slicing;
using SliceLearning.Training;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

[Collection("Sequential")]
public sealed class SliceDatasetTests
{
    private static readonly SliceSet<float[]> Slices = SliceSet.For<float[]>().Add("neg", p => p[0] < 0).Build();

    [Fact]
    public void From_FeaturizesLabelsAndSlices()
    {
        var items = new[] { new[] { -1f, 2f }, new[] { 3f, 4f }, new[] { -5f, 6f } };
        using var data = SliceDataset.From(items, p => p, p => p[1] > 3 ? 1 : 0, Slices);
        Assert.Equal(3, data.Count);
        Assert.Equal(new long[] { 3, 2 }, data.Features.shape);
        Assert.Equal(new[] { -1f, 2f, 3f, 4f, -5f, 6f }, data.Features.data<float>().ToArray());
        Assert.Equal(new long[] { 0, 1, 1 }, data.Labels.data<long>().ToArray());
        Assert.Equal(new[] { 0, 2 }, data.Slices.Members(1));
        Assert.Equal(new[] { 1f, 1f, 1f, 0f, 1f, 1f }, data.Membership.data<float>().ToArray());
        using var subset = data.Subset(new[] { 2, 0 });
        Assert.Equal(new[] { -5f, 6f, -1f, 2f }, subset.Features.data<float>().ToArray());
        Assert.Equal(new long[] { 1, 0 }, subset.Labels.data<long>().ToArray());
        Assert.Equal(new[] { 0, 1 }, subset.Slices.Members(1));
    }

    [Fact]
    public void BadData_NamesTheRow()
    {
        var ragged = new[] { new[] { 1f, 2f }, new[] { 3f } };
        var length = Assert.Throws<SliceDataException>(() => SliceDataset.From(ragged, p => p, _ => 0, Slices));
        Assert.StartsWith("The featurizer returned 1 values for row 1 but 2 for row 0", length.Message);
        Assert.Equal(1, length.Row);

        var nan = new[] { new[] { 1f, 2f }, new[] { 3f, 4f }, new[] { 5f, float.NaN } };
        var notFinite = Assert.Throws<SliceDataException>(() => SliceDataset.From(nan, p => p, _ => 0, Slices));
        Assert.StartsWith("Feature 1 of row 2 is NaN; features must be finite numbers.", notFinite.Message);
        Assert.Equal(2, notFinite.Row);

        var negative = Assert.Throws<SliceDataException>(() => SliceDataset.From(new[] { new[] { 1f }, new[] { 2f } }, p => p, p => p[0] > 1 ? -1 : 0, Slices));
        Assert.StartsWith("Label -1 at row 1 is negative", negative.Message);

        var matrix = Slices.Apply(new[] { new[] { 1f }, new[] { 2f } });
        var rows = Assert.Throws<SliceDataException>(() => new SliceDataset(zeros(3, 1), zeros(3, dtype: ScalarType.Int64), matrix));
        Assert.StartsWith("Row counts disagree: features have 3 rows, labels 3, the slice matrix 2.", rows.Message);
        var floatLabels = Assert.Throws<SliceDataException>(() => new SliceDataset(zeros(2, 1), zeros(2), matrix));
        Assert.StartsWith("Labels must be integer class indices, got Float32.", floatLabels.Message);
    }

    [Fact]
    public void IntLabels_AreConvertedToInt64_AndTheDatasetOwnsItsTensors()
    {
        var matrix = Slices.Apply(new[] { new[] { -1f }, new[] { 2f } });
        Tensor features, labels;
        SliceDataset data;
        using (var scope = NewDisposeScope())
        {
            features = tensor(new[] { -1f, 2f }, new long[] { 2, 1 });
            labels = tensor(new[] { 1, 0 });
            data = new SliceDataset(features, labels, matrix);
        }
        using (data)
        {
            Assert.Equal(ScalarType.Int64, data.Labels.dtype);
            Assert.Equal(new long[] { 1, 0 }, data.Labels.data<long>().ToArray());
            Assert.Equal(new[] { -1f, 2f }, data.Features.data<float>().ToArray());   // survived the scope
        }
        Assert.True(data.Features.IsInvalid);
    }
}
