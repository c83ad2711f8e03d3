// SRAM against VANILLA on real data: customer churn, employee attrition and German credit (MLP
// backbones over one-hot / standardised tabular features) and fine-food reviews (frozen MiniLM
// sentence features), each with slicing functions over natural attributes. Every model is trained
// by the same SliceTrainer with the same seeds and scored on a fixed test split; the tables give
// mean ± std over seeds and the seed-paired 95% interval of SRAM − VANILLA, overall and per slice.
//
//   bash scripts/get-data.sh modeldata credit-g                          # once
//   dotnet run -c Release --project samples/RealDataSlices                 # all data sets, 5 seeds, both protocols
//   dotnet run -c Release --project samples/RealDataSlices -- --dataset foods --protocol fixed --sram ExpertSize=32
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using RealDataSlices;
using SliceLearning.Models;
using SliceLearning.Runtime;

var datasets = new Option<string>("--dataset", "-d") { Description = $"Comma-separated data sets: {string.Join(", ", Tasks.Names)}, or all.", DefaultValueFactory = _ => "all" };
var seeds = new Option<int>("--seeds", "-s") { Description = "Number of model seeds (the data split is fixed).", DefaultValueFactory = _ => 5 };
var firstSeed = new Option<int>("--first-seed") { Description = "The first seed; seeds are consecutive.", DefaultValueFactory = _ => 1 };
var protocols = new Option<string>("--protocol", "-p") { Description = "fixed (fixed epochs, last epoch scored), early (early stopping on validation overall F1), or both.", DefaultValueFactory = _ => "both" };
var epochs = new Option<int>("--epochs", "-e") { Description = "Epochs of the fixed protocol.", DefaultValueFactory = _ => 60 };
var maxEpochs = new Option<int>("--max-epochs") { Description = "Most epochs of the early-stopping protocol.", DefaultValueFactory = _ => 100 };
var patience = new Option<int>("--patience") { Description = "Early-stopping patience in epochs.", DefaultValueFactory = _ => 10 };
var learningRate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 64 };
var weightDecay = new Option<double>("--weight-decay") { Description = "Adam weight decay (L2) on every parameter of both models.", DefaultValueFactory = _ => 0 };
var clip = new Option<double?>("--clip") { Description = "Clip the global gradient norm at this value (both models); default: no clipping." };
var sram = new Option<string[]>("--sram") { Description = "Set a SliceAwareOptions property, Name=Value (repeatable), e.g. --sram ExpertSize=32 --sram Attention=Uniform.", AllowMultipleArgumentsPerToken = false };
var models = new Option<string>("--models") { Description = "Comma-separated models: vanilla, sram.", DefaultValueFactory = _ => "vanilla,sram" };
var limit = new Option<int?>("--limit") { Description = "Keep only the first N rows of each split (quick checks; no feature cache)." };
var data = new Option<string?>("--data") { Description = "Data folder (default: $SLICELEARNING_DATA or ~/.cache/slicelearning/data)." };
var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder for results.md and runs.csv.", DefaultValueFactory = _ => new DirectoryInfo("realdata-results") };
var trainCurve = new Option<FileInfo?>("--train-curve") { Description = "Append train and test F1 (overall, mean over the slices) every 10 epochs to this CSV: dataset,protocol,model,seed,epoch,train_f1,test_f1,train_slice_f1,test_slice_f1." };
var lrSchedule = new Option<string>("--lr-schedule") { Description = "Learning-rate schedule of every model: 'constant' (the default) or 'cosine' (annealed from the rate towards 0 over the epochs).", DefaultValueFactory = _ => "constant" };
var threads = new Option<int>("--threads") { Description = "libtorch CPU threads.", DefaultValueFactory = _ => 1 };

var root = new RootCommand("SRAM against VANILLA on real data sets with natural slices.")
{
    datasets, seeds, firstSeed, protocols, epochs, maxEpochs, patience, learningRate, batchSize, weightDecay, clip, sram, models, limit, data, output, threads, trainCurve, lrSchedule,
};
root.SetAction((parse, cancellationToken) =>
{
    try
    {
        var names = parse.GetValue(datasets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 1 && names[0] == "all") names = Tasks.Names;
        foreach (var n in names.Where(n => !Tasks.Names.Contains(n)))
            throw new ArgumentException($"--dataset: unknown data set '{n}'; known: {string.Join(", ", Tasks.Names)}, all.");
        var protocolList = parse.GetValue(protocols)! switch
        {
            "both" => new[] { Protocol.Fixed, Protocol.Early },
            "fixed" => new[] { Protocol.Fixed },
            "early" => new[] { Protocol.Early },
            var p => throw new ArgumentException($"--protocol takes fixed, early or both; got '{p}'."),
        };
        var modelList = parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var m in modelList.Where(m => !Experiment.Models.Contains(m)))
            throw new ArgumentException($"--models: unknown model '{m}'; known: {string.Join(", ", Experiment.Models)}.");
        bool cosine = parse.GetValue(lrSchedule)!.Trim().ToLowerInvariant() switch
        {
            "constant" => false,
            "cosine" => true,
            var other => throw new ArgumentException($"--lr-schedule takes constant or cosine; got '{other}'."),
        };
        var settings = new RunSettings(parse.GetValue(epochs), parse.GetValue(maxEpochs), parse.GetValue(patience), parse.GetValue(learningRate),
            parse.GetValue(batchSize), parse.GetValue(weightDecay), Experiment.ParseAssignments(parse.GetValue(sram) ?? Array.Empty<string>()), parse.GetValue(clip),
            parse.GetValue(trainCurve)?.FullName, cosine);
        Experiment.ApplyOptions(new SliceAwareOptions(), settings.SramOptions);   // fail early on a bad --sram
        if (parse.GetValue(seeds) < 1 || settings.Epochs < 1 || settings.MaxEpochs < 1 || settings.Patience < 1 || settings.BatchSize < 1)
            throw new ArgumentException("--seeds, --epochs, --max-epochs, --patience and --batch-size must be at least 1.");
        ComputeDevice.SetCpuThreads(parse.GetValue(threads));
        return Runner.Run(names, Enumerable.Range(parse.GetValue(firstSeed), parse.GetValue(seeds)).ToArray(), protocolList, modelList, settings,
            parse.GetValue(limit), Tasks.DataDirectory(parse.GetValue(data)), parse.GetValue(output)!, args, Console.Out, cancellationToken);
    }
    catch (Exception e) when (e is ArgumentException or FileNotFoundException)
    {
        Console.Error.WriteLine(e.Message);
        return Task.FromResult(2);
    }
});
return await root.Parse(args).InvokeAsync();

