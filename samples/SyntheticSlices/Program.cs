// A first, small sample: a 2-D task with one critical slice whose labels a linear boundary
// cannot fit. Trains a small MLP with TorchSharp on the CPU and reports accuracy overall and on
// the slice. (The paper's full synthetic experiments replace this in the baselines issue.)
using System.Diagnostics;
using SliceLearning.Runtime;
using SliceLearning.Slicing;
using TorchSharp;
using static TorchSharp.torch;

const int Seed = 42, Rows = 4000, Epochs = 60;
ComputeDevice.SetCpuThreads(1);
torch.manual_seed(Seed);
var device = ComputeDevice.Resolve(DevicePreference.Cpu);
var rng = new Random(Seed);

// Points in [-1, 1]^2; label = above the line y = x, flipped inside a disc of radius 0.25 at (0.4, -0.4).
var points = Enumerable.Range(0, Rows).Select(_ => (X: rng.NextSingle() * 2 - 1, Y: rng.NextSingle() * 2 - 1)).ToArray();
bool InDisc((float X, float Y) p) => (p.X - 0.4f) * (p.X - 0.4f) + (p.Y + 0.4f) * (p.Y + 0.4f) < 0.0625f;
long[] labels = points.Select(p => (p.Y > p.X) ^ InDisc(p) ? 1L : 0L).ToArray();

var slices = SliceSet.For<(float X, float Y)>().Add("disc", InDisc).Build();
SliceMatrix membership = slices.Apply(points);
Console.WriteLine($"{Rows} points, slice 'disc' has {membership.MemberCount(1)} members ({100.0 * membership.MemberCount(1) / Rows:F1}%).");

using var x = tensor(points.SelectMany(p => new[] { p.X, p.Y }).ToArray(), new long[] { Rows, 2 }, device: device);
using var y = tensor(labels, device: device);
using var model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2));
using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
var lossFn = nn.CrossEntropyLoss();
var clock = Stopwatch.StartNew();
for (int epoch = 1; epoch <= Epochs; epoch++)
{
    using var scope = NewDisposeScope();
    model.train();
    using var perm = randperm(Rows, device: device);
    float epochLoss = 0;
    for (int start = 0; start < Rows; start += 64)
    {
        using var batchScope = NewDisposeScope();
        var idx = perm.narrow(0, start, Math.Min(64, Rows - start));
        optimizer.zero_grad();
        var loss = lossFn.call(model.call(x.index_select(0, idx)), y.index_select(0, idx));
        loss.backward();
        optimizer.step();
        epochLoss += loss.item<float>() * idx.shape[0];
    }
    if (epoch % 10 == 0) Console.WriteLine($"epoch {epoch,3}: mean training loss {epochLoss / Rows:F4}");
}

model.eval();
using (no_grad())
{
    using var predicted = model.call(x).argmax(1);
    var pred = predicted.data<long>().ToArray();
    double overall = pred.Zip(labels).Count(t => t.First == t.Second) / (double)Rows;
    int[] members = membership.Members(1);
    double sliceAcc = members.Count(r => pred[r] == labels[r]) / (double)members.Length;
    Console.WriteLine($"trained in {clock.Elapsed.TotalSeconds:F1} s; training accuracy overall {overall:P1}, on slice 'disc' {sliceAcc:P1}");
}
