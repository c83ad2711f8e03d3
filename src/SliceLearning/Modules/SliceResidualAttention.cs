using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Modules;

/// <summary>
/// The slice-residual-attention module (SRAM, paper section 3.2, components (b) to (f)) over a
/// backbone representation z [B, d], batched across all m = k + 1 slices (no per-slice loop):
/// indicator heads <c>Linear(d, m)</c>, expert projections [m, d, h], a shared slice prediction head
/// <c>Linear(h, C)</c> applied to every expert, an attention over the m experts (see
/// <see cref="AttentionVariant"/>), and the prediction head <c>Linear(h, C)</c> on the attended representation.
/// </summary>
public sealed class SliceResidualAttention : nn.Module<Tensor, SramOutput>
{
    private readonly Linear indicator_heads;
    private readonly SliceExpertProjections expert_projections;
    private readonly Linear shared_slice_head;
    private readonly Linear prediction_head;
    private readonly Parameter? slice_score;

    /// <summary>Creates the module.</summary>
    /// <param name="sliceCount">m = k + 1, the slices including the base slice.</param>
    /// <param name="inputWidth">d, the backbone width.</param>
    /// <param name="expertSize">h, the size of each slice expert representation.</param>
    /// <param name="numClasses">C, the number of classes (2 for binary tasks).</param>
    /// <param name="attention">Which attention variant combines the experts.</param>
    /// <param name="temperature">The softmax temperature T (&gt; 0).</param>
    /// <param name="backpropagation">What the attention weights back-propagate into.</param>
    /// <param name="sliceGradientScale">
    /// The share in [0, 1] of the gradient of the indicator logits Q and the slice predictions P that
    /// reaches the input z (and so the backbone); the heads themselves get their full gradient. 1 (the
    /// default) is plain back-propagation. The forward values do not change.
    /// </param>
    /// <param name="indicatorGradientScale">
    /// The share in [0, 1] of the gradient of the indicator logits Q alone that reaches z, on top of
    /// <paramref name="sliceGradientScale"/> (the two multiply). 1 (the default) is plain back-propagation;
    /// 0 lets the indicator heads learn from z without shaping it.
    /// </param>
    /// <param name="device">Where to create the parameters (CPU by default).</param>
    /// <param name="dtype">Parameter type (float32 by default).</param>
    /// <param name="expertForm">The paper's projections, or (low-rank) residual experts around z (h = d; see <see cref="ExpertForm"/>).</param>
    /// <param name="expertDropout">Dropout probability in [0, 1) on the experts' own part z W_i + b_i while training.</param>
    /// <param name="expertRank">The rank r in [1, d] of <see cref="ExpertForm.LowRankResidual"/> experts; ignored by the other forms.</param>
    public SliceResidualAttention(long sliceCount, long inputWidth, long expertSize, long numClasses,
        AttentionVariant attention = AttentionVariant.LearnedOdds, double temperature = 1.0,
        AttentionBackpropagation backpropagation = AttentionBackpropagation.ExpertsOnly, double sliceGradientScale = 1.0,
        double indicatorGradientScale = 1.0, Device? device = null, ScalarType? dtype = null,
        ExpertForm expertForm = ExpertForm.Projection, double expertDropout = 0.0, long expertRank = 1)
        : base(nameof(SliceResidualAttention))
    {
        if (!Enum.IsDefined(expertForm))
            throw new ArgumentOutOfRangeException(nameof(expertForm), expertForm, "Unknown expert form.");
        if (!(expertDropout >= 0 && expertDropout < 1))
            throw new ArgumentOutOfRangeException(nameof(expertDropout), expertDropout, "The expert dropout must be a probability in [0, 1).");
        ExpertDropout = expertDropout;
        if (expertForm == ExpertForm.LowRankResidual && (expertRank < 1 || expertRank > inputWidth))
            throw new ArgumentOutOfRangeException(nameof(expertRank), expertRank, $"The rank of low-rank residual experts must be in [1, d = {inputWidth}].");
        ArgumentOutOfRangeException.ThrowIfLessThan(sliceCount, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(expertSize, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 2L);
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The attention temperature must be a positive finite number.");
        if (!Enum.IsDefined(attention))
            throw new ArgumentOutOfRangeException(nameof(attention), attention, "Unknown attention variant.");
        if (!Enum.IsDefined(backpropagation))
            throw new ArgumentOutOfRangeException(nameof(backpropagation), backpropagation, "Unknown attention backpropagation.");
        if (!(sliceGradientScale >= 0 && sliceGradientScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(sliceGradientScale), sliceGradientScale, "The slice gradient scale must be in [0, 1].");
        if (!(indicatorGradientScale >= 0 && indicatorGradientScale <= 1))
            throw new ArgumentOutOfRangeException(nameof(indicatorGradientScale), indicatorGradientScale, "The indicator gradient scale must be in [0, 1].");
        IndicatorGradientScale = indicatorGradientScale;
        SliceCount = sliceCount;
        SliceGradientScale = sliceGradientScale;
        InputWidth = inputWidth;
        ExpertSize = expertSize;
        NumClasses = numClasses;
        Attention = attention;
        Temperature = temperature;
        Backpropagation = backpropagation;
        indicator_heads = nn.Linear(inputWidth, sliceCount, device: device, dtype: dtype);
        expert_projections = new SliceExpertProjections(sliceCount, inputWidth, expertSize, device, dtype,
            residual: expertForm != ExpertForm.Projection, rank: expertForm == ExpertForm.LowRankResidual ? expertRank : 0);
        shared_slice_head = nn.Linear(expertSize, numClasses, device: device, dtype: dtype);
        prediction_head = nn.Linear(expertSize, numClasses, device: device, dtype: dtype);
        // Only LearnedOdds has per-slice scores (one per slice after the base slice, starting at 0),
        // so the other variants keep their state-dict keys.
        if (attention == AttentionVariant.LearnedOdds)
            slice_score = new Parameter(zeros(new long[] { sliceCount - 1 }, dtype: dtype ?? ScalarType.Float32, device: device));
        RegisterComponents();
    }

    /// <summary>m = k + 1.</summary>
    public long SliceCount { get; }

    /// <summary>d.</summary>
    public long InputWidth { get; }

    /// <summary>h.</summary>
    public long ExpertSize { get; }

    /// <summary>C.</summary>
    public long NumClasses { get; }

    /// <summary>The attention variant.</summary>
    public AttentionVariant Attention { get; }

    /// <summary>The softmax temperature T.</summary>
    public double Temperature { get; }

    /// <summary>What the attention weights back-propagate into.</summary>
    public AttentionBackpropagation Backpropagation { get; }

    /// <summary>The share of the gradient of Q and P that reaches the input z (see the constructor).</summary>
    public double SliceGradientScale { get; }

    /// <summary>The share of the gradient of Q alone that reaches the input z, on top of <see cref="SliceGradientScale"/> (see the constructor).</summary>
    public double IndicatorGradientScale { get; }

    /// <summary>The dropout probability on the experts' own part while training (0: none).</summary>
    public double ExpertDropout { get; }

    /// <summary>The learned per-slice attention scores b [m − 1] of <see cref="AttentionVariant.LearnedOdds"/>, else null.</summary>
    public Parameter? SliceScores => slice_score;

    /// <summary>Runs every component on z [B, d].</summary>
    public override SramOutput forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 2 || input.shape[1] != InputWidth)
            throw new ArgumentException($"The backbone produced [{string.Join(", ", input.shape)}]; the model was built for backbone width d = {InputWidth}, so it expects [B, {InputWidth}].", nameof(input));
        using var scope = NewDisposeScope();
        // z with its gradient scaled: the same values, a share of the gradient of Q and P into the backbone.
        var zSlices = ScaleGradient(input, SliceGradientScale);
        var q = indicator_heads.call(IndicatorGradientScale == 1.0 ? zSlices : ScaleGradient(zSlices, IndicatorGradientScale)); // Q [B, m]
        var qAttention = Backpropagation == AttentionBackpropagation.ExpertsOnly ? q.detach() : q;
        Tensor p, a, zPrime;
        bool dropping = ExpertDropout > 0 && training;
        if (dropping || expert_projections.PrefersRepresentations(input.shape[0]))
        {
            // R [B, m, h] once, for both P = g(r_i) and z' = sum_i a_i r_i (P's from the
            // gradient-scaled z when the slice gradient is scaled); one dropout mask for both.
            Tensor? mask = null;
            if (dropping)
            {
                using var ones = torch.ones(input.shape[0], SliceCount, ExpertSize, dtype: input.dtype, device: input.device);
                mask = nn.functional.dropout(ones, ExpertDropout, training: true);
            }
            var r = expert_projections.Project(input, mask);
            var rSlices = SliceGradientScale == 1.0 ? r : expert_projections.Project(zSlices, mask);
            p = shared_slice_head.call(rSlices);                                // P [B, m, C]
            a = SliceAttention.Weights(qAttention, p, Attention, Temperature, slice_score); // a [B, m]
            zPrime = a.unsqueeze(1).bmm(r).squeeze(1);                          // z' [B, h]
        }
        else
        {
            // Without materialising R: the shared head is linear, so g(z W_i + b_i) = z (W_i Wg^T) + (b_i Wg^T + bg).
            p = expert_projections.ThroughLinear(zSlices, shared_slice_head.weight!, shared_slice_head.bias);
            a = SliceAttention.Weights(qAttention, p, Attention, Temperature, slice_score);
            zPrime = expert_projections.Mix(input, a);
        }
        var logits = prediction_head.call(zPrime);                             // [B, C]
        return new SramOutput(
            scope.MoveToOuter(q), scope.MoveToOuter(p),
            scope.MoveToOuter(a), scope.MoveToOuter(zPrime), scope.MoveToOuter(logits));
    }

