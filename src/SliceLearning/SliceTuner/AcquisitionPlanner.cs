using System.Globalization;
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
    /// <exception cref="ArgumentOutOfRangeException">The budget or lambda is out of range, or the plan would hold more than
    /// <see cref="int.MaxValue"/> examples in total (a huge budget or a tiny cost); the message gives the size.</exception>
    public static AcquisitionPlan OneShot(AcquisitionProblem problem, double budget, double lambda = 1.0)
    {
        ArgumentNullException.ThrowIfNull(problem);
        if (!double.IsFinite(budget) || budget < 0) throw new ArgumentOutOfRangeException(nameof(budget), budget, "The budget must be finite and >= 0.");
        if (!double.IsFinite(lambda) || lambda < 0) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "Lambda must be finite and >= 0.");
        var solver = new Solver(problem, lambda);
        double[] d = solver.SolveContinuous(budget, out double mu);
        int[] x = solver.Round(d, budget, out double objective);
        double cost = 0, continuousObjective = 0;
        for (int i = 0; i < x.Length; i++)
        {
            cost += problem.Costs[i] * x[i];
            continuousObjective += solver.F(i, d[i]);
        }
        return new AcquisitionPlan("One-shot", x, cost, budget, objective, d, continuousObjective, mu);
    }

    private sealed class Solver
    {
        private readonly double _average, _penalty;
        private readonly int _n;
        private readonly bool _equalCosts;
        private readonly bool[] _active, _kink;
        // Per slice: size, cost, curve, 1/(a+1), log(a b factor / c) and log(a b / c) (the two sides of the
        // unfairness kink), the kink's position d_k, z2/z1 = factor^(-1/(a+1)), and the t above which d = 0.
        private readonly double[] _s, _c, _a, _b, _gamma, _beta1, _beta2, _dk, _ratio, _tZero;

        public Solver(AcquisitionProblem p, double lambda)
        {
            _n = p.Count;
            _equalCosts = p.EqualCosts;
            _active = new bool[_n]; _kink = new bool[_n];
            _s = new double[_n]; _c = new double[_n]; _a = new double[_n]; _b = new double[_n]; _gamma = new double[_n];
            _beta1 = new double[_n]; _beta2 = new double[_n]; _dk = new double[_n]; _ratio = new double[_n]; _tZero = new double[_n];
            var loss0 = new double[_n];
            double sum = 0;
            for (int i = 0; i < _n; i++)
            {
                var curve = p.Curves[i];
                _a[i] = curve.A;
                _b[i] = curve.B;
                _s[i] = p.Sizes[i];
                _c[i] = p.Costs[i];
                loss0[i] = _b[i] * Math.Pow(_s[i], -_a[i]);
                sum += loss0[i];
            }
            _average = sum / _n;
            bool useKink = lambda > 0 && _average > 0;
            double logFactor = useKink ? Math.Log(1 + lambda / _average) : 0;
            _penalty = useKink ? lambda : 0;
            for (int i = 0; i < _n; i++)
            {
                double a = _a[i], b = _b[i];
                _active[i] = a > 0 && b > 0;
                if (!_active[i]) continue;
                _gamma[i] = 1 / (a + 1);
                _beta2[i] = Math.Log(a * b / _c[i]);
                _beta1[i] = _beta2[i] + logFactor;
                _kink[i] = useKink && loss0[i] > _average;
                _dk[i] = _kink[i] ? Math.Pow(b / _average, 1 / a) - _s[i] : 0;
                _ratio[i] = _kink[i] ? Math.Exp(-logFactor * _gamma[i]) : 1;
                _tZero[i] = (_kink[i] ? _beta1[i] : _beta2[i]) - Math.Log(_s[i]) / _gamma[i];
            }
        }

        // d_i at t = log(mu), and dd_i/dt. One exp at most.
        private double Amount(int i, double t, out double slope)
        {
            slope = 0;
            if (!_active[i] || t >= _tZero[i]) return 0;
            double z = Math.Exp(((_kink[i] ? _beta1[i] : _beta2[i]) - t) * _gamma[i]);
            double d = z - _s[i];
            if (_kink[i] && d > _dk[i])
            {
                z *= _ratio[i];   // the other side of the kink
                d = z - _s[i];
                if (d < _dk[i]) return _dk[i];
            }
            if (d <= 0) return 0;
            slope = -_gamma[i] * z;
            return d;
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
            double hi = double.NegativeInfinity, lo = double.NegativeInfinity;
            for (int i = 0; i < _n; i++)
            {
                if (!_active[i]) continue;
                hi = Math.Max(hi, _tZero[i]);
                // At this t slice i alone (on the far side of any kink, where it takes the least) spends the budget.
                lo = Math.Max(lo, _beta2[i] - Math.Log(budget / _c[i] + _s[i]) / _gamma[i]);
            }
            if (double.IsNegativeInfinity(hi) || budget <= 0)
            {
                if (!double.IsNegativeInfinity(hi)) mu = Math.Exp(hi);
                return d;
            }
            // Bracket: C(lo) >= budget >= C(hi) = 0 (widen lo if rounding left C(lo) short).
            double step = 1;
            while (TotalCost(lo, out _) < budget)
            {
                lo -= step;
                step *= 2;
                if (step > 1e6) throw new InvalidOperationException("The one-shot solver could not bracket the budget multiplier.");
            }
            lo = Math.Min(lo, hi);
            // Newton steps inside the bracket, bisection whenever a step leaves it.
            double t = lo;
            double tolerance = 1e-13 * Math.Max(budget, 1);
            for (int iter = 0; iter < 400; iter++)
            {
                double cost = TotalCost(t, out double slope);
                double gap = cost - budget;
                if (Math.Abs(gap) <= tolerance) break;
                if (gap > 0) lo = t; else hi = t;
                if (hi - lo <= 1e-15 * Math.Max(1, Math.Abs(t))) break;
                // Newton on log C(t) = log B: C is a sum of (clamped) exponentials in t, so its log is
                // nearly linear and the step lands close to the root from far away.
                double next = slope < 0 && cost > 0 ? t - (Math.Log(cost) - Math.Log(budget)) * cost / slope : double.NaN;
                t = next > lo && next < hi ? next : 0.5 * (lo + hi);
            }
            mu = Math.Exp(t);
            for (int i = 0; i < _n; i++) d[i] = Amount(i, t, out _);
            return d;
        }

        // Amounts are ints and so is their total (AcquisitionPlan.TotalAmount).
        private const long MaxTotal = int.MaxValue;

        private Exception TooLarge(double total, double budget)
        {
            double cheapest = _c.Where((_, i) => _active[i]).DefaultIfEmpty(double.NaN).Min();
            return new ArgumentOutOfRangeException(nameof(budget), budget,
                string.Create(CultureInfo.InvariantCulture, $"The plan for a budget of {budget:G6} would acquire about {total:G4} examples (the cheapest slice costs {cheapest:G4} per example), ") +
                string.Create(CultureInfo.InvariantCulture, $"more than a plan can hold ({int.MaxValue:N0} in total). Use a smaller budget, or costs per batch of examples (e.g. per 1,000)."));
        }

        // The slice's objective term at x acquired examples (same formula as AcquisitionProblem.SliceObjective).
        public double F(int i, double x)
        {
            double loss = _b[i] * Math.Pow(_s[i] + x, -_a[i]);
            return _penalty > 0 ? loss + _penalty * Math.Max(0, loss / _average - 1) : loss;
        }

        // Objective decrease from the (x+1)-th acquired example of slice i.
        private double Gain(int i, int x) => F(i, x) - F(i, x + 1);

        public int[] Round(double[] d, double budget, out double objective)
        {
            var x = new int[_n];
            double spent = 0, total = 0;
            for (int i = 0; i < _n; i++) total += _active[i] ? Math.Floor(d[i]) : 0;
            if (total > MaxTotal) throw TooLarge(total, budget);
            for (int i = 0; i < _n; i++)
            {
                x[i] = _active[i] ? (int)Math.Floor(d[i]) : 0;
                spent += _c[i] * x[i];
            }
            long planned = (long)total;
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

            // Cached F(x_i) and F(x_i + 1), so each added example costs one power.
            var fx = new double[_n];
            var fNext = new double[_n];
            for (int i = 0; i < _n; i++)
            {
                fx[i] = F(i, x[i]);
                fNext[i] = _active[i] ? F(i, x[i] + 1) : fx[i];
            }

            // Greedy: add the best affordable example (gain per cost) until none fits. A run of examples
            // of one slice that all beat the next-best slice's example is added at once (found by
            // bisection, gains fall with x), so a very cheap slice does not take one step per example.
            var queue = new PriorityQueue<int, double>(_n);
            for (int i = 0; i < _n; i++)
            {
                if (!_active[i] || _c[i] > budget - spent) continue;
                double g = fx[i] - fNext[i];
                if (g > 0) queue.Enqueue(i, -g / _c[i]);
            }
            var added = new bool[_n];
            while (queue.TryDequeue(out int i, out _))
            {
                if (_c[i] > budget - spent)
                {
                    if (_equalCosts) break;   // nothing else fits either
                    continue;
                }
                double affordable = Math.Floor((budget - spent) / _c[i]);
                long run = 1;
                if (affordable > 1)
                {
                    // The largest k <= affordable such that the k-th next example still beats the next slice's best.
                    double rival = queue.TryPeek(out _, out double negRival) ? -negRival : 0;
                    long lo = 1, hi = (long)Math.Min(affordable, MaxTotal);
                    while (lo < hi)
                    {
                        long mid = lo + (hi - lo + 1) / 2;
                        if (Gain(i, (int)Math.Min(x[i] + mid - 1, int.MaxValue - 1)) / _c[i] > rival) lo = mid; else hi = mid - 1;
                    }
                    run = lo;
                }
                if (planned + run > MaxTotal) throw TooLarge(planned + run, budget);
                planned += run;
                x[i] += (int)run;
                added[i] = true;
                spent += _c[i] * run;
                fx[i] = F(i, x[i]);
                fNext[i] = F(i, x[i] + 1);
                double g = fx[i] - fNext[i];
                if (g > 0 && _c[i] <= budget - spent) queue.Enqueue(i, -g / _c[i]);
            }

            if (_equalCosts && Exchange(x, added, fx, fNext))
            {
                for (int i = 0; i < _n; i++) fx[i] = F(i, x[i]);
            }
            objective = 0;
            for (int i = 0; i < _n; i++) objective += fx[i];
            return x;
        }

        // Equal costs: move single examples from the slice where the last one helps least to the
        // slice where the next one helps most, while that lowers the objective. Returns true when it moved any.
        private bool Exchange(int[] x, bool[] added, double[] fx, double[] fNext)
        {
            // Quick check in one pass: the best next example against the least useful last one.
            // Slices the greedy step added to cannot be the least useful (their last gain was at
            // least every gain left), so only the others need their last gain computed.
            int bestNext = -1, worstLast = -1;
            double next = double.NegativeInfinity, last = double.PositiveInfinity;
            for (int i = 0; i < _n; i++)
            {
                if (!_active[i]) continue;
                double g = fx[i] - fNext[i];
                if (g > next) { next = g; bestNext = i; }
                if (x[i] > 0 && !added[i])
                {
                    double h = F(i, x[i] - 1) - fx[i];
                    if (h < last) { last = h; worstLast = i; }
                }
            }
            if (bestNext < 0 || worstLast < 0 || bestNext == worstLast || !Improves(next, last)) return false;

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
                if (!nextQueue.TryPeek(out var up, out double negGain) || !lastQueue.TryPeek(out var down, out double loss)) break;
                if (up.Slice == down.Slice || !Improves(-negGain, loss)) break;
                x[up.Slice]++;
                x[down.Slice]--;
                foreach (int i in new[] { up.Slice, down.Slice })
                {
                    nextQueue.Enqueue((i, x[i]), -Gain(i, x[i]));
                    if (x[i] > 0) lastQueue.Enqueue((i, x[i]), Gain(i, x[i] - 1));
                }
            }
            return true;
        }

        private static bool Improves(double gain, double loss) => gain > loss + 1e-15 * Math.Abs(loss);
    }
}
