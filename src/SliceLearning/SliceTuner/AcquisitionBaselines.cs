namespace SliceLearning.SliceTuner;

/// <summary>The paper's two baselines (section 2.2), which need no learning curves.</summary>
public static class AcquisitionBaselines
{
    /// <summary>
    /// Uniform: the same number of examples for every slice, floor(budget / sum of costs); what is
    /// left buys one more example per slice in slice order while it fits.
    /// </summary>
    /// <param name="sliceCount">Number of slices (&gt; 0).</param>
    /// <param name="budget">The budget (finite, &gt;= 0).</param>
    /// <param name="costs">Per-example costs; null for all 1.</param>
    public static AcquisitionPlan Uniform(int sliceCount, double budget, IReadOnlyList<double>? costs = null)
    {
        if (sliceCount <= 0) throw new ArgumentOutOfRangeException(nameof(sliceCount), sliceCount, "At least one slice is needed.");
        CheckBudget(budget);
        var c = AcquisitionProblem.ValidateCosts(costs, sliceCount);
        int each = (int)Math.Min(Math.Floor(budget / c.Sum()), int.MaxValue / 2);
        var x = Enumerable.Repeat(each, sliceCount).ToArray();
        double spent = c.Sum() * each;
        if (spent > budget) { for (int i = 0; i < sliceCount; i++) x[i]--; spent = c.Sum() * x[0]; }
        for (int i = 0; i < sliceCount; i++)
        {
            if (c[i] <= budget - spent) { x[i]++; spent += c[i]; }
        }
        return new AcquisitionPlan("Uniform", x, Cost(x, c), budget, double.NaN);
    }

    /// <summary>
    /// Water filling: raise the smallest slices to a common level h with
    /// sum_i cost_i * max(0, h - s_i) = budget, floor, then give single examples to the currently
    /// smallest slice while they fit.
    /// </summary>
    /// <param name="sizes">Current slice sizes (&gt;= 0).</param>
    /// <param name="budget">The budget (finite, &gt;= 0).</param>
    /// <param name="costs">Per-example costs; null for all 1.</param>
    public static AcquisitionPlan WaterFilling(IReadOnlyList<int> sizes, double budget, IReadOnlyList<double>? costs = null)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count == 0) throw new ArgumentException("At least one slice is needed.", nameof(sizes));
        for (int i = 0; i < sizes.Count; i++)
        {
            if (sizes[i] < 0) throw new SliceDataException($"Slice #{i} has size {sizes[i]}; sizes must be >= 0.", nameof(sizes), sliceName: $"#{i}");
        }
        CheckBudget(budget);
        int n = sizes.Count;
        var c = AcquisitionProblem.ValidateCosts(costs, n);
        // Continuous level: walk the sorted sizes; between consecutive sizes the cost is linear in h.
        var order = Enumerable.Range(0, n).OrderBy(i => sizes[i]).ToArray();
        double costRate = 0, level = sizes[order[0]], used = 0;
        for (int k = 0; k < n; k++)
        {
            costRate += c[order[k]];
            double nextSize = k + 1 < n ? sizes[order[k + 1]] : double.PositiveInfinity;
            double need = costRate * (nextSize - level);
            if (used + need >= budget) { level += (budget - used) / costRate; break; }
            used += need;
            level = nextSize;
        }
        var x = new int[n];
        double spent = 0;
        for (int i = 0; i < n; i++)
        {
            x[i] = (int)Math.Max(0, Math.Floor(level - sizes[i]));
            spent += c[i] * x[i];
        }
        while (spent > budget)
        {
            int j = Enumerable.Range(0, n).Where(i => x[i] > 0).MaxBy(i => sizes[i] + x[i]);
            x[j]--;
            spent -= c[j];
        }
        var queue = new PriorityQueue<int, (long Size, int Index)>();
        for (int i = 0; i < n; i++) queue.Enqueue(i, ((long)sizes[i] + x[i], i));
        while (queue.TryDequeue(out int i, out _))
        {
            if (c[i] > budget - spent) continue;
            x[i]++;
            spent += c[i];
            queue.Enqueue(i, ((long)sizes[i] + x[i], i));
        }
        return new AcquisitionPlan("Water filling", x, Cost(x, c), budget, double.NaN);
    }

    /// <summary>
    /// A baseline plan's predicted objective under <paramref name="problem"/> (for comparing with one-shot).
    /// </summary>
    public static double PredictedObjective(AcquisitionProblem problem, AcquisitionPlan plan, double lambda)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(plan);
        return problem.Objective(plan.Amounts, lambda);
    }

    private static void CheckBudget(double budget)
    {
        if (!double.IsFinite(budget) || budget < 0) throw new ArgumentOutOfRangeException(nameof(budget), budget, "The budget must be finite and >= 0.");
    }

    private static double Cost(int[] x, double[] c)
    {
        double total = 0;
        for (int i = 0; i < x.Length; i++) total += c[i] * x[i];
        return total;
    }
}
