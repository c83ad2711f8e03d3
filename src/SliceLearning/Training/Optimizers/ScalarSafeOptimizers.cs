using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Training.Optimizers;

// Why these exist: TorchSharp 0.107.0's Scalar wraps a raw native pointer and has a finalizer,
// and its optimizers (and ops such as add_(Scalar), which pass a hidden alpha = 1) create
// temporary Scalars implicitly. Once the pointer has been read for a native call, the managed
// Scalar is unreachable, so a garbage collection in that window finalizes it and frees the
// native value while libtorch still reads it: "Expected false to be true ... toFloat" or
// "Unknown scalar type" from Adam.step, intermittently. These subclasses do the same updates
// with every Scalar created explicitly and disposed after use (which keeps it alive), and pass
// every alpha explicitly. Measured with a thread forcing collections: TorchSharp's Adam failed
// within seconds in each run; ScalarSafeAdam ran 30 s (about 900 steps of 300 parameters) three
// times without failing. They are internal: the trainer creates them through OptimizerFactory,
// and OptimizerOptions.CreateOptimizer gives the same ones to code with its own training loop.

/// <summary>Adam (Kingma &amp; Ba) with the same update as TorchSharp's <see cref="Adam"/>, safe against the finalizer race above.</summary>
internal sealed class ScalarSafeAdam : Adam
{
    /// <summary>Creates the optimizer (no AMSGrad).</summary>
    public ScalarSafeAdam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad: false, maximize: maximize)
    {
    }

    /// <summary>Creates the optimizer over parameter groups, each with its own learning rate (no AMSGrad).</summary>
    public ScalarSafeAdam(IEnumerable<(IEnumerable<Parameter> Parameters, double LearningRate)> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(groups.Select(g => new ParamGroup(g.Parameters, new Options { LearningRate = g.LearningRate })), groups.First().LearningRate, beta1, beta2, eps, weightDecay, amsgrad: false, maximize: false)
    {
    }

    /// <summary>Zeroes every gradient in place (one pass over each contiguous float32 CPU gradient).</summary>
    public override void zero_grad() => ZeroGradients.Run(_parameter_groups);

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        AdamUpdate.Run(group.Parameters, p => (State)_state[p.Handle], s => (s.step, s.exp_avg, s.exp_avg_sq), (s, t) => s.step = t,
            o.LearningRate!.Value, o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.weight_decay!.Value, decoupled: false, o.maximize!.Value);
    }, closure);
}

/// <summary>AdamW (decoupled weight decay) with the same update as TorchSharp's <see cref="AdamW"/>, safe against the finalizer race above.</summary>
internal sealed class ScalarSafeAdamW : AdamW
{
    /// <summary>Creates the optimizer (no AMSGrad).</summary>
    public ScalarSafeAdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad: false, maximize: maximize)
    {
    }

    /// <summary>Creates the optimizer over parameter groups, each with its own learning rate (no AMSGrad).</summary>
    public ScalarSafeAdamW(IEnumerable<(IEnumerable<Parameter> Parameters, double LearningRate)> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
        : base(groups.Select(g => new ParamGroup(g.Parameters, new Options { LearningRate = g.LearningRate })), groups.First().LearningRate, beta1, beta2, eps, weightDecay, amsgrad: false, maximize: false)
    {
    }

    /// <summary>Zeroes every gradient in place (one pass over each contiguous float32 CPU gradient).</summary>
    public override void zero_grad() => ZeroGradients.Run(_parameter_groups);

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        AdamUpdate.Run(group.Parameters, p => (State)_state[p.Handle], s => (s.step, s.exp_avg, s.exp_avg_sq), (s, t) => s.step = t,
            o.LearningRate!.Value, o.beta1!.Value, o.beta2!.Value, o.eps!.Value, o.weight_decay!.Value, decoupled: true, o.maximize!.Value);
    }, closure);
}

/// <summary>SGD with optional momentum, dampening, Nesterov and weight decay, as TorchSharp's <see cref="SGD"/>, safe against the finalizer race above.</summary>
internal sealed class ScalarSafeSgd : SGD
{
    /// <summary>Creates the optimizer.</summary>
    public ScalarSafeSgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(parameters, lr, momentum, dampening, weightDecay, nesterov, maximize)
    {
    }

    /// <summary>Creates the optimizer over parameter groups, each with its own learning rate.</summary>
    public ScalarSafeSgd(IEnumerable<(IEnumerable<Parameter> Parameters, double LearningRate)> groups, double momentum = 0, double weightDecay = 0)
        : base(groups.Select(g => new ParamGroup(g.Parameters, new Options { LearningRate = g.LearningRate })), groups.First().LearningRate, momentum, dampening: 0, weightDecay, nesterov: false, maximize: false)
    {
    }

