// The paper's synthetic experiments (Chen et al., "Slice-based Learning", NeurIPS 2019, section 3.3 and
// Figures 1, 3, 4, 5) plus a many-slices stress test, run over several seeds with every method trained by
// the same SliceTrainer and scored by the same SliceReport (test set, true slice membership).
//
//   dotnet run --project samples/SyntheticSlices                 # all experiments, defaults (~5 min on 2 cores)
//   dotnet run --project samples/SyntheticSlices -- -x a --seeds 5
//   dotnet run --project samples/SyntheticSlices -- -x e --many-slices-max 256
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using SliceLearning.Runtime;
using Spectre.Console;
using SyntheticSlices;

var seeds = new Option<int>("--seeds", "-s") { Description = "Number of seeds per configuration (mean ± std over them).", DefaultValueFactory = _ => 3 };
var firstSeed = new Option<int>("--first-seed") { Description = "The first seed; seeds are consecutive.", DefaultValueFactory = _ => 1 };
var epochs = new Option<int>("--epochs", "-e") { Description = "Training epochs for every model.", DefaultValueFactory = _ => 25 };
var batchSize = new Option<int>("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 64 };
var learningRate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 0.01 };
var experiments = new Option<string>("--experiment", "-x")
{
    Description = "Which experiments to run, as letters: a = methods on the 2-slice task, b = attention ablation (Fig. 3), c = noisy SFs (Fig. 5), d = hidden size sweep (Fig. 4), e = many slices.",
    DefaultValueFactory = _ => "abcde",
};
var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder for the PNG plots and results.md.", DefaultValueFactory = _ => new DirectoryInfo("synthetic-results") };
var manySlicesMax = new Option<int>("--many-slices-max") { Description = "Largest number of SFs k in experiment e (2 real slices plus k - 2 benign ones); 256 takes several more minutes.", DefaultValueFactory = _ => 64 };
var train = new Option<int>("--train-size") { Description = "Training points per seed.", DefaultValueFactory = _ => 5000 };
var validation = new Option<int>("--validation-size") { Description = "Validation points per seed (MANUAL's slice and α selection).", DefaultValueFactory = _ => 2000 };
var test = new Option<int>("--test-size") { Description = "Test points per seed.", DefaultValueFactory = _ => 5000 };
var widths = new Option<string>("--widths") { Description = "Comma-separated hidden sizes for experiment d.", DefaultValueFactory = _ => "4,13,32" };
var threads = new Option<int>("--threads") { Description = "libtorch CPU threads (1 is fastest for these tiny models and bit-reproducible).", DefaultValueFactory = _ => 1 };
var noPlots = new Option<bool>("--no-plots") { Description = "Skip the PNG plots." };

var root = new RootCommand("Slice-based learning on synthetic data: VANILLA, HPS, MANUAL, MoE and SRAM compared as in the paper.")
{
    seeds, firstSeed, epochs, batchSize, learningRate, experiments, output, manySlicesMax, train, validation, test, widths, threads, noPlots,
};
root.SetAction(parse =>
{
    var chosen = parse.GetValue(experiments)!.ToLowerInvariant().Where(c => !char.IsWhiteSpace(c) && c != ',').ToHashSet();
    var unknown = chosen.Where(c => c is < 'a' or > 'e').ToArray();
    if (unknown.Length > 0 || chosen.Count == 0)
    {
        Console.Error.WriteLine($"--experiment takes letters a to e (e.g. 'abcde' or 'a'); got '{parse.GetValue(experiments)}'.");
        return 2;
    }
    int[] widthList;
    try { widthList = parse.GetValue(widths)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray(); }
    catch (FormatException) { Console.Error.WriteLine($"--widths takes comma-separated integers; got '{parse.GetValue(widths)}'."); return 2; }
    var settings = new RunSettings(parse.GetValue(seeds), parse.GetValue(firstSeed), parse.GetValue(epochs), parse.GetValue(batchSize), parse.GetValue(learningRate),
        chosen, parse.GetValue(output)!, parse.GetValue(manySlicesMax), parse.GetValue(train), parse.GetValue(validation), parse.GetValue(test), widthList, !parse.GetValue(noPlots));
    if (settings.Seeds < 1 || settings.Epochs < 1 || settings.BatchSize < 1 || settings.ManySlicesMax < 2 || settings.TrainSize < 100 || settings.TestSize < 100 || settings.ValidationSize < 100 || widthList.Length == 0 || widthList.Any(w => w < 1))
    {
        Console.Error.WriteLine("--seeds, --epochs, --batch-size and --widths must be positive, --many-slices-max at least 2, and the set sizes at least 100.");
        return 2;
    }
    ComputeDevice.SetCpuThreads(parse.GetValue(threads));
    return Run(settings, args);
});
return root.Parse(args).Invoke();

