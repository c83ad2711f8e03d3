using FsCheck;
using FsCheck.Xunit;
using SliceLearning.Slicing;

namespace SliceLearning.Tests.Slicing;

public sealed class SliceApplyProperties
{
    [Property(MaxTest = 100)]
    public bool ParallelApply_EqualsSequentialDefinition(int[] data, byte modulus1, byte modulus2)
    {
        int m1 = 1 + modulus1 % 9, m2 = 1 + modulus2 % 13;
        var set = SliceSet.For<int>().Add("m1", i => i % m1 == 0).Add("m2", i => Math.Abs(i % m2) == 1).Add("neg", i => i < 0).Build();
        // Repeat the data so some cases span several 64-row blocks and work items.
        var rows = Enumerable.Repeat(data, 40).SelectMany(d => d).ToArray();
        var matrix = set.Apply(rows);
        for (int r = 0; r < rows.Length; r++)
        {
            if (!matrix[r, 0]) return false;
            for (int f = 0; f < set.Count; f++)
                if (matrix[r, f + 1] != set[f].IsMember(rows[r])) return false;
        }
        return matrix.RowCount == rows.Length;
    }
}
