namespace SliceLearning.SliceTuner;

/// <summary>
/// One-shot selective data acquisition (paper section 5.1): minimize
/// sum_i loss_i(s_i + d_i) + lambda * sum_i max(0, loss_i(s_i + d_i) / A - 1)
/// subject to sum_i cost_i d_i &lt;= budget, d_i &gt;= 0, with loss_i(n) = b_i n^(-a_i) and A the
/// average loss at the current sizes.
/// </summary>
/// <remarks>
/// The problem is separable and convex, so the KKT conditions with one budget multiplier mu are
/// exact: each slice takes the d_i where its marginal objective decrease per unit of cost equals mu
/// (0 if even the first example is worth less), which has a closed form on each side of the
/// unfairness kink loss_i = A. The total cost is continuous and non-increasing in mu; mu is found by
/// bisection on log(mu), with Newton steps inside the bracket to speed it up, in O(n) per step.
/// Integers: floor the continuous optimum, add single examples greedily by marginal gain per cost
/// while they fit in the budget, then (equal costs) exchange single examples while that improves the
/// objective; for a separable convex objective under one equal-cost budget, no improving exchange
/// and no affordable addition means optimal. For unequal costs the greedy result is near-optimal.
/// The integer plan never spends more than the budget.
/// </remarks>
public static class AcquisitionPlanner
{
    /// <summary>Solves the one-shot problem and returns integer amounts (with the continuous optimum in <see cref="AcquisitionPlan.Continuous"/>).</summary>
    /// <param name="problem">Sizes, curves and costs.</param>
    /// <param name="budget">The budget B (finite, &gt;= 0).</param>
    /// <param name="lambda">The weight of the unfairness term (finite, &gt;= 0); the paper's default is 1.</param>
    public static AcquisitionPlan OneShot(AcquisitionProblem problem, double budget, double lambda = 1.0)
    {
        ArgumentNullException.ThrowIfNull(problem);
        if (!double.IsFinite(budget) || budget < 0) throw new ArgumentOutOfRangeException(nameof(budget), budget, "The budget must be finite and >= 0.");
        if (!double.IsFinite(lambda) || lambda < 0) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Lambda must be finite and >= 0.");
        var solver = new Solver(problem, lambda);
        double[] d = solver.SolveContinuous(budget, out double mu);
        int[] x = solver.Round(d, budget);
        double cost = 0;
        for (int i = 0; i < x.Length; i++) cost += problem.Costs[i] * x[i];
        return new AcquisitionPlan("One-shot", x, cost, budget, problem.Objective(x, lambda), d, problem.Objective(d, lambda), mu);
    }

    private sealed class Solver
    {
        private readonly AcquisitionProblem _p;
        private readonly double _lambda, _average;
        private readonly int _n;
        private readonly bool[] _active, _kink;
        private readonly double[] _s, _c, _gamma, _beta1, _beta2, _dk;

        public Solver(AcquisitionProblem p, double lambda)
        {
            _p = p;
            _lambda = lambda;
            _n = p.Count;
            _average = p.AverageLoss;
            _active = new bool[_n]; _kink = new bool[_n];
            _s = new double[_n]; _c = new double[_n]; _gamma = new double[_n];
            _beta1 = new double[_n]; _beta2 = new double[_n]; _dk = new double[_n];
            bool useKink = lambda > 0 && _average > 0;
            double factor = useKink ? 1 + lambda / _average : 1;
            for (int i = 0; i < _n; i++)
            {
                var curve = p.Curves[i];
                double a = curve.A, b = curve.B;
                _s[i] = p.Sizes[i];
                _c[i] = p.Costs[i];
                _active[i] = a > 0 && b > 0;
                if (!_active[i]) continue;
                _gamma[i] = 1 / (a + 1);
                _beta2[i] = Math.Log(a * b / _c[i]);
                _beta1[i] = _beta2[i] + Math.Log(factor);
                _kink[i] = useKink && curve.Loss(_s[i]) > _average;
                _dk[i] = _kink[i] ? Math.Pow(b / _average, 1 / a) - _s[i] : 0;
            }
        }

        // d_i at t = log(mu), and dd_i/dt.
        private double Amount(int i, double t, out double slope)
        {
            slope = 0;
            if (!_active[i]) return 0;
            if (_kink[i])
            {
                double z1 = Math.Exp((_beta1[i] - t) * _gamma[i]);
                double d1 = z1 - _s[i];
                if (d1 <= _dk[i])
                {
                    if (d1 <= 0) return 0;
                    slope = -_gamma[i] * z1;
                    return d1;
                }
                double z2 = Math.Exp((_beta2[i] - t) * _gamma[i]);
                double d2 = z2 - _s[i];
                if (d2 >= _dk[i]) { slope = -_gamma[i] * z2; return d2; }
                return _dk[i];
            }
            double z = Math.Exp((_beta2[i] - t) * _gamma[i]);
            if (z <= _s[i]) return 0;
            slope = -_gamma[i] * z;
            return z - _s[i];
        }

        private double TotalCost(double t, out double slope)
        {
            double cost = 0;
            slope = 0;
            for (int i = 0; i < _n; i++)
            {
                double d = Amount(i, t, out double di);
                cost += _c[i] * d;
                slope += _c[i] * di;
            }
            return cost;
        }

