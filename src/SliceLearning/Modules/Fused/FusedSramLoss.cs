using SliceLearning.Models;
using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Modules.Fused;

/// <summary>The constants of one fused SRAM loss: the three terms' weights, the indicator divisor and the temperature.</summary>
internal readonly record struct FusedSramLossSettings(double PredictionWeight, double SliceHeadWeight, double IndicatorWeight,
    double IndicatorDivisor, double Temperature);

/// <summary>
/// SRAM's forward pass and its three loss terms from the backbone output z, as one autograd node with a
/// hand-written backward, for small CPU float32 batches. At the synthetic sizes (d = h = 13, batch 64) each
/// libtorch operation costs microseconds of fixed overhead against nanoseconds of arithmetic, and the general
/// path runs about 40 of them forward plus their backward nodes; here the whole head is two C# passes over the
/// batch. It computes the configuration <see cref="SliceAwareModel"/> checks before using it (learned-odds
/// attention, experts-only attention gradient, projection experts, per-member-pair slice-head loss over SF
/// members, unscaled gradients): the same maths as the general path, to float rounding.
/// </summary>
internal static class FusedSramLoss
{
    /// <summary>Largest B·m·d·h (multiply-adds of one expert pass) the fused path takes; beyond, libtorch's GEMMs win.</summary>
    public const long MaxExpertMacs = 1L << 22;

