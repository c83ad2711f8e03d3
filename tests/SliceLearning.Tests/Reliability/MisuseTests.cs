using SliceLearning.Models;
using SliceLearning.Slicing;
using SliceLearning.SliceTuner;
using SliceLearning.Tests.Training;
using SliceLearning.Training;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Reliability;

/// <summary>Bad input and misuse a new user runs into: each gets a library error that says what is wrong.</summary>
[Collection("Sequential")]
public sealed class MisuseTests
{
    /// <summary>A read-only list whose indexer throws on one row (neither an array nor a List, so rows are read one by one).</summary>
    private sealed class FailingList(int count, int failingRow) : IReadOnlyList<int>
    {
        public int Count => count;

        public int this[int index] => index == failingRow ? throw new IOException($"disk read failed at {index}") : index;

        public IEnumerator<int> GetEnumerator() => Enumerable.Range(0, count).Select(i => this[i]).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Apply_DataIndexerThrows_SliceDataExceptionNamesTheRow(int threads)
    {
        var slices = SliceSet.For<int>().Add("even", i => i % 2 == 0).Build();
        var options = new SliceApplyOptions { MaxDegreeOfParallelism = threads };
        var ex = Assert.Throws<SliceDataException>(() => slices.Apply(new FailingList(5000, failingRow: 3000), options));
        Assert.Equal(3000, ex.Row);
        Assert.IsType<IOException>(ex.InnerException);
        Assert.Contains("Reading row 3000 of the data threw IOException: disk read failed at 3000", ex.Message);
        Assert.Null(ex.SliceName);
    }

    [Fact]
    public void SliceMatrixFromRows_NamesFollowTheSliceSetRules()
    {
        var rows = new bool[2, 4] { { true, false, true, false }, { true, true, false, false } };
        var ex = Assert.Throws<ArgumentException>(() => SliceMatrix.FromRows(new[] { "base", "x y/z", "ok", "OK" }, rows));
        Assert.Equal("sliceNames", ex.ParamName);
        Assert.Contains("SF #0 is named 'x y/z'; use only letters, digits", ex.Message);
        Assert.Contains("SF #2 is named 'OK', like an earlier SF", ex.Message);
        Assert.DoesNotContain("'ok'", ex.Message.Replace("'OK'", "", StringComparison.Ordinal));

        var first = Assert.Throws<ArgumentException>(() => SliceMatrix.FromRows(new[] { "all", "a" }, new bool[1, 2] { { true, true } }));
        Assert.Contains("The first slice name must be the base slice 'base'; got 'all'", first.Message);

        using var t = ones(2, 2);
        Assert.Throws<ArgumentException>(() => SliceMatrix.FromTensor(t, new[] { "base", "a,b" }));
        // Valid names still work.
        Assert.Equal(4, SliceMatrix.FromRows(new[] { "base", "x_y", "z.1", "w-2" }, rows).ColumnCount);
    }

    [Theory]
    [InlineData(3e9, 1.0)]      // 3 billion examples at cost 1
    [InlineData(6000, 1e-9)]    // 6e12 examples at a tiny cost
    public void OneShot_PlanBeyondIntRange_ThrowsAClearLimit(double budget, double cost)
    {
        var problem = new AcquisitionProblem(new[] { 100, 100 }, new[] { new LearningCurve(0.5, 1), new LearningCurve(0.5, 4) }, new[] { cost, cost });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => AcquisitionPlanner.OneShot(problem, budget));
        Assert.Equal("budget", ex.ParamName);
        Assert.Contains("more than a plan can hold (2,147,483,647 in total)", ex.Message);
    }

    [Fact]
    public void OneShot_LargeButRepresentablePlan_IsExactAndSpendsTheBudget()
    {
        // 2 billion examples at cost 1: the continuous optimum, floored, plus the greedy top-up.
        var problem = new AcquisitionProblem(new[] { 100, 100 }, new[] { new LearningCurve(0.5, 1), new LearningCurve(0.5, 4) }, new[] { 1.0, 1.0 });
        var plan = AcquisitionPlanner.OneShot(problem, 2e9, lambda: 0);
        Assert.Equal(2_000_000_000L, plan.Amounts.Sum(a => (long)a));
        Assert.Equal(2e9, plan.Cost);
        // Equal marginal gains: (s1 + d1) / (s2 + d2) = (b1 / b2)^(2/3).
        double ratio = (100.0 + plan.Amounts[0]) / (100.0 + plan.Amounts[1]);
        Assert.Equal(Math.Pow(0.25, 2.0 / 3), ratio, 1e-8);
    }