        public double[] SolveContinuous(double budget, out double mu)
        {
            var d = new double[_n];
            mu = double.NaN;
            double hi = double.NegativeInfinity;
            for (int i = 0; i < _n; i++)
            {
                if (!_active[i]) continue;
                double beta0 = _kink[i] ? _beta1[i] : _beta2[i];
                hi = Math.Max(hi, beta0 - Math.Log(_s[i]) / _gamma[i]);
            }
            if (double.IsNegativeInfinity(hi) || budget <= 0)
            {
                if (!double.IsNegativeInfinity(hi)) mu = Math.Exp(hi);
                return d;
            }
            // Bracket: C(lo) >= budget >= C(hi) = 0.
            double step = 1, lo = hi - step;
            while (TotalCost(lo, out _) < budget)
            {
                hi = lo;
                step *= 2;
                lo -= step;
                if (step > 1e6) throw new InvalidOperationException("The one-shot solver could not bracket the budget multiplier.");
            }
            double t = lo;
            double tolerance = 1e-13 * Math.Max(budget, 1);
            for (int iter = 0; iter < 400; iter++)
            {
                double cost = TotalCost(t, out double slope);
                double gap = cost - budget;
                if (Math.Abs(gap) <= tolerance) break;
                if (gap > 0) lo = t; else hi = t;
                if (hi - lo <= 1e-15 * Math.Max(1, Math.Abs(t))) break;
                double next = slope < 0 ? t - gap / slope : double.NaN;
                t = next > lo && next < hi ? next : 0.5 * (lo + hi);
            }
            mu = Math.Exp(t);
            for (int i = 0; i < _n; i++) d[i] = Amount(i, t, out _);
            return d;
        }

        private double F(int i, double x) => _p.SliceObjective(i, _s[i] + x, _lambda, _average);

        // Objective decrease from the (x+1)-th acquired example of slice i.
        private double Gain(int i, int x) => F(i, x) - F(i, x + 1);

        public int[] Round(double[] d, double budget)
        {
            var x = new int[_n];
            double spent = 0;
            for (int i = 0; i < _n; i++)
            {
                x[i] = _active[i] ? (int)Math.Min(Math.Floor(d[i]), int.MaxValue - 1) : 0;
                spent += _c[i] * x[i];
            }
            // Guard against rounding in the continuous cost: remove the least useful examples until within budget.
            while (spent > budget)
            {
                int worst = -1;
                double worstLoss = double.PositiveInfinity;
                for (int i = 0; i < _n; i++)
                {
                    if (x[i] == 0) continue;
                    double loss = Gain(i, x[i] - 1) / _c[i];
                    if (loss < worstLoss) { worstLoss = loss; worst = i; }
                }
                x[worst]--;
                spent -= _c[worst];
            }

            // Greedy: add the best affordable example (gain per cost) until none fits.
            var queue = new PriorityQueue<int, double>();
            for (int i = 0; i < _n; i++)
            {
                if (!_active[i] || _c[i] > budget - spent) continue;
                double g = Gain(i, x[i]);
                if (g > 0) queue.Enqueue(i, -g / _c[i]);
            }
            while (queue.TryDequeue(out int i, out _))
            {
                if (_c[i] > budget - spent) continue;
                x[i]++;
                spent += _c[i];
                double g = Gain(i, x[i]);
                if (g > 0 && _c[i] <= budget - spent) queue.Enqueue(i, -g / _c[i]);
            }

            if (_p.EqualCosts) Exchange(x);
            return x;
        }

        // Equal costs: move single examples from the slice where the last one helps least to the
        // slice where the next one helps most, while that lowers the objective.
        private void Exchange(int[] x)
        {
            int bestNext = -1, worstLast = -1;
            double next = double.NegativeInfinity, last = double.PositiveInfinity;
            for (int i = 0; i < _n; i++)
            {
                if (!_active[i]) continue;
                double g = Gain(i, x[i]);
                if (g > next) { next = g; bestNext = i; }
                if (x[i] > 0)
                {
                    double h = Gain(i, x[i] - 1);
                    if (h < last) { last = h; worstLast = i; }
                }
            }
            if (bestNext < 0 || worstLast < 0 || bestNext == worstLast || !Improves(next, last)) return;

            var nextQueue = new PriorityQueue<(int Slice, int X), double>();
            var lastQueue = new PriorityQueue<(int Slice, int X), double>();
            for (int i = 0; i < _n; i++)
            {
                if (!_active[i]) continue;
                nextQueue.Enqueue((i, x[i]), -Gain(i, x[i]));
                if (x[i] > 0) lastQueue.Enqueue((i, x[i]), Gain(i, x[i] - 1));
            }
            for (int swaps = 0; swaps < 10 * _n + 10; swaps++)
            {
                while (nextQueue.TryPeek(out var e, out _) && e.X != x[e.Slice]) nextQueue.Dequeue();
                while (lastQueue.TryPeek(out var e, out _) && (e.X != x[e.Slice] || x[e.Slice] == 0)) lastQueue.Dequeue();
                if (!nextQueue.TryPeek(out var up, out double negGain) || !lastQueue.TryPeek(out var down, out double loss)) return;
                if (up.Slice == down.Slice || !Improves(-negGain, loss)) return;
                x[up.Slice]++;
                x[down.Slice]--;
                foreach (int i in new[] { up.Slice, down.Slice })
                {
                    nextQueue.Enqueue((i, x[i]), -Gain(i, x[i]));
                    if (x[i] > 0) lastQueue.Enqueue((i, x[i]), Gain(i, x[i] - 1));
                }
            }
        }

        private static bool Improves(double gain, double loss) => gain > loss + 1e-15 * Math.Abs(loss);
    }
}