static int Run(RunSettings settings, string[] args)
{
    settings.Output.Create();
    if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 180; // keep table rows on one line in logs
    var clock = Stopwatch.StartNew();
    AnsiConsole.MarkupLine($"[bold]SyntheticSlices[/]: experiments [yellow]{string.Join("", settings.Experiments.Order())}[/], {settings.Seeds} seeds from {settings.FirstSeed}, {settings.Epochs} epochs, batch {settings.BatchSize}, Adam lr {settings.LearningRate.ToString(CultureInfo.InvariantCulture)}, {settings.TrainSize}/{settings.ValidationSize}/{settings.TestSize} points; output in {settings.Output.FullName}");
    var lab = new Lab(settings);
    var markdown = new StringBuilder();
    var titles = new Dictionary<char, string>
    {
        ['a'] = "(a) methods on the 2-slice task",
        ['b'] = "(b) attention ablation",
        ['c'] = "(c) noisy SFs",
        ['d'] = "(d) hidden size sweep",
        ['e'] = "(e) many slices",
    };
    foreach (char experiment in settings.Experiments.Order())
    {
        IReadOnlyList<ResultTable> tables = Array.Empty<ResultTable>();
        var started = clock.Elapsed;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(titles[experiment], maxValue: Experiments.Trials(settings, experiment));
                bool first = true;
                var runner = new Experiments(lab, description =>
                {
                    if (!first) task.Increment(1);
                    first = false;
                    task.Description = Markup.Escape(description);
                });
                tables = experiment switch
                {
                    'a' => runner.MethodsOnTwoSlices(),
                    'b' => runner.AttentionAblation(),
                    'c' => runner.NoisySfs(),
                    'd' => runner.HiddenSizeSweep(),
                    _ => runner.ManySlices(),
                };
                task.Value = task.MaxValue;
                task.Description = titles[experiment];
            });
        foreach (var table in tables)
        {
            table.Notes.Add($"Experiment time: {(clock.Elapsed - started).TotalSeconds:F0} s.");
            table.Print();
            markdown.AppendLine(table.ToMarkdown());
        }
    }
    string command = "dotnet run --project samples/SyntheticSlices" + (args.Length > 0 ? " -- " + string.Join(" ", args) : "");
    string header = $"Command: `{command}` ({settings.Seeds} seeds, {settings.Epochs} epochs, {settings.TrainSize}/{settings.ValidationSize}/{settings.TestSize} points); total time {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} cores, libtorch threads {TorchSharp.torch.get_num_threads()}.";
    File.WriteAllText(Path.Combine(settings.Output.FullName, "results.md"), header + Environment.NewLine + Environment.NewLine + markdown);
    AnsiConsole.MarkupLine($"Done in [bold]{clock.Elapsed.TotalSeconds:F0} s[/]. Tables: {Markup.Escape(Path.Combine(settings.Output.FullName, "results.md"))}" + (settings.Plots ? "; plots: *.png in the same folder." : "."));
    return 0;
}
