// CyDet-style sample (Chen et al., "Slice-based Learning", NeurIPS 2019, section 4.1, Table 1, appendix A1.5):
// does a street scene contain a cyclist? Slices come from a simulated noisy object detector (the paper's nine
// classes) plus a pixel-intensity night SF; a pretrained ResNet-18 backbone; VANILLA, HPS, MANUAL, MoE and SRAM
// trained by the same SliceTrainer and scored on the true slices over several seeds.
//
//   dotnet run -c Release --project samples/SceneSlices                  # default: a few minutes on 2 cores
//   dotnet run -c Release --project samples/SceneSlices -- --full        # full protocol (bigger images, layer4 fine-tuned)
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using SceneSlices;
using SceneSlices.Scenes;
using SliceLearning.Models;
using SliceLearning.Runtime;
using Spectre.Console;

var seeds = new Option<int>("--seeds", "-s") { Description = "Model seeds (mean ± std over them; the paper uses 5).", DefaultValueFactory = _ => 3 };
var firstSeed = new Option<int>("--first-seed") { Description = "The first model seed; seeds are consecutive.", DefaultValueFactory = _ => 1 };
var dataSeed = new Option<int>("--data-seed") { Description = "Seed of the scene generator (the data set is the same for every model seed).", DefaultValueFactory = _ => 1 };
var epochs = new Option<int>("--epochs", "-e") { Description = "Training epochs for every model.", DefaultValueFactory = _ => 20 };
var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 64 };
var learningRate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
var imageSize = new Option<int>("--image-size") { Description = "Scene width and height in pixels.", DefaultValueFactory = _ => 64 };
var train = new Option<int>("--train-size") { Description = "Training scenes.", DefaultValueFactory = _ => 3000 };
var validation = new Option<int>("--validation-size") { Description = "Validation scenes (MANUAL's slice and α selection).", DefaultValueFactory = _ => 1000 };
var test = new Option<int>("--test-size") { Description = "Test scenes.", DefaultValueFactory = _ => 2000 };
var methods = new Option<string>("--methods") { Description = "Comma-separated methods: VANILLA, HPS, MANUAL, MoE, SRAM.", DefaultValueFactory = _ => "VANILLA,HPS,MANUAL,MoE,SRAM" };
var lastStage = new Option<bool>("--train-last-stage") { Description = "Fine-tune the pretrained ResNet-18's layer4 (cache only the stem and layers 1-3); slower." };
var scratch = new Option<bool>("--from-scratch") { Description = "Train a ResNet-18 from scratch on the pixels (no pretrained weights, nothing cached; slow on a CPU)." };
var full = new Option<bool>("--full") { Description = "Full protocol: 96-pixel scenes, 6000/1500/3000 scenes, layer4 fine-tuned, 5 seeds, 30 epochs (about an hour on 2 cores)." };
var miss = new Option<double?>("--miss-rate") { Description = "Detector miss rate for every class (default: 0.15, 0.25 for fire hydrant and stop sign)." };
var falseAlarm = new Option<double?>("--false-alarm-rate") { Description = "Detector false-alarm rate for every class (default 0.05)." };
var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder for results.md and grid.png.", DefaultValueFactory = _ => new DirectoryInfo("scene-results") };
var noCache = new Option<bool>("--no-cache") { Description = "Do not read or write cached frozen-stage features (~/.cache/slicelearning/scene-features)." };
var threads = new Option<int>("--threads") { Description = "libtorch CPU threads (1: bit-reproducible, and fastest on a shared machine).", DefaultValueFactory = _ => 1 };

var root = new RootCommand("Cyclist detection on generated street scenes with noisy detector slices: VANILLA, HPS, MANUAL, MoE and SRAM on a pretrained ResNet-18.")
{
    seeds, firstSeed, dataSeed, epochs, batchSize, learningRate, imageSize, train, validation, test, methods, lastStage, scratch, full, miss, falseAlarm, output, noCache, threads,
};
root.SetAction(parse =>
{
    bool isFull = parse.GetValue(full);
    var known = new[] { "VANILLA", "HPS", "MANUAL", "MoE", "SRAM" };
    var chosen = parse.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(m => known.FirstOrDefault(k => k.Equals(m, StringComparison.OrdinalIgnoreCase)) ?? m).ToArray();
    if (chosen.Length == 0 || chosen.Any(m => !known.Contains(m)))
    {
        Console.Error.WriteLine($"--methods takes a comma-separated subset of {string.Join(", ", known)}; got '{parse.GetValue(methods)}'.");
        return 2;
    }
    if (chosen.Contains("MANUAL") && !chosen.Contains("VANILLA"))
    {
        Console.Error.WriteLine("--methods: MANUAL selects its slices from VANILLA's validation scores, so it needs VANILLA too.");
        return 2;
    }
    var mode = parse.GetValue(scratch) ? BackboneMode.FromScratch : parse.GetValue(lastStage) || isFull ? BackboneMode.TrainLastStage : BackboneMode.FrozenCached;
    var detector = new NoisyDetectorOptions();
    if (parse.GetValue(miss) is { } m || parse.GetValue(falseAlarm) is not null)
        detector = detector with
        {
            MissRates = parse.GetValue(miss) is { } mr ? Enum.GetValues<SceneObject>().ToDictionary(o => o, _ => mr) : detector.MissRates,
            FalseAlarmRates = parse.GetValue(falseAlarm) is { } fr ? Enum.GetValues<SceneObject>().ToDictionary(o => o, _ => fr) : detector.FalseAlarmRates,
        };
    bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
    var settings = new SceneRunSettings
    {
        Scenes = new SceneOptions { ImageSize = isFull && !Given(imageSize) ? 96 : parse.GetValue(imageSize) },
        Detector = detector,
        Mode = mode,
        DataSeed = parse.GetValue(dataSeed),
        TrainSize = isFull && !Given(train) ? 6000 : parse.GetValue(train),
        ValidationSize = isFull && !Given(validation) ? 1500 : parse.GetValue(validation),
        TestSize = isFull && !Given(test) ? 3000 : parse.GetValue(test),
        Seeds = parse.GetValue(seeds),
        FirstSeed = parse.GetValue(firstSeed),
        Epochs = isFull && !Given(epochs) ? 30 : parse.GetValue(epochs),
        BatchSize = parse.GetValue(batchSize),
        LearningRate = parse.GetValue(learningRate),
        Methods = chosen,
        CacheDirectory = parse.GetValue(noCache) ? null : SceneRunSettings.DefaultCacheDirectory,
    };
    try
    {
        settings.Scenes.Validate();
        settings.Detector.Validate();
    }
    catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
    if (settings.Seeds < 1 || settings.Epochs < 1 || settings.BatchSize < 1 || settings.TrainSize < 50 || settings.ValidationSize < 20 || settings.TestSize < 20)
    {
        Console.Error.WriteLine("--seeds, --epochs and --batch-size must be positive; --train-size at least 50, --validation-size and --test-size at least 20.");
        return 2;
    }
    ComputeDevice.SetCpuThreads(parse.GetValue(threads));
    return SceneRun.Run(settings, parse.GetValue(output)!, args);
});
return root.Parse(args).Invoke();