    /// <summary>
    /// Whether the fused path computes the model these options describe: the settings it implements (see the class
    /// summary), any temperature, loss weights, indicator-loss normalisation and expert size, and every other option
    /// at its default (so an option added later is not covered until the kernel implements it).
    /// </summary>
    public static bool Covers(SliceAwareOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.Attention != AttentionVariant.LearnedOdds || o.Backpropagation != AttentionBackpropagation.ExpertsOnly
            || o.SliceGradientScale != 1.0 || o.IndicatorGradientScale != 1.0 || o.ExpertForm != ExpertForm.Projection || o.ExpertDropout != 0
            || o.SliceHeadNormalization != SliceHeadNormalization.PerMemberPair || o.SliceHeadMembership != SliceHeadMembership.SfMembers
            || o.IndicatorGradientWeighting != IndicatorGradientWeighting.Uniform || o.LossBalancing != LossBalancing.FixedWeights
            || o.ExpertWeightDecay != 0)
            return false;
        var defaults = new SliceAwareOptions();
        foreach (var property in OtherOptions)
            if (!Equals(property.GetValue(o), property.GetValue(defaults))) return false;
        return true;
    }

    private static readonly string[] FreeOptions =
    {
        nameof(SliceAwareOptions.Temperature), nameof(SliceAwareOptions.PredictionLossWeight), nameof(SliceAwareOptions.SliceHeadLossWeight),
        nameof(SliceAwareOptions.IndicatorLossWeight), nameof(SliceAwareOptions.IndicatorLossNormalization), nameof(SliceAwareOptions.ExpertSize),
        nameof(SliceAwareOptions.ExpertRank),
    };

    private static readonly System.Reflection.PropertyInfo[] OtherOptions = typeof(SliceAwareOptions).GetProperties()
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && !FreeOptions.Contains(p.Name)).ToArray();

    /// <summary>
    /// Whether the module's parameters and a batch of labels [B] and SF membership [B, m] fit the fused path (CPU,
    /// float32, contiguous, B·m·d·h at most <see cref="MaxExpertMacs"/>); the backbone output must then be a
    /// contiguous float32 CPU [B, d] too.
    /// </summary>
    public static bool Fits(SliceResidualAttention sram, Tensor labels, Tensor mask)
    {
        if (!CpuSpans.Available || sram.SliceScores is null || sram.ExpertProjections.Residual || sram.ExpertProjections.WeightUp is not null) return false;
        if (mask.dim() != 2) return false;
        long b = mask.shape[0], m = sram.SliceCount;
        if (b == 0 || mask.shape[1] != m || b * m * sram.InputWidth * sram.ExpertSize > MaxExpertMacs || !CpuSpans.Fits(mask)) return false;
        if (labels.dtype != ScalarType.Int64 || labels.device_type != DeviceType.CPU || !labels.is_contiguous() || labels.numel() != b) return false;
        foreach (var p in Parameters(sram)) if (!CpuSpans.Fits(p)) return false;
        return true;
    }

    /// <summary>
    /// The total loss (differentiable in z and every SRAM parameter) and the detached terms [total, prediction,
    /// slice head, indicator], for a batch <see cref="Fits"/> accepted.
    /// </summary>
    /// <param name="sram">The module whose parameters the loss uses.</param>
    /// <param name="z">The backbone output [B, d].</param>
    /// <param name="labels">Class indices [B].</param>
    /// <param name="mask">SF membership [B, m], 0/1.</param>
    /// <param name="settings">Loss weights, indicator divisor and temperature.</param>
    public static (Tensor Total, Tensor Terms) Run(SliceResidualAttention sram, Tensor z, Tensor labels, Tensor mask, FusedSramLossSettings settings)
    {
        var p = Parameters(sram);
        bool backward = is_grad_enabled() && (z.requires_grad || p.Any(t => t.requires_grad));
        var batch = new Batch(labels, mask, settings, backward, new float[4]);
        var total = SramLossFunction.apply(z, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], batch)[0];
        // The detached terms are a plain tensor (not a second output of the node, whose undefined gradient TorchSharp
        // would represent by a tensor it never releases).
        return (total, TermsTensor(batch.Terms));
    }

    /// <summary>
    /// The trainer's step without an autograd node, for a batch <see cref="Fits"/> accepted: the loss and its gradients in
    /// one pass, SRAM's parameter gradients accumulated into their <c>.grad</c> as autograd would (added in place, or
    /// set when there is none yet), and dL/dz returned for <c>z.backward</c> (null when z needs none).
    /// </summary>
    /// <returns>The detached terms [total, prediction, slice head, indicator] and dL/dz [B, d].</returns>
    public static (Tensor Terms, Tensor? GradZ) Step(SliceResidualAttention sram, Tensor z, Tensor labels, Tensor mask, FusedSramLossSettings settings)
    {
        var p = Parameters(sram);
        var w = Forward(z, labels, mask, settings, p, out var terms);
        try
        {
            var gradients = w.Backward(1f);
            for (int i = 1; i < gradients.Count; i++)
                if (gradients[i] is { } g && p[i - 1].requires_grad) AccumulateInto(p[i - 1], g);
            var gradZ = z.requires_grad && gradients[0] is { } gz ? ToTensor(gz) : null;
            return (TermsTensor(terms), gradZ);
        }
        finally
        {
            w.Release();
        }
    }

    // Runs the kernel's forward over z and the parameters (in Parameters' order); the kernel keeps what its backward needs.
    private static SramLossKernel Forward(Tensor z, Tensor labels, Tensor mask, FusedSramLossSettings settings, IReadOnlyList<Tensor> p, out float[] terms)
    {
        var w = new SramLossKernel((int)z.shape[0], (int)z.shape[1], (int)mask.shape[1], (int)p[2].shape[2], (int)p[6].shape[0], settings);
        var (total, prediction, head, indicator) = w.Forward(CpuSpans.Of(z), CpuSpans.OfInt64(labels), CpuSpans.Of(mask),
            CpuSpans.Of(p[0]), CpuSpans.Of(p[1]), CpuSpans.Of(p[2]), CpuSpans.Of(p[3]), CpuSpans.Of(p[4]),
            CpuSpans.Of(p[5]), CpuSpans.Of(p[6]), CpuSpans.Of(p[7]), CpuSpans.Of(p[8]));
        terms = new[] { total, prediction, head, indicator };
        return w;
    }

    private static Tensor TermsTensor(float[] terms)
    {
        var tensor = torch.empty(new long[] { terms.Length }, ScalarType.Float32);
        terms.CopyTo(CpuSpans.Of(tensor));
        return tensor;
    }

    // A kernel gradient (the leading values of a pooled array) as a new float32 CPU tensor.
    private static Tensor ToTensor((long[] Shape, float[] Values) gradient)
    {
        var tensor = torch.empty(gradient.Shape, ScalarType.Float32);
        gradient.Values.AsSpan(0, (int)tensor.numel()).CopyTo(CpuSpans.Of(tensor));
        return tensor;
    }

    // Order: indicator heads W, b; experts W [m, d, h], b [m, h]; shared slice head W, b; prediction head W, b; slice scores.
    private static Tensor[] Parameters(SliceResidualAttention s) => new Tensor[]
    {
        s.IndicatorHeads.weight!, s.IndicatorHeads.bias!, s.ExpertProjections.Weight, s.ExpertProjections.Bias,
        s.SharedSliceHead.weight!, s.SharedSliceHead.bias!, s.PredictionHead.weight!, s.PredictionHead.bias!, s.SliceScores!,
    };

    // Autograd's gradient accumulation: added to an existing .grad (in place when it is a float32 CPU tensor), else set.
    private static void AccumulateInto(Tensor parameter, (long[] Shape, float[] Values) gradient)
    {
        using var grad = parameter.grad;
        if (grad is null) parameter.grad = ToTensor(gradient);
        else if (CpuSpans.Fits(grad)) SpanMath.Add(gradient.Values.AsSpan(0, (int)grad.numel()), CpuSpans.Of(grad));
        else
        {
            using var addend = ToTensor(gradient);
            grad.add_(addend, ScalarMath.One);
        }
    }

    internal sealed record Batch(Tensor Labels, Tensor Mask, FusedSramLossSettings Settings, bool Backward, float[] Terms);

    internal sealed class SramLossFunction : autograd.MultiTensorFunction<SramLossFunction>
    {
        public override string Name => "FusedSramLoss";

        public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var batch = (Batch)vars[10];
            var w = Forward((Tensor)vars[0], batch.Labels, batch.Mask, batch.Settings, vars[1..10].Cast<Tensor>().ToArray(), out var terms);
            terms.CopyTo(batch.Terms, 0);
            var totalTensor = torch.empty(Array.Empty<long>(), ScalarType.Float32);
            CpuSpans.Of(totalTensor)[0] = terms[0];
            if (batch.Backward) ctx.save_data("workspace", w);
            else w.Release();
            return new List<Tensor> { totalTensor };
        }

        // Its buffers stay with the kernel (a second backward with retain_graph must still find them); the GC takes them.
        public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
        {
            var w = (SramLossKernel)ctx.get_data("workspace");
            var g = gradOutputs[0];
            float scale = g is null || g.IsInvalid ? 0f : CpuSpans.Fits(g) ? CpuSpans.Of(g)[0] : g.cpu().to(ScalarType.Float32).item<float>();
            var grads = w.Backward(scale).Select(gradient => gradient is { } value ? ToTensor(value) : null!).ToList();
            grads.Add(null!); // the batch argument
            return grads;
        }
    }
}
