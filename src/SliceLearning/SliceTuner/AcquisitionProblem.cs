using System.Globalization;
namespace SliceLearning.SliceTuner;

/// <summary>
/// The inputs of selective data acquisition: the current slice sizes, each slice's learning curve
/// and the cost of one example of each slice (paper section 5.1).
/// </summary>
public sealed class AcquisitionProblem
{
    /// <summary>Creates and validates a problem.</summary>
    /// <param name="sizes">Current training examples per slice (each &gt; 0).</param>
    /// <param name="curves">One learning curve per slice.</param>
    /// <param name="costs">Cost of one example per slice (each finite and &gt; 0); null for all 1.</param>
    /// <exception cref="SliceDataException">A size, curve or cost is invalid, or the counts differ; the message names the slice.</exception>
    public AcquisitionProblem(IReadOnlyList<int> sizes, IReadOnlyList<LearningCurve> curves, IReadOnlyList<double>? costs = null)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(curves);
        if (sizes.Count == 0) throw new ArgumentException("At least one slice is needed.", nameof(sizes));
        if (curves.Count != sizes.Count)
            throw new SliceDataException($"Got {curves.Count} learning curves for {sizes.Count} slices.", nameof(curves));
        if (costs is not null && costs.Count != sizes.Count)
            throw new SliceDataException($"Got {costs.Count} costs for {sizes.Count} slices.", nameof(costs));
        for (int i = 0; i < sizes.Count; i++)
        {
            if (sizes[i] <= 0)
                throw new SliceDataException($"Slice #{i} has size {sizes[i]}; the loss of an empty slice is undefined, so top it up first (sizes must be > 0).", nameof(sizes), sliceName: $"#{i}");
            if (curves[i] is null) throw new SliceDataException($"The learning curve of slice #{i} is null.", nameof(curves), sliceName: $"#{i}");
            curves[i].Validate(i);
        }
        Costs = ValidateCosts(costs, sizes.Count);
        Sizes = sizes.ToArray();
        Curves = curves.ToArray();
    }

    internal static double[] ValidateCosts(IReadOnlyList<double>? costs, int count)
    {
        if (costs is null) return Enumerable.Repeat(1.0, count).ToArray();
        if (costs.Count != count) throw new SliceDataException($"Got {costs.Count} costs for {count} slices.", nameof(costs));
        for (int i = 0; i < count; i++)
        {
            if (!double.IsFinite(costs[i]) || costs[i] <= 0)
                throw new SliceDataException(string.Create(CultureInfo.InvariantCulture, $"Slice #{i} has cost {costs[i]}; costs must be finite and > 0."), nameof(costs), sliceName: $"#{i}");
        }
        return costs.ToArray();
    }

    /// <summary>Current slice sizes.</summary>
    public IReadOnlyList<int> Sizes { get; }

    /// <summary>Learning curves.</summary>
    public IReadOnlyList<LearningCurve> Curves { get; }

    /// <summary>Per-example costs.</summary>
    public IReadOnlyList<double> Costs { get; }

    /// <summary>Number of slices.</summary>
    public int Count => Sizes.Count;

    /// <summary>True when every cost is the same.</summary>
    public bool EqualCosts => Costs.All(c => c == Costs[0]);

    /// <summary>A, the average predicted loss over slices at the current sizes (the unfairness reference).</summary>
    public double AverageLoss => Enumerable.Range(0, Count).Average(i => Curves[i].Loss(Sizes[i]));

    /// <summary>
    /// The objective at acquisition amounts <paramref name="amounts"/>:
    /// sum_i loss_i + lambda * sum_i max(0, loss_i / A - 1), with loss_i = b_i (s_i + d_i)^(-a_i)
    /// and A = <see cref="AverageLoss"/>.
    /// </summary>
    public double Objective(IReadOnlyList<double> amounts, double lambda)
    {
        ArgumentNullException.ThrowIfNull(amounts);
        double average = AverageLoss, total = 0;
        for (int i = 0; i < Count; i++) total += SliceObjective(i, Sizes[i] + amounts[i], lambda, average);
        return total;
    }

    /// <summary>The objective at integer amounts.</summary>
    public double Objective(IReadOnlyList<int> amounts, double lambda) => Objective(amounts.Select(a => (double)a).ToArray(), lambda);

    internal double SliceObjective(int i, double size, double lambda, double average)
    {
        double loss = Curves[i].Loss(size);
        return lambda > 0 && average > 0 ? loss + lambda * Math.Max(0, loss / average - 1) : loss;
    }
}

/// <summary>How many examples to acquire per slice, and what that is predicted to achieve.</summary>
public sealed class AcquisitionPlan
{
    internal AcquisitionPlan(string method, int[] amounts, double cost, double budget, double objective,
        double[]? continuous = null, double continuousObjective = double.NaN, double multiplier = double.NaN)
    {
        Method = method;
        Amounts = amounts;
        Cost = cost;
        Budget = budget;
        Objective = objective;
        Continuous = continuous;
        ContinuousObjective = continuousObjective;
        Multiplier = multiplier;
    }

    /// <summary>The method that made the plan ("One-shot", "Uniform", "Water filling").</summary>
    public string Method { get; }

    /// <summary>Examples to acquire per slice (integers, &gt;= 0, total cost &lt;= budget).</summary>
    public IReadOnlyList<int> Amounts { get; }

    /// <summary>sum_i cost_i * amount_i.</summary>
    public double Cost { get; }

    /// <summary>The budget the plan was made for.</summary>
    public double Budget { get; }

    /// <summary>The predicted objective of <see cref="Amounts"/> (NaN when the plan was made without curves).</summary>
    public double Objective { get; }

    /// <summary>For one-shot: the exact continuous optimum d* (before rounding); null otherwise.</summary>
    public IReadOnlyList<double>? Continuous { get; }

    /// <summary>For one-shot: the objective at <see cref="Continuous"/> (a lower bound for any integer plan); NaN otherwise.</summary>
    public double ContinuousObjective { get; }

    /// <summary>For one-shot: the budget's KKT multiplier (marginal objective decrease per unit of cost); NaN otherwise.</summary>
    public double Multiplier { get; }

    /// <summary>Total examples acquired.</summary>
    public int TotalAmount => Amounts.Sum();

    /// <inheritdoc />
    public override string ToString() => $"{Method}: [{string.Join(", ", Amounts)}] cost {Cost:G6} of {Budget:G6}";
}
