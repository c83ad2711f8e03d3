using SliceLearning.Data.Synthetic;
using SliceLearning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Models.Baselines;

/// <summary>Small helpers for the baseline tests: the paper's backbone and tensors from synthetic data.</summary>
internal static class BaselineTestSupport
{
    /// <summary>The paper's synthetic backbone: a 2-layer MLP to d with a final ReLU.</summary>
    public static nn.Module<Tensor, Tensor> Mlp(long width = 13) =>
        nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU());

    public static (Tensor X, Tensor Y, Tensor Membership) Tensors(SyntheticSliceData data) => (
        torch.tensor(data.FeatureArray(), new long[] { data.Count, 2 }),
        torch.tensor(data.LabelArray()),
        data.SfSlices.ToTensor());

    /// <summary>A plain Adam loop over model.Loss (the models compute their own loss).</summary>
    public static void Fit(ITrainableModel model, SyntheticSliceData data, int epochs, int batchSize = 64, double lr = 0.01, int seed = 0)
    {
        var (x, y, m) = Tensors(data);
        using var _x = x; using var _y = y; using var _m = m;
        torch.manual_seed(seed);
        using var optimizer = SliceLearning.Training.OptimizerOptions.Adam(lr).CreateOptimizer(model.Module.parameters());
        model.Module.train();
        long n = data.Count;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var scope = NewDisposeScope();
            var perm = torch.randperm(n);
            for (long start = 0; start < n; start += batchSize)
            {
                using var batch = NewDisposeScope();
                var idx = perm.narrow(0, start, Math.Min(batchSize, n - start));
                optimizer.zero_grad();
                var loss = model.Loss(x.index_select(0, idx), y.index_select(0, idx), m.index_select(0, idx));
                loss.backward();
                optimizer.step();
            }
        }
        model.Module.eval();
    }

    public static int[] Predict(ITrainableModel model, SyntheticSliceData data)
    {
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        model.Module.eval();
        var x = torch.tensor(data.FeatureArray(), new long[] { data.Count, 2 });
        return model.Logits(x).argmax(1).to_type(ScalarType.Int32).data<int>().ToArray();
    }
}
