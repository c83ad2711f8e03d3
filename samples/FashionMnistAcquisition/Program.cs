// Slice Tuner on real images (paper section 6): each class is a slice. Compares Original, Uniform,
// Water filling, One-shot and the iterative strategies on loss and average / maximum EER over
// several seeds, with a basic CNN trained through SliceTrainer, and prints the tables.
//
//   bash scripts/get-data.sh fashion-mnist mnist
//   dotnet run -c Release --project samples/FashionMnistAcquisition -- --setting bad-uniform --seeds 5 --workers 2
//   (--dataset mixed-mnist, --setting table2|basic|bad-uniform|bad-waterfilling, --quick; --help lists every option)
using FashionMnistAcquisition;

if (args.Contains("--help"))
{
    Console.WriteLine(SampleOptions.Usage);
    return 0;
}
return await Experiment.RunAsync(args);
