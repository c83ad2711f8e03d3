using SliceLearning.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Modules;

/// <summary>
/// The m slice expert projections r_i = z W_i + b_i (paper section 3.2 (c)), residual experts
/// r_i = z + z W_i + b_i, or low-rank residual experts r_i = z + (z A_i) B_i + b_i, as one batched layer:
/// one weight tensor [m, d, h] (low-rank: A [m, d, r] and B [m, r, h]) and one bias [m, h]. <see cref="forward"/> computes every r_i with
/// one matrix product [B, d] x [d, m·h]; <see cref="Mix"/> computes the attended sum
/// sum_i a_i r_i, for many slices without materialising the [B, m, h] expert tensor. No per-slice
/// loop either way.
/// </summary>
public sealed class SliceExpertProjections : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? weight_up;
    private readonly Parameter bias;

    /// <summary>Creates the projections, initialised like m independent <c>Linear(d, h)</c> layers.</summary>
    /// <param name="sliceCount">m, the number of slices including the base slice (at least 1).</param>
    /// <param name="inputWidth">d, the backbone width.</param>
    /// <param name="expertSize">h, the size of each expert representation.</param>
    /// <param name="device">Where to create the parameters (CPU by default).</param>
    /// <param name="dtype">Parameter type (float32 by default).</param>
    /// <param name="residual">
    /// When true, r_i = z + z W_i + b_i with W_i and b_i starting at 0 (needs h = d), so that every expert
    /// starts as the identity; when false (the default), r_i = z W_i + b_i initialised like nn.Linear.
    /// </param>
    /// <param name="rank">
    /// 0 (the default): each W_i is a free [d, h] matrix. r in [1, d] (needs <paramref name="residual"/>): each
    /// W_i is the product A_i B_i of A_i [d, r], initialised like <c>nn.Linear(d, r)</c>, and B_i [r, h], starting
    /// at 0, so every expert still starts as the identity and its correction has rank at most r.
    /// </param>
    public SliceExpertProjections(long sliceCount, long inputWidth, long expertSize, Device? device = null, ScalarType? dtype = null, bool residual = false, long rank = 0)
        : base(nameof(SliceExpertProjections))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sliceCount, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(expertSize, 1L);
        if (residual && expertSize != inputWidth)
            throw new ArgumentException($"Residual experts add z to every expert, so the expert size must be the input width {inputWidth}; got {expertSize}.", nameof(expertSize));
        if (rank < 0 || rank > inputWidth)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank of low-rank experts must be in [1, d = {inputWidth}] (or 0 for full-rank experts).");
        if (rank > 0 && !residual)
            throw new ArgumentException("Low-rank experts are residual experts: pass residual: true with a rank.", nameof(rank));
        SliceCount = sliceCount;
        InputWidth = inputWidth;
        ExpertSize = expertSize;
        Residual = residual;
        Rank = rank;
        if (rank > 0)
        {
            weight = BatchedLinearInit.Uniform(inputWidth, new[] { sliceCount, inputWidth, rank }, device, dtype);
            weight_up = new Parameter(zeros(new[] { sliceCount, rank, expertSize }, dtype: dtype ?? ScalarType.Float32, device: device));
            bias = new Parameter(zeros(new[] { sliceCount, expertSize }, dtype: dtype ?? ScalarType.Float32, device: device));
        }
        else if (residual)
        {
            weight = new Parameter(zeros(new[] { sliceCount, inputWidth, expertSize }, dtype: dtype ?? ScalarType.Float32, device: device));
            bias = new Parameter(zeros(new[] { sliceCount, expertSize }, dtype: dtype ?? ScalarType.Float32, device: device));
        }
        else
        {
            weight = BatchedLinearInit.Uniform(inputWidth, new[] { sliceCount, inputWidth, expertSize }, device, dtype);
            bias = BatchedLinearInit.Uniform(inputWidth, new[] { sliceCount, expertSize }, device, dtype);
        }
        RegisterComponents();
    }

    /// <summary>Whether every expert adds its projection to z (r_i = z + z W_i + b_i) instead of replacing it.</summary>
    public bool Residual { get; }

    /// <summary>
    /// r, the rank of every expert's weight W_i = A_i B_i (low-rank residual experts), or 0 when each W_i is a
    /// free [d, h] matrix.
    /// </summary>
    public long Rank { get; }

    /// <summary>m, the number of experts (slices including the base slice).</summary>
    public long SliceCount { get; }

    /// <summary>d, the input width.</summary>
    public long InputWidth { get; }

    /// <summary>h, the expert representation size.</summary>
    public long ExpertSize { get; }

    /// <summary>
    /// The weight tensor W [m, d, h]; for low-rank experts (<see cref="Rank"/> ≥ 1) the first factor A [m, d, r]
    /// of W_i = A_i B_i.
    /// </summary>
    public Parameter Weight => weight;

    /// <summary>The second factor B [m, r, h] of low-rank experts' W_i = A_i B_i, or null when <see cref="Rank"/> is 0.</summary>
    public Parameter? WeightUp => weight_up;

    /// <summary>The effective expert weights W [m, d, h] (A_i B_i for low-rank experts, else <see cref="Weight"/> itself).</summary>
    public Tensor EffectiveWeight() => weight_up is null ? weight.alias() : weight.bmm(weight_up);

    /// <summary>u_i = z A_i for every low-rank expert, [B, m, r], as one GEMM [B, d] x [d, m·r].</summary>
    private Tensor LowRankInputs(Tensor input) =>
        input.matmul(weight.permute(1, 0, 2).reshape(InputWidth, SliceCount * Rank)).view(input.shape[0], SliceCount, Rank);

    /// <summary>The bias tensor [m, h].</summary>
    public Parameter Bias => bias;

    /// <summary>Maps z [B, d] to the expert representations R [B, m, h].</summary>
    public override Tensor forward(Tensor input) => Project(input, null);

    /// <summary>
    /// The expert representations R [B, m, h] for z [B, d], with the experts' own part z W_i + b_i
    /// multiplied elementwise by <paramref name="ownPartMask"/> [B, m, h] when given (a dropout mask; the z of
    /// <see cref="Residual"/> experts is not masked).
    /// </summary>
    /// <param name="input">z [B, d].</param>
    /// <param name="ownPartMask">A multiplier [B, m, h] for z W_i + b_i, or null.</param>
    public Tensor Project(Tensor input, Tensor? ownPartMask)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 2 || input.shape[1] != InputWidth)
            throw new ArgumentException($"Expected backbone output [B, {InputWidth}], got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        long b = input.shape[0];
        Tensor r;
        if (weight_up is not null)
        {
            // Low rank: (z A_i) B_i as one batched product over the m experts.
            r = LowRankInputs(input).permute(1, 0, 2).bmm(weight_up).permute(1, 0, 2).add(bias, ScalarMath.One);
        }
        else
        {
            // [m, d, h] -> [d, m*h]: one GEMM for all experts.
            var flat = weight.permute(1, 0, 2).reshape(InputWidth, SliceCount * ExpertSize);
            r = input.matmul(flat).view(b, SliceCount, ExpertSize).add(bias, ScalarMath.One);
        }
        if (ownPartMask is not null) r = r.mul(ownPartMask);
        if (Residual) r = r.add(input.unsqueeze(1), ScalarMath.One);
        return scope.MoveToOuter(r);
    }

    /// <summary>
    /// Whether a batch of <paramref name="batch"/> examples is cheapest through the expert
    /// representations R [B, m, h] (<see cref="forward"/>): when d ≥ m, or when R is small (at most
    /// 2^16 values), where the few tensor operations of the R path cost less than the larger
    /// intermediate saves. Otherwise (many slices, wide experts) the paths through the per-example
    /// mixed weights [B, d, h] and the composed head (<see cref="ThroughLinear"/>) avoid R.
    /// </summary>
    public bool PrefersRepresentations(long batch) =>
        InputWidth >= SliceCount || batch * SliceCount * ExpertSize <= SmallRepresentation;

    private const long SmallRepresentation = 1L << 16;

    /// <summary>
    /// sum_i a_i r_i [B, h] for attention weights a [B, m]. Both ways cost m·d·h multiply-adds per
    /// example: through the expert representations R [B, m, h] and a batched a · R when
    /// <see cref="PrefersRepresentations"/>, else z · (sum_i a_i W_i) + sum_i a_i b_i through the
    /// per-example mixed weights [B, d, h].
    /// </summary>
    /// <param name="input">z [B, d].</param>
    /// <param name="weights">a [B, m].</param>
    public Tensor Mix(Tensor input, Tensor weights)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        if (input.dim() != 2 || input.shape[1] != InputWidth)
            throw new ArgumentException($"Expected backbone output [B, {InputWidth}], got [{string.Join(", ", input.shape)}].", nameof(input));
        if (weights.dim() != 2 || weights.shape[0] != input.shape[0] || weights.shape[1] != SliceCount)
            throw new ArgumentException($"Expected attention weights [{input.shape[0]}, {SliceCount}], got [{string.Join(", ", weights.shape)}].", nameof(weights));
        using var scope = NewDisposeScope();
        long b = input.shape[0];
        Tensor result;
        if (weight_up is not null && !PrefersRepresentations(b))
        {
            // Low rank: sum_i a_i (z A_i) B_i = [a_i (z A_i)]_i flattened [B, m*r] x B viewed [m*r, h]; no [B, d, h] weights.
            result = LowRankInputs(input).mul(weights.unsqueeze(2)).view(b, SliceCount * Rank).matmul(weight_up.view(SliceCount * Rank, ExpertSize))
                .add(weights.matmul(bias), ScalarMath.One)
                .add(input.mul(weights.sum(1, keepdim: true)), ScalarMath.One);
        }
        else if (!PrefersRepresentations(b))
        {
            var mixed = weights.matmul(weight.view(SliceCount, InputWidth * ExpertSize)).view(b, InputWidth, ExpertSize); // [B, d, h]
            result = input.unsqueeze(1).bmm(mixed).squeeze(1).add(weights.matmul(bias), ScalarMath.One);                              // [B, h]
            // Residual experts: sum_i a_i z = (sum_i a_i) z.
            if (Residual) result = result.add(input.mul(weights.sum(1, keepdim: true)), ScalarMath.One);
        }
        else
        {
            result = weights.unsqueeze(1).bmm(forward(input)).squeeze(1);                                              // [B, h]
        }
        return scope.MoveToOuter(result);
    }

    /// <summary>
    /// Composes every expert with a linear layer g(r) = r Wg^T + bg applied to it: returns
    /// g(r_i) [B, m, C] for all i as z · (W_i Wg^T) + (b_i Wg^T + bg), which costs d·h·C per slice once
    /// per batch plus d·C per slice and example, instead of touching the [B, m, h] expert tensor.
    /// </summary>
    /// <param name="input">z [B, d].</param>
    /// <param name="layerWeight">Wg [C, h].</param>
    /// <param name="layerBias">bg [C], or null.</param>
    public Tensor ThroughLinear(Tensor input, Tensor layerWeight, Tensor? layerBias)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(layerWeight);
        if (layerWeight.dim() != 2 || layerWeight.shape[1] != ExpertSize)
            throw new ArgumentException($"Expected a layer weight [C, {ExpertSize}], got [{string.Join(", ", layerWeight.shape)}].", nameof(layerWeight));
        using var scope = NewDisposeScope();
        long b = input.shape[0], c = layerWeight.shape[0];
        var wt = layerWeight.t();                                                        // [h, C]
        // [m·d, h] x [h, C] as one matrix product (not m small ones), then [m, d, C] -> [d, m·C];
        // low rank: A_i (B_i Wg^T) as [m·r, h] x [h, C], then one batched [d, r] x [r, C] per expert.
        var composed = (weight_up is null
                ? weight.view(SliceCount * InputWidth, ExpertSize).matmul(wt).view(SliceCount, InputWidth, c)
                : weight.bmm(weight_up.view(SliceCount * Rank, ExpertSize).matmul(wt).view(SliceCount, Rank, c)))
            .permute(1, 0, 2).reshape(InputWidth, SliceCount * c);
        var composedBias = bias.matmul(wt);                                              // [m, C]
        if (layerBias is not null) composedBias = composedBias.add(layerBias, ScalarMath.One);
        var result = input.matmul(composed).view(b, SliceCount, c).add(composedBias, ScalarMath.One);
        // Residual experts: g(z + z W_i + b_i) adds z Wg^T to every expert's output.
        if (Residual) result = result.add(input.matmul(wt).unsqueeze(1), ScalarMath.One);
        return scope.MoveToOuter(result);
    }
}
