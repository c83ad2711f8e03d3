using SliceLearning.SliceTuner;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionMnistAcquisition;

/// <summary>Training settings of the small model.</summary>
internal sealed record TrainSettings(int Hidden = 128, int Epochs = 5, int BatchSize = 32, double LearningRate = 1e-3, double WeightDecay = 1e-4, double Dropout = 0.2);

/// <summary>
/// A minimal TorchSharp loop: an MLP 784 -> hidden -> 10 trained with Adam on a set of rows of
/// the Fashion-MNIST training split, evaluated as mean cross-entropy per class (slice) on a
/// validation set.
/// </summary>
internal sealed class MlpSliceTrainer : IDisposable
{
    private readonly Tensor _trainX, _trainY;
    private readonly ValidationSet[] _validation;
    private readonly TrainSettings _settings;

    private sealed record ValidationSet(Tensor X, Tensor Y, int[][] BySlice);

    /// <param name="train">The training split (rows are addressed by number).</param>
    /// <param name="valid">The split the validation sets come from.</param>
    /// <param name="validationRows">One or more validation sets (rows of <paramref name="valid"/>); a training run is evaluated on the one asked for.</param>
    public MlpSliceTrainer(FashionMnist train, FashionMnist valid, IReadOnlyList<int[]> validationRows, TrainSettings settings)
    {
        _settings = settings;
        _trainX = tensor(train.Pixels, new long[] { train.Count, 784 });
        _trainY = tensor(train.Labels.Select(l => (long)l).ToArray());
        _validation = validationRows.Select(rows =>
        {
            var vx = new float[rows.Length * 784];
            for (int k = 0; k < rows.Length; k++) Array.Copy(valid.Pixels, rows[k] * 784, vx, k * 784, 784);
            return new ValidationSet(tensor(vx, new long[] { rows.Length, 784 }), tensor(rows.Select(r => (long)valid.Labels[r]).ToArray()),
                Enumerable.Range(0, 10).Select(c => Enumerable.Range(0, rows.Length).Where(k => valid.Labels[rows[k]] == c).ToArray()).ToArray());
        }).ToArray();
    }

    public int Trainings { get; private set; }

    /// <summary>Trains on <paramref name="rows"/> (training-split row numbers) and returns the validation loss per class.</summary>
    public double[] TrainAndEvaluate(IReadOnlyList<int> rows, int seed, int validationSet, CancellationToken cancellationToken)
    {
        Trainings++;
        torch.manual_seed(seed);
        var rng = new Random(seed);
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            ("fc1", nn.Linear(784, _settings.Hidden)), ("relu", nn.ReLU()), ("dropout", nn.Dropout(_settings.Dropout)), ("fc2", nn.Linear(_settings.Hidden, 10)));
        var optimizer = SliceLearning.Training.OptimizerOptions.Adam(_settings.LearningRate, _settings.WeightDecay).CreateOptimizer(model.parameters());
        var lossFn = nn.CrossEntropyLoss();
        var order = rows.ToArray();
        using var rowTensor = tensor(order.Select(r => (long)r).ToArray());
        using var x = _trainX.index_select(0, rowTensor);
        using var y = _trainY.index_select(0, rowTensor);
        int n = order.Length;
        var perm = Enumerable.Range(0, n).ToArray();
        model.train();
        for (int epoch = 0; epoch < _settings.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rng.Shuffle(perm);
            for (int start = 0; start < n; start += _settings.BatchSize)
            {
                using var step = NewDisposeScope();
                int count = Math.Min(_settings.BatchSize, n - start);
                var idx = tensor(perm.AsSpan(start, count).ToArray().Select(v => (long)v).ToArray());
                optimizer.zero_grad();
                var loss = lossFn.call(model.call(x.index_select(0, idx)), y.index_select(0, idx));
                loss.backward();
                optimizer.step();
            }
        }
        model.eval();
        using (no_grad())
        {
            var v = _validation[validationSet];
            var perExample = nn.functional.cross_entropy(model.call(v.X), v.Y, reduction: nn.Reduction.None).data<float>().ToArray();
            return v.BySlice.Select(members => members.Average(k => (double)perExample[k])).ToArray();
        }
    }

    public void Dispose()
    {
        _trainX.Dispose(); _trainY.Dispose();
        foreach (var v in _validation) { v.X.Dispose(); v.Y.Dispose(); }
    }
}

/// <summary>Adapts the trainer to Slice Tuner: slice i's example j is training row <c>training[i][j]</c>.</summary>
internal sealed class TrainerEvaluator(MlpSliceTrainer trainer, IReadOnlyList<List<int>> training) : ISliceLossEvaluator
{
    public IReadOnlyList<double> TrainAndEvaluate(SliceSample sample, CancellationToken cancellationToken)
    {
        var rows = new List<int>(sample.TotalCount);
        for (int i = 0; i < sample.Indices.Count; i++)
            foreach (int j in sample.Indices[i]) rows.Add(training[i][j]);
        return trainer.TrainAndEvaluate(rows, sample.Seed, validationSet: 0, cancellationToken);
    }
}
