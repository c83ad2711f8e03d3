using SliceLearning.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Tests.Runtime;

[Collection("Sequential")]
public sealed class TorchLoadsTests
{
    [Fact]
    public void TensorOp_Runs()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }

    [Fact]
    public void SmallModel_TrainsWithAdam_OnCpu_AndLossFalls()
    {
        torch.manual_seed(7);
        var device = ComputeDevice.Resolve(DevicePreference.Cpu);
        // y = 3x - 2 plus a little noise: a Linear layer can fit it exactly.
        using var x = torch.rand(256, 1, device: device) * 4 - 2;
        using var y = 3 * x - 2 + 0.01 * torch.randn(256, 1, device: device);
        using var model = nn.Linear(1, 1);
        using var optimizer = SliceLearning.Training.OptimizerOptions.Adam(0.1).CreateOptimizer(model.parameters());
        var loss = nn.MSELoss();
        float first = 0, last = 0;
        for (int step = 0; step < 200; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var l = loss.call(model.call(x), y);
            l.backward();
            optimizer.step();
            if (step == 0) first = l.item<float>();
            last = l.item<float>();
        }
        Assert.True(first > 1.0f, $"initial loss {first}");
        Assert.True(last < 1e-3f, $"final loss {last}");
        var w = model.weight!.data<float>()[0];
        Assert.InRange(w, 2.95f, 3.05f);
    }

    [Fact]
    public void Cuda_ResolvesWhenAvailable_OtherwiseFailsWithAClearMessage()
    {
        if (torch.cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, ComputeDevice.Resolve(DevicePreference.Cuda).type);
            Assert.Equal(DeviceType.CUDA, ComputeDevice.Resolve(DevicePreference.BestAvailable).type);
        }
        else
        {
            var ex = Assert.Throws<InvalidOperationException>(() => ComputeDevice.Resolve(DevicePreference.Cuda));
            Assert.Contains("TorchSharp-cuda-linux", ex.Message);
            Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(DevicePreference.BestAvailable).type);
        }
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(DevicePreference.Cpu).type);
    }
}