    /// <summary>Zeroes every gradient in place (one pass over each contiguous float32 CPU gradient).</summary>
    public override void zero_grad() => ZeroGradients.Run(_parameter_groups);

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = group.Options;
        double lr = o.LearningRate!.Value, momentum = o.momentum!.Value, dampening = o.dampening!.Value, weightDecay = o.weight_decay!.Value;
        bool nesterov = o.nesterov!.Value, maximize = o.maximize!.Value;
        using Scalar decay = weightDecay, mom = momentum, keep = 1 - dampening, rate = maximize ? lr : -lr;
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            using var scope = NewDisposeScope();
            if (weightDecay != 0) grad = grad.add(param, decay);
            if (momentum != 0)
            {
                if (state.momentum_buffer is null)
                {
                    state.momentum_buffer = grad.clone().detach().DetachFromDisposeScope();
                }
                else
                {
                    state.momentum_buffer.mul_(mom).add_(grad, keep);
                }
                grad = nesterov ? grad.add(state.momentum_buffer, mom) : state.momentum_buffer;
            }
            param.add_(grad, rate);
        }
    }, closure);
}

/// <summary>
/// The Adam/AdamW update with explicit, kept-alive Scalars; contiguous float32 CPU parameters take
/// <see cref="FusedAdamKernel"/> (one pass over the values instead of about ten tensor operations).
/// </summary>
internal static class AdamUpdate
{
    public static void Run<TState>(IEnumerable<Parameter> parameters, Func<Parameter, TState> stateOf,
        Func<TState, (long Step, Tensor ExpAvg, Tensor ExpAvgSq)> read, Action<TState, long> setStep,
        double lr, double beta1, double beta2, double eps, double weightDecay, bool decoupled, bool maximize)
    {
        using Scalar one = 1.0, b1 = beta1, b2 = beta2, oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2, epsilon = eps,
            decay = weightDecay, decoupledKeep = 1 - lr * weightDecay, minusOne = -1.0;
        foreach (var param in parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            using var scope = NewDisposeScope();
            var state = stateOf(param);
            var (step, expAvg, expAvgSq) = read(state);
            step += 1;
            setStep(state, step);
            if (FusedAdamKernel.Fits(param, grad, expAvg, expAvgSq))
            {
                FusedAdamKernel.Update(param, grad, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled, maximize);
                continue;
            }
            if (maximize) grad = grad.mul(minusOne);
            if (weightDecay != 0)
            {
                if (decoupled) param.mul_(decoupledKeep);
                else grad = grad.add(param, decay);
            }
            expAvg.mul_(b1).add_(grad, oneMinusB1);
            expAvgSq.mul_(b2).addcmul_(grad, grad, oneMinusB2);
            double biasCorrection1 = 1 - Math.Pow(beta1, step);
            double biasCorrection2 = 1 - Math.Pow(beta2, step);
            using Scalar sqrtBias2 = Math.Sqrt(biasCorrection2), stepSize = -lr / biasCorrection1;
            var denominator = expAvgSq.sqrt().div_(sqrtBias2).add_(epsilon, one);
            param.addcdiv_(expAvg, denominator, stepSize);
        }
    }
}

/// <summary>Zero-grad over parameter groups, as TorchSharp's (gradients kept, zeroed in place), without a tensor operation per fitting gradient.</summary>
internal static class ZeroGradients
{
    public static void Run<TGroup>(IEnumerable<TGroup> groups) where TGroup : ParamGroup
    {
        foreach (var group in groups)
        {
            foreach (var param in group.Parameters)
            {
                using var grad = param.grad;
                if (grad is null) continue;
                FusedAdamKernel.ZeroGradient(grad);
            }
        }
    }
}

/// <summary>Creates the scalar-safe optimizer an <see cref="OptimizerOptions"/> describes (the one path the trainer, tests and benchmarks use).</summary>
internal static class OptimizerFactory
{
    public static optim.Optimizer Create(OptimizerOptions options, IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(parameters);
        return options.Kind switch
        {
            OptimizerKind.Adam => new ScalarSafeAdam(parameters, options.LearningRate, options.Betas.Beta1, options.Betas.Beta2, weightDecay: options.WeightDecay),
            OptimizerKind.AdamW => new ScalarSafeAdamW(parameters, options.LearningRate, options.Betas.Beta1, options.Betas.Beta2, weightDecay: options.WeightDecay),
            OptimizerKind.Sgd => new ScalarSafeSgd(parameters, options.LearningRate, momentum: options.Momentum, weightDecay: options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, $"Unknown {nameof(OptimizerKind)} {options.Kind}."),
        };
    }

    /// <summary>
    /// The optimizer over parameter groups, each with its own base learning rate (every other setting
    /// from <paramref name="options"/>); <c>ParamGroups</c> keeps the order of <paramref name="groups"/>.
    /// </summary>
    public static optim.Optimizer Create(OptimizerOptions options, IReadOnlyList<(IEnumerable<Parameter> Parameters, double LearningRate)> groups)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0) throw new ArgumentException("At least one parameter group is needed.", nameof(groups));
        return options.Kind switch
        {
            OptimizerKind.Adam => new ScalarSafeAdam(groups, options.Betas.Beta1, options.Betas.Beta2, weightDecay: options.WeightDecay),
            OptimizerKind.AdamW => new ScalarSafeAdamW(groups, options.Betas.Beta1, options.Betas.Beta2, weightDecay: options.WeightDecay),
            OptimizerKind.Sgd => new ScalarSafeSgd(groups, momentum: options.Momentum, weightDecay: options.WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, $"Unknown {nameof(OptimizerKind)} {options.Kind}."),
        };
    }
}
