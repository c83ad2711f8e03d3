// The paper's synthetic experiments (Chen et al., "Slice-based Learning", NeurIPS 2019, section 3.3 and
// Figures 1, 3, 4, 5) plus a many-slices stress test, run over several seeds with every method trained by
// the same SliceTrainer and scored by the same SliceReport (test set, true slice membership).
//
//   dotnet run --project samples/SyntheticSlices                 # all experiments, defaults (~5 min on 2 cores)
//   dotnet run --project samples/SyntheticSlices -- -x a --seeds 5
//   dotnet run --project samples/SyntheticSlices -- -x e --many-slices-max 256
//   dotnet run --project samples/SyntheticSlices -- --suite robustness            # hard slice tasks (long: see docs/synthetic.md)
//   dotnet run --project samples/SyntheticSlices -- --suite robustness --tasks flipped3 --k 2 --seeds 1
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
var suite = new Option<string>("--suite") { Description = "'paper' (the default: experiments a-e) or 'robustness' (hard slice tasks × k × seeds × methods with a fixed protocol: 10,000 training points, 60 epochs, no validation).", DefaultValueFactory = _ => "paper" };
var tasks = new Option<string>("--tasks") { Description = "Robustness suite: comma-separated tasks (constant, flipped3, flipped3-exact = flipped3 with exact SFs for the real slices, flipped2).", DefaultValueFactory = _ => "constant,flipped3,flipped2" };
var ks = new Option<string>("--k") { Description = "Robustness suite: comma-separated SF counts k (2 real slices plus k - 2 benign).", DefaultValueFactory = _ => "2,16,64" };
var methods = new Option<string>("--methods") { Description = "Robustness suite: methods separated by spaces: VANILLA, VANILLA[input=truth|sf] (the real slices' true membership or SF outputs as extra inputs), HPS, HPS[weight=0.5;norm=MeanOverSlices;score=Base|Own|Sf;clip=1], SRAM (defaults), SRAM-paper, SRAM[attention=Full;backprop=IndicatorsAndExperts;t=0.5;h=26;ind=1;head=1;pred=1;clip=1].", DefaultValueFactory = _ => "VANILLA HPS SRAM" };
var epochCurve = new Option<bool>("--epoch-curve") { Description = "Robustness suite: score the real slices on the test set after every epoch; prints the last ten epochs per run and a table of their mean and range." };
var lrSchedule = new Option<string>("--lr-schedule") { Description = "Robustness suite: learning-rate schedule of every method: 'constant' (the protocol) or 'cosine' (annealed from the rate towards 0 over the epochs).", DefaultValueFactory = _ => "constant" };
var bootstrap = new Option<int>("--bootstrap") { Description = "Robustness suite: paired-bootstrap resamples for the lift CIs (0: none).", DefaultValueFactory = _ => 1000 };

var root = new RootCommand("Slice-based learning on synthetic data: VANILLA, HPS, MANUAL, MoE and SRAM compared as in the paper.")
{
    seeds, firstSeed, epochs, batchSize, learningRate, experiments, output, manySlicesMax, train, validation, test, widths, threads, noPlots,
    suite, tasks, ks, methods, bootstrap, epochCurve, lrSchedule,
};
root.SetAction(parse =>
{
    string suiteName = parse.GetValue(suite)!.Trim().ToLowerInvariant();
    if (suiteName == "robustness")
    {
        // The suite's protocol: 10,000 training points, 60 epochs, Adam 0.01, batch 64, unless set on the command line.
        bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
        var taskList = parse.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        int[] kList;
        try { kList = parse.GetValue(ks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => int.Parse(k, CultureInfo.InvariantCulture)).ToArray(); }
        catch (FormatException) { Console.Error.WriteLine($"--k takes comma-separated integers; got '{parse.GetValue(ks)}'."); return 2; }
        var methodList = System.Text.RegularExpressions.Regex.Matches(parse.GetValue(methods)!, @"SRAM\[[^\]]*\]|[^\s,]+").Select(m => m.Value).ToArray();
        if (taskList.Length == 0 || taskList.Any(t => !Robustness.AllTasks.Contains(t)) || kList.Length == 0 || kList.Any(k => k < 2) || methodList.Length == 0)
        {
            Console.Error.WriteLine($"--tasks takes {string.Join(", ", Robustness.AllTasks)}; --k integers >= 2; --methods at least one method.");
            return 2;
        }
        string schedule = parse.GetValue(lrSchedule)!.Trim().ToLowerInvariant();
        if (schedule is not ("constant" or "cosine")) { Console.Error.WriteLine($"--lr-schedule takes 'constant' or 'cosine'; got '{parse.GetValue(lrSchedule)}'."); return 2; }
        try { foreach (var m in methodList) MethodSpec.Parse(m); }
        catch (Exception e) when (e is FormatException or ArgumentException) { Console.Error.WriteLine(e.Message); return 2; }
        var robust = new RobustnessSettings(
            Given(seeds) ? parse.GetValue(seeds) : 5, parse.GetValue(firstSeed),
            Given(epochs) ? parse.GetValue(epochs) : 60, parse.GetValue(batchSize), parse.GetValue(learningRate),
            Given(train) ? parse.GetValue(train) : 10000, Given(test) ? parse.GetValue(test) : 10000,
            taskList, kList, methodList, parse.GetValue(output)!, parse.GetValue(bootstrap), parse.GetValue(epochCurve), schedule);
        ComputeDevice.SetCpuThreads(parse.GetValue(threads));
        return RunRobustness(robust, args);
    }
    if (suiteName != "paper")
    {
        Console.Error.WriteLine($"--suite takes 'paper' or 'robustness'; got '{parse.GetValue(suite)}'.");
        return 2;
    }
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

static int RunRobustness(RobustnessSettings settings, string[] args)
{
    settings.Output.Create();
    if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 220;
    var clock = Stopwatch.StartNew();
    AnsiConsole.MarkupLine(Markup.Escape($"SyntheticSlices robustness suite: tasks {string.Join(",", settings.Tasks)}, k {string.Join(",", settings.Ks)}, methods {string.Join(" ", settings.Methods)}, {settings.Seeds} seeds from {settings.FirstSeed}, {settings.Epochs} epochs, {settings.TrainSize}/{settings.TestSize} points"));
    var suite = new Robustness(settings, description =>
    {
        if (Console.IsOutputRedirected) Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F0} s] {description}");
        else AnsiConsole.MarkupLine($"[grey][[{clock.Elapsed.TotalSeconds,6:F0} s]][/] {Markup.Escape(description)}");
    });
    var runs = suite.Run();
    var tables = suite.Tables(runs);
    var markdown = new StringBuilder();
    foreach (var table in tables)
    {
        table.Print();
        markdown.AppendLine(table.ToMarkdown());
    }
    string command = "dotnet run --project samples/SyntheticSlices" + (args.Length > 0 ? " -- " + string.Join(" ", args) : "");
    string header = $"Command: `{command}`; total time {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} cores, libtorch threads {TorchSharp.torch.get_num_threads()}.";
    string path = Path.Combine(settings.Output.FullName, "robustness.md");
    File.WriteAllText(path, header + Environment.NewLine + Environment.NewLine + markdown);
    AnsiConsole.MarkupLine($"Done in [bold]{clock.Elapsed.TotalSeconds:F0} s[/]. Tables: {Markup.Escape(path)}");
    return 0;
}

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