    // s·z + (1 − s)·z.detach(): the value of z, s times its gradient (z itself for s = 1: no op).
    private static Tensor ScaleGradient(Tensor z, double scale)
    {
        if (scale == 1.0) return z;
        var frozen = z.detach();
        if (scale == 0.0) return frozen;
        using var s = scale.ToScalar();
        return frozen.add(z.sub(frozen), s);
    }

    /// <summary>The slice expert representations R [B, m, h] for z [B, d].</summary>
    public Tensor ExpertRepresentations(Tensor input) => expert_projections.call(input);

    /// <summary>The shared slice prediction head g, <c>Linear(h, C)</c>.</summary>
    public Linear SharedSliceHead => shared_slice_head;

    /// <summary>The expert projections.</summary>
    public SliceExpertProjections ExpertProjections => expert_projections;

    /// <summary>The indicator heads, <c>Linear(d, m)</c>.</summary>
    public Linear IndicatorHeads => indicator_heads;

    /// <summary>The prediction head, <c>Linear(h, C)</c>.</summary>
    public Linear PredictionHead => prediction_head;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            indicator_heads.Dispose();
            expert_projections.Dispose();
            shared_slice_head.Dispose();
            prediction_head.Dispose();
            slice_score?.Dispose();
        }
        base.Dispose(disposing);
    }
}
