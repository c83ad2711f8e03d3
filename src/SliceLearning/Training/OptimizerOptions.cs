using System.Globalization;

namespace SliceLearning.Training;

/// <summary>The optimisation algorithm.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (weight decay added to the gradient, L2 style).</summary>
    Adam = 0,

    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,

    /// <summary>Stochastic gradient descent with optional momentum.</summary>
    Sgd,
}

/// <summary>Optimizer settings for <see cref="SliceTrainer"/>.</summary>
public sealed class OptimizerOptions
{
    /// <summary>The algorithm.</summary>
    /// <value>The default value is <see cref="OptimizerKind.Adam"/>.</value>
    public OptimizerKind Kind { get; set; } = OptimizerKind.Adam;

    /// <summary>The base learning rate (a schedule scales it per epoch).</summary>
    /// <value>The default value is 1e-3.</value>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Weight decay (L2 for Adam and SGD, decoupled for AdamW).</summary>
    /// <value>The default value is 0.</value>
    public double WeightDecay { get; set; }

    /// <summary>Momentum for SGD (ignored by Adam and AdamW).</summary>
    /// <value>The default value is 0.</value>
    public double Momentum { get; set; }

    /// <summary>Adam or AdamW betas (ignored by SGD).</summary>
    /// <value>The default value is (0.9, 0.999).</value>
    public (double Beta1, double Beta2) Betas { get; set; } = (0.9, 0.999);

    /// <summary>Adam with the given learning rate and L2 weight decay.</summary>
    public static OptimizerOptions Adam(double learningRate = 1e-3, double weightDecay = 0) =>
        new() { Kind = OptimizerKind.Adam, LearningRate = learningRate, WeightDecay = weightDecay };

    /// <summary>AdamW with the given learning rate and decoupled weight decay.</summary>
    public static OptimizerOptions AdamW(double learningRate = 1e-3, double weightDecay = 0.01) =>
        new() { Kind = OptimizerKind.AdamW, LearningRate = learningRate, WeightDecay = weightDecay };

    /// <summary>SGD with the given learning rate, momentum and weight decay.</summary>
    public static OptimizerOptions Sgd(double learningRate = 0.01, double momentum = 0, double weightDecay = 0) =>
        new() { Kind = OptimizerKind.Sgd, LearningRate = learningRate, Momentum = momentum, WeightDecay = weightDecay };

    /// <summary>Checks every option; throws one exception that lists each problem.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it and its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(Kind)) problems.Add($"Kind must be one of {string.Join(", ", Enum.GetNames<OptimizerKind>())}. Got {(int)Kind}.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) problems.Add($"LearningRate must be a positive finite number. Got {F(LearningRate)}.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) problems.Add($"WeightDecay must be a finite number >= 0. Got {F(WeightDecay)}.");
        if (!(Momentum >= 0 && Momentum < 1)) problems.Add($"Momentum must be in [0, 1). Got {F(Momentum)}.");
        if (!(Betas.Beta1 >= 0 && Betas.Beta1 < 1) || !(Betas.Beta2 >= 0 && Betas.Beta2 < 1))
            problems.Add($"Betas must both be in [0, 1). Got ({F(Betas.Beta1)}, {F(Betas.Beta2)}).");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(OptimizerOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }

    /// <summary>
    /// Creates the optimizer these options describe over <paramref name="parameters"/>: the same
    /// implementation <see cref="SliceTrainer"/> uses, which does TorchSharp's Adam, AdamW or SGD update
    /// with every Scalar kept alive (TorchSharp's own optimizers can crash intermittently when a
    /// garbage collection finalizes a temporary Scalar during a step). For code with its own training loop.
    /// </summary>
    /// <param name="parameters">The parameters to optimise.</param>
    /// <exception cref="ArgumentException">An option is out of range (see <see cref="Validate"/>).</exception>
    public TorchSharp.torch.optim.Optimizer CreateOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Validate();
        return Optimizers.OptimizerFactory.Create(this, parameters);
    }

    /// <summary>A copy of these options.</summary>
    public OptimizerOptions Clone() => (OptimizerOptions)MemberwiseClone();

    private static string F(double v) => v.ToString(CultureInfo.InvariantCulture);
}
