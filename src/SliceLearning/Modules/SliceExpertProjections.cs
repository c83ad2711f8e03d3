using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Modules;

/// <summary>
/// The m slice expert projections r_i = z W_i + b_i (paper section 3.2 (c)) as one batched layer:
/// one weight tensor [m, d, h] and one bias [m, h], applied with a single matrix product
/// [B, d] x [d, m·h], so the cost does not depend on a per-slice loop.
/// </summary>
public sealed class SliceExpertProjections : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>Creates the projections, initialised like m independent <c>Linear(d, h)</c> layers.</summary>
    /// <param name="sliceCount">m, the number of slices including the base slice (at least 1).</param>
    /// <param name="inputWidth">d, the backbone width.</param>
    /// <param name="expertSize">h, the size of each expert representation.</param>
    /// <param name="device">Where to create the parameters (CPU by default).</param>
    /// <param name="dtype">Parameter type (float32 by default).</param>
    public SliceExpertProjections(long sliceCount, long inputWidth, long expertSize, Device? device = null, ScalarType? dtype = null)
        : base(nameof(SliceExpertProjections))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sliceCount, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(expertSize, 1L);
        SliceCount = sliceCount;
        InputWidth = inputWidth;
        ExpertSize = expertSize;
        double bound = 1.0 / Math.Sqrt(inputWidth);
        using (no_grad())
        {
            weight = new Parameter(empty(sliceCount, inputWidth, expertSize, dtype: dtype, device: device).uniform_(-bound, bound));
            bias = new Parameter(empty(sliceCount, expertSize, dtype: dtype, device: device).uniform_(-bound, bound));
        }
        RegisterComponents();
    }

    /// <summary>m, the number of experts (slices including the base slice).</summary>
    public long SliceCount { get; }

    /// <summary>d, the input width.</summary>
    public long InputWidth { get; }

    /// <summary>h, the expert representation size.</summary>
    public long ExpertSize { get; }

    /// <summary>The weight tensor [m, d, h].</summary>
    public Parameter Weight => weight;

    /// <summary>The bias tensor [m, h].</summary>
    public Parameter Bias => bias;

    /// <summary>Maps z [B, d] to the expert representations R [B, m, h].</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 2 || input.shape[1] != InputWidth)
            throw new ArgumentException($"Expected backbone output [B, {InputWidth}], got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        long b = input.shape[0];
        // [m, d, h] -> [d, m*h]: one GEMM for all experts.
        var flat = weight.permute(1, 0, 2).reshape(InputWidth, SliceCount * ExpertSize);
        var r = input.matmul(flat).view(b, SliceCount, ExpertSize).add(bias);
        return scope.MoveToOuter(r);
    }
}