    [Fact]
    public void OneShot_VeryCheapSlice_GreedyTopUpMatchesOneExampleAtATime()
    {
        // Slice 1 costs 1e-4: the budget left after flooring buys thousands of its examples.
        var problem = new AcquisitionProblem(new[] { 50, 80, 120 },
            new[] { new LearningCurve(0.6, 2), new LearningCurve(0.4, 1), new LearningCurve(0.3, 3) }, new[] { 1.0, 1e-4, 2.5 });
        var plan = AcquisitionPlanner.OneShot(problem, 1234.56, lambda: 1);
        Assert.True(plan.Cost <= 1234.56 + 1e-9);
        // Reference: from the floored continuous optimum, add single examples by best gain per cost while one fits.
        var x = plan.Continuous!.Select(d => (int)Math.Floor(d)).ToArray();
        double left = 1234.56 - x.Select((v, i) => v * problem.Costs[i]).Sum();
        double average = problem.AverageLoss;
        while (true)
        {
            int best = -1;
            double bestRate = 0;
            for (int i = 0; i < x.Length; i++)
            {
                if (problem.Costs[i] > left) continue;
                double gain = problem.SliceObjective(i, problem.Sizes[i] + x[i], 1, average) - problem.SliceObjective(i, problem.Sizes[i] + x[i] + 1, 1, average);
                if (gain / problem.Costs[i] > bestRate) { bestRate = gain / problem.Costs[i]; best = i; }
            }
            if (best < 0) break;
            x[best]++;
            left -= problem.Costs[best];
        }
        // Same plan; the cheap slice's count may differ by the one example that sits on the budget's
        // edge in floating point (the reference subtracts 1e-4 a hundred thousand times).
        Assert.Equal(x[0], plan.Amounts[0]);
        Assert.Equal(x[2], plan.Amounts[2]);
        Assert.InRange(plan.Amounts[1] - x[1], -1, 1);
        Assert.True(1234.56 - plan.Cost < 1e-4 * (1 + 1e-6), $"left {1234.56 - plan.Cost} would buy another cheap example");
    }

    private sealed class NullAcquirer : IDataAcquirer
    {
        public ValueTask<IReadOnlyList<int>> AcquireAsync(IReadOnlyList<int> amounts, CancellationToken cancellationToken = default) => ValueTask.FromResult<IReadOnlyList<int>>(null!);
    }

    private sealed class FixedCurves(params LearningCurve[] curves) : ICurveProvider
    {
        public CurveEstimate Estimate(IReadOnlyList<int> sliceSizes, IProgress<EstimationProgress>? progress = null, CancellationToken cancellationToken = default) =>
            new(sliceSizes.ToArray(), curves.Select(c => LearningCurveFitter.Fit(
                new[] { 10.0, 20, 40, 80 }.Select(n => new CurvePoint(n, c.Loss(n))).ToArray())).ToArray(), 0, TimeSpan.Zero, EstimationMethod.Amortized);
    }

    [Theory]
    [InlineData(5)]    // the first call is the top-up of the slice below the minimum size
    [InlineData(20)]   // the first call is an iteration's request
    public async Task IterativeAcquisition_AcquirerReturnsNull_ClearContractError(int firstSize)
    {
        var algorithm = new IterativeAcquisition(new FixedCurves(new LearningCurve(0.5, 1), new LearningCurve(0.5, 4)), new NullAcquirer(),
            new IterativeOptions { MinSliceSize = 10, Lambda = 0 });
        var ex = await Assert.ThrowsAsync<ContractViolationException>(() => algorithm.RunAsync(new[] { firstSize, 20 }, budget: 50));
        Assert.Contains("The acquirer NullAcquirer returned null from AcquireAsync", ex.Message);
    }

    [Fact]
    public void Fit_DisposedDataSet_ObjectDisposedExceptionNamesTheRole()
    {
        using var valid = TwoDiscTask.Dataset(50, seed: 2);
        var train = TwoDiscTask.Dataset(50, seed: 1);
        train.Dispose();
        using var model = VanillaModel.Create(TwoDiscTask.Backbone(), 13, 2);
        var ex = Assert.Throws<ObjectDisposedException>(() => SliceTrainer.For(model).WithData(train, valid).WithEpochs(1).Fit());
        Assert.Contains("The training data set was disposed before Fit", ex.Message);

        using var train2 = TwoDiscTask.Dataset(50, seed: 1);
        valid.Dispose();
        var ex2 = Assert.Throws<ObjectDisposedException>(() => SliceTrainer.For(model).WithData(train2, valid).WithEpochs(1).Fit());
        Assert.Contains("The validation data set was disposed before Fit", ex2.Message);
    }

    [Fact]
    public void Fit_NaNFirstValidationScore_IsNotKeptAsBest()
    {
        using var train = TwoDiscTask.Dataset(128, seed: 1);
        using var valid = TwoDiscTask.Dataset(64, seed: 2);
        manual_seed(3);
        using var model = VanillaModel.Create(TwoDiscTask.Backbone(), 13, 2);
        int calls = 0;
        var metric = ValidationMetric.Custom("nan-first", o => ++calls == 1 ? double.NaN : o.Accuracy());
        var result = SliceTrainer.For(model).WithData(train, valid).WithEpochs(3).WithSeed(1)
            .WithEarlyStopping(patience: 5, metric).Fit();
        Assert.True(double.IsNaN(result.ValidationHistory[0]));
        Assert.NotEqual(1, result.BestEpoch);
        Assert.Equal(result.ValidationHistory.Skip(1).Max(), result.BestValidationScore);
    }
}