namespace RealDataSlices
{
    public static class Runner
    {
        /// <summary>Runs every (data set, protocol, model, seed) and writes results.md and runs.csv.</summary>
        public static Task<int> Run(IReadOnlyList<string> datasets, IReadOnlyList<int> seeds, IReadOnlyList<Protocol> protocols, IReadOnlyList<string> models,
            RunSettings settings, int? limit, string dataDirectory, DirectoryInfo output, string[] args, TextWriter console, CancellationToken cancellationToken = default)
        {
            var all = new List<RunResult>();
            var md = new StringBuilder();
            var clock = Stopwatch.StartNew();
            md.AppendLine("# Real-data slices: SRAM against VANILLA");
            md.AppendLine();
            md.AppendLine($"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {Environment.MachineName}; command: `dotnet run -c Release --project samples/RealDataSlices -- {string.Join(' ', args)}`");
            md.AppendLine($"Settings: epochs {settings.Epochs} (fixed), max {settings.MaxEpochs} / patience {settings.Patience} (early, validation overall F1), Adam lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
                $"weight decay {settings.WeightDecay.ToString(CultureInfo.InvariantCulture)}{(settings.Clip is double c ? $", gradient norm clipped at {c.ToString(CultureInfo.InvariantCulture)}" : "")}, batch {settings.BatchSize}, seeds {string.Join(",", seeds)}" +
                (settings.SramOptions is { Count: > 0 } o ? $", SRAM options {string.Join(" ", o.Select(p => p.Key + "=" + p.Value))}" : ", SRAM defaults") + ".");
            md.AppendLine();
            foreach (var name in datasets)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var task = Tasks.Load(name, dataDirectory, limit, m => console.WriteLine(m));
                using var taskData = new TaskData(task);
                var positives = PositivesPerSlice(taskData);
                console.WriteLine($"== {name}: {task.Description}; train {task.Train.Count}, validation {task.Validation.Count}, test {task.Test.Count}; " +
                    $"{task.FeatureWidth} features; positive = {task.PositiveClass}; slices {string.Join(", ", task.Slices.SliceNames)}");
                md.AppendLine($"## {name}: {task.Description}");
                md.AppendLine();
                md.AppendLine($"Train {task.Train.Count}, validation {task.Validation.Count}, test {task.Test.Count}; {task.FeatureWidth} input features; MLP backbone [{string.Join(", ", task.Hidden)}]; F1 of the positive class ({task.PositiveClass}).");
                md.AppendLine();
                foreach (var protocol in protocols)
                {
                    var results = new List<RunResult>();
                    foreach (var seed in seeds)
                        foreach (var model in models)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            var r = Experiment.Run(taskData, model, seed, protocol, settings, cancellationToken);
                            results.Add(r);
                            console.WriteLine(FormattableString.Invariant(
                                $"{name} {protocol.ToString().ToLowerInvariant()} {model} seed {seed}: overall F1 {r.Report.Overall.Metrics.F1:0.000}, epochs {r.EpochsRun} (scored {r.BestEpoch}), {r.Seconds:0.0} s; slices {string.Join(" ", r.Report.Slices.Skip(1).Select(s => $"{s.Name} {(s.IsEmpty ? double.NaN : s.Metrics.F1):0.000}"))}"));
                        }
                    all.AddRange(results);
                    string table = Summary.Table(results, positives);
                    string heading = protocol == Protocol.Fixed ? $"fixed {settings.Epochs} epochs, last epoch scored" : $"early stopping on validation overall F1 (patience {settings.Patience}, best epoch restored)";
                    md.AppendLine($"### {name}, {heading}");
                    md.AppendLine();
                    md.AppendLine(table);
                    console.WriteLine();
                    console.WriteLine($"{name}, {heading}");
                    console.WriteLine(table);
                }
            }
            md.AppendLine($"Total time {clock.Elapsed.TotalMinutes:0.0} min.");
            output.Create();
            File.WriteAllText(Path.Combine(output.FullName, "results.md"), md.ToString());
            File.WriteAllText(Path.Combine(output.FullName, "runs.csv"), Summary.Csv(all));
            console.WriteLine($"Wrote {Path.Combine(output.FullName, "results.md")} and runs.csv ({clock.Elapsed.TotalMinutes:0.0} min).");
            return Task.FromResult(0);
        }

        private static Dictionary<string, int> PositivesPerSlice(TaskData data)
        {
            var labels = data.Test.Labels.data<long>().ToArray();
            var matrix = data.Test.Slices;
            var result = new Dictionary<string, int>();
            for (int j = 0; j < matrix.SliceNames.Count; j++)
            {
                int count = 0;
                for (int i = 0; i < labels.Length; i++) if (labels[i] == 1 && matrix[i, j]) count++;
                result[matrix.SliceNames[j]] = count;
            }
            return result;
        }
    }
}
