using SliceLearning.Training.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Training;

[Collection("Sequential")]
public sealed class ScalarSafeOptimizerTests
{
    public static TheoryData<string> Configurations => new()
    {
        "adam", "adam-decay", "adam-maximize", "adamw", "adamw-nodecay", "sgd", "sgd-momentum", "sgd-nesterov-decay", "sgd-dampening",
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Updates_MatchTorchSharpsOptimizer(string configuration)
    {
        torch.set_num_threads(1);
        torch.manual_seed(3);
        using var start = torch.randn(4, 5);
        using var target = torch.randn(4, 5);
        float[] Run(bool safe)
        {
            using var p = new Parameter(start.clone());
            using optim.Optimizer opt = Create(configuration, new[] { p }, safe);
            for (int step = 0; step < 25; step++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                var loss = (p - target).pow(2).sum();
                loss.backward();
                opt.step();
            }
            return p.detach().data<float>().ToArray();
        }
        float[] expected = Run(safe: false), actual = Run(safe: true);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
        using var startCopy = start.clone();
        Assert.NotEqual(startCopy.data<float>().ToArray(), actual); // it did move
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Updates_MatchTorchSharpsOptimizer_OnMixedTensors(string configuration)
    {
        // Sizes below, at and above the SIMD width (the fused Adam's vector loop and its scalar tail), a
        // non-contiguous view's parameter and a float64 one (both take the tensor-operation path).
        torch.set_num_threads(1);
        torch.manual_seed(4);
        var shapes = new[] { new long[] { 3 }, new long[] { 13, 13 }, new long[] { 257 } };
        var starts = shapes.Select(s => torch.randn(s)).Append(torch.randn(6, dtype: ScalarType.Float64)).Append(torch.randn(4, 3).t()).ToArray();
        var targets = starts.Select(s => torch.randn_like(s)).ToArray();
        float[][] Run(bool safe)
        {
            var ps = starts.Select(s => new Parameter(s.clone())).ToArray();
            using optim.Optimizer opt = Create(configuration, ps, safe);
            for (int step = 0; step < 25; step++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                var loss = torch.stack(ps.Select((p, i) => (p - targets[i]).pow(2).sum().to(ScalarType.Float32)).ToArray()).sum();
                loss.backward();
                opt.step();
            }
            var result = ps.Select(p => p.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray()).ToArray();
            foreach (var p in ps) p.Dispose();
            return result;
        }
        float[][] expected = Run(safe: false), actual = Run(safe: true);
        for (int t = 0; t < expected.Length; t++)
        for (int i = 0; i < expected[t].Length; i++)
            Assert.True(Math.Abs(expected[t][i] - actual[t][i]) <= 2e-6f, $"tensor {t} value {i}: {expected[t][i]} vs {actual[t][i]}");
        foreach (var t in starts.Concat(targets)) t.Dispose();
    }

    [Fact]
    public void ZeroGrad_ZeroesGradientsInPlace_AndKeepsThem()
    {
        using var p = new Parameter(torch.ones(5));
        using var q = new Parameter(torch.ones(2, 3).t());
        using var opt = new ScalarSafeAdam(new[] { p, q }, 0.1);
        using (var scope = NewDisposeScope()) ((p * p).sum() + (q * 3).sum()).backward();
        using var before = p.grad!;
        Assert.Equal(new float[] { 2, 2, 2, 2, 2 }, before.data<float>().ToArray());
        opt.zero_grad();
        using var after = p.grad!;
        using var qAfter = q.grad!;
        Assert.Equal(new float[5], after.data<float>().ToArray());
        Assert.Equal(new float[6], qAfter.contiguous().data<float>().ToArray());
        Assert.Equal(new float[5], before.data<float>().ToArray()); // the same gradient tensor, zeroed in place
    }

    [Fact]
    public void Adam_SurvivesGarbageCollectionsDuringSteps()
    {
        // TorchSharp's own Adam fails here within seconds (a finalized Scalar read by libtorch).
        torch.set_num_threads(1);
        torch.manual_seed(5);
        var parameters = Enumerable.Range(0, 200).Select(_ => new Parameter(torch.randn(3))).ToList();
        using var opt = new ScalarSafeAdam(parameters, lr: 0.01);
        bool stop = false;
        var collector = new Thread(() => { while (!Volatile.Read(ref stop)) { GC.Collect(); GC.WaitForPendingFinalizers(); } }) { IsBackground = true };
        collector.Start();
        float first = float.NaN, last = float.NaN;
        try
        {
            // A fixed number of steps (not a time budget), so every run does the same work.
            for (int step = 0; step < 300; step++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                // stack/sum/mul take no Scalar, so only the optimizer is under test.
                var loss = torch.stack(parameters.Select(p => (p * p).sum()).ToArray()).sum();
                loss.backward();
                opt.step();
                last = loss.item<float>();
                if (float.IsNaN(first)) first = last;
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
            foreach (var p in parameters) p.Dispose();
        }
        Assert.True(last < first, $"loss {first} -> {last}");
    }

    private static optim.Optimizer Create(string configuration, IEnumerable<Parameter> ps, bool safe) => configuration switch
    {
        "adam" => safe ? new ScalarSafeAdam(ps, 0.05) : optim.Adam(ps, 0.05),
        "adam-decay" => safe ? new ScalarSafeAdam(ps, 0.05, 0.8, 0.99, 1e-6, weightDecay: 0.1) : optim.Adam(ps, 0.05, 0.8, 0.99, 1e-6, weight_decay: 0.1),
        "adam-maximize" => safe ? new ScalarSafeAdam(ps, 0.05, maximize: true) : optim.Adam(ps, 0.05, maximize: true),
        "adamw" => safe ? new ScalarSafeAdamW(ps, 0.05, weightDecay: 0.1) : optim.AdamW(ps, 0.05, weight_decay: 0.1),
        "adamw-nodecay" => safe ? new ScalarSafeAdamW(ps, 0.05, weightDecay: 0) : optim.AdamW(ps, 0.05, weight_decay: 0),
        "sgd" => safe ? new ScalarSafeSgd(ps, 0.02) : optim.SGD(ps, 0.02),
        "sgd-momentum" => safe ? new ScalarSafeSgd(ps, 0.02, momentum: 0.9) : optim.SGD(ps, 0.02, momentum: 0.9),
        "sgd-nesterov-decay" => safe ? new ScalarSafeSgd(ps, 0.02, momentum: 0.9, weightDecay: 0.05, nesterov: true) : optim.SGD(ps, 0.02, momentum: 0.9, weight_decay: 0.05, nesterov: true),
        "sgd-dampening" => safe ? new ScalarSafeSgd(ps, 0.02, momentum: 0.5, dampening: 0.3) : optim.SGD(ps, 0.02, momentum: 0.5, dampening: 0.3),
        _ => throw new ArgumentOutOfRangeException(nameof(configuration)),
    };
}