namespace SceneSlices
{
    /// <summary>Runs the methods over the seeds and writes the tables and the grid.</summary>
    public static class SceneRun
    {
        public static int Run(SceneRunSettings settings, DirectoryInfo output, string[] args)
        {
            output.Create();
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
            var clock = Stopwatch.StartNew();
            void Log(string message) => AnsiConsole.MarkupLine($"[grey]{clock.Elapsed.TotalSeconds,6:F0} s[/] {Markup.Escape(message)}");
            AnsiConsole.MarkupLine($"[bold]SceneSlices[/]: {settings.Scenes.ImageSize}px scenes {settings.TrainSize}/{settings.ValidationSize}/{settings.TestSize}, backbone {settings.Mode}, {settings.Seeds} seeds from {settings.FirstSeed}, {settings.Epochs} epochs, batch {settings.BatchSize}, Adam lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}; methods {string.Join(", ", settings.Methods)}");
            RunAll(settings, output, Log, "dotnet run -c Release --project samples/SceneSlices" + (args.Length > 0 ? " -- " + string.Join(" ", args) : ""));
            return 0;
        }

        public static (IReadOnlyList<TrialResult> Results, IReadOnlyList<ResultTable> Tables) RunAll(SceneRunSettings settings, DirectoryInfo? output, Action<string> log, string? command = null)
        {
            var clock = Stopwatch.StartNew();
            using var data = SceneData.Create(settings, log);
            var lab = new Lab(settings, data);
            var results = new List<TrialResult>();
            for (int seed = settings.FirstSeed; seed < settings.FirstSeed + settings.Seeds; seed++)
            {
                SliceLearning.Evaluation.SliceReport? vanillaValidation = null;
                foreach (var method in settings.Methods)
                {
                    TrialResult result;
                    if (method == "MANUAL") result = lab.Manual(seed, vanillaValidation!);
                    else
                    {
                        int s = seed;
                        result = lab.Trial(method, seed, model =>
                        {
                            if (method == "VANILLA") vanillaValidation = Lab.Evaluate(model, data.Validation.WithSfSlices);
                            if (method == "SRAM" && s == settings.FirstSeed && output is not null)
                                Grid.Save(Path.Combine(output.FullName, "grid.png"), data.Test, (SliceAwareModel)model, new[] { "base", "bus", "bench", "bicycle", "night" });
                        });
                    }
                    results.Add(result);
                    log($"seed {seed} {method,-7} overall F1 {100 * result.OverallF1:F1}  ({result.Seconds:F0} s){(result.Note is null ? "" : "  " + result.Note)}");
                }
            }
            var tables = new List<ResultTable>
            {
                Report.Methods(results, SceneData.SliceNames, settings.Methods),
                Report.Slices(results, SceneData.SliceNames, settings.Methods, data),
            };
            if (output is not null)
            {
                foreach (var t in tables) t.Print();
                var md = new StringBuilder();
                md.AppendLine($"Command: `{command ?? "dotnet run -c Release --project samples/SceneSlices"}`; {settings.Scenes.ImageSize}px scenes {settings.TrainSize}/{settings.ValidationSize}/{settings.TestSize}, backbone {settings.Mode}, {settings.Seeds} seeds, {settings.Epochs} epochs; total {clock.Elapsed.TotalSeconds:F0} s, libtorch threads {TorchSharp.torch.get_num_threads()}.").AppendLine();
                foreach (var t in tables) md.AppendLine(t.ToMarkdown());
                File.WriteAllText(Path.Combine(output.FullName, "results.md"), md.ToString());
                log($"done in {clock.Elapsed.TotalSeconds:F0} s; {Path.Combine(output.FullName, "results.md")}, grid.png");
            }
            return (results, tables);
        }
    }
}
