using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace TextSamples;

/// <summary>The command line both text samples share: a quick default run, the full protocol behind --full.</summary>
public static class SampleCli
{
    /// <param name="args">The program's arguments.</param>
    /// <param name="program">The sample's name (samples/&lt;program&gt;).</param>
    /// <param name="description">One line for --help.</param>
    /// <param name="defaultOutput">The results folder.</param>
    /// <param name="run">Loads the data (from the folder given by --data, or the default) and runs the experiment.</param>
    public static int Main(string[] args, string program, string description, string defaultOutput,
        Func<ExperimentSettings, string?, ExperimentResult> run)
    {
        var full = new Option<bool>("--full") { Description = "The full protocol: 5 seeds, the top 2 layers fine-tuned, 128 tokens, 3 epochs, MANUAL's α search (hours on 2 cores). Explicit options below override it." };
        var seeds = new Option<int?>("--seeds", "-s") { Description = "Seeds (mean ± std over them). Quick: 1, full: 5." };
        var firstSeed = new Option<int>("--first-seed") { Description = "The first seed; seeds are consecutive.", DefaultValueFactory = _ => 1 };
        var epochs = new Option<int?>("--epochs", "-e") { Description = "Training epochs. Quick: 2, full: 3." };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate of the fine-tuned MiniLM top layers.", DefaultValueFactory = _ => 1e-4 };
        var top = new Option<int?>("--top-layers") { Description = "MiniLM layers fine-tuned (the lower ones are frozen and cached); 0 freezes the whole encoder (heads only). Quick: 1, full: 2." };
        var tokens = new Option<int?>("--max-tokens") { Description = "Tokens per example incl. [CLS]/[SEP]; longer texts are truncated. Quick: 64, full: 128." };
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training examples." };
        var testLimit = new Option<int?>("--test-limit") { Description = "Use only the first N test examples." };
        var methods = new Option<string>("--methods", "-m") { Description = "Comma-separated methods.", DefaultValueFactory = _ => string.Join(",", TextExperiment.AllMethods) };
        var output = new Option<string>("--output", "-o") { Description = "Results folder (CSV, JSON, Markdown, PNG).", DefaultValueFactory = _ => defaultOutput };
        var data = new Option<string?>("--data") { Description = "Folder holding fine_foods_train.csv and fine_foods_test.csv (default: $SLICELEARNING_DATA/modeldata, installed by `bash scripts/get-data.sh modeldata`)." };
        var threads = new Option<int>("--threads") { Description = "libtorch CPU threads.", DefaultValueFactory = _ => 1 };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples for the confidence intervals.", DefaultValueFactory = _ => 1000 };
        var noPlots = new Option<bool>("--no-plots") { Description = "Skip the PNG plots." };
        var moe = new Option<MoeExperts>("--moe-experts") { Description = "MoE's experts and gate: Adapter (Linear + GELU over the frozen layers, cheap) or TopLayers (a full copy of the fine-tuned top layers each: k + 2 times a VANILLA step).", DefaultValueFactory = _ => MoeExperts.Adapter };
        var featureCache = new Option<string>("--feature-cache") { Description = "Folder of the on-disk cache of the frozen layers' outputs (keyed by the examples, the encoder and the layer count).", DefaultValueFactory = _ => FeatureCache.DefaultDirectory() };
        var noFeatureCache = new Option<bool>("--no-feature-cache") { Description = "Run the frozen layers even if their outputs are cached, and cache nothing." };
        var trace = new Option<bool>("--trace") { Description = "After every epoch, print the validation score and (SRAM) the attention, indicator and expert diagnostics; slows training." };
        var sram = new Option<string[]>("--sram-option") { Description = "Sets an SRAM option, Name=Value (e.g. ExpertSize=128, IndicatorLossWeight=0.25); repeatable. Without it SRAM uses the library's defaults.", AllowMultipleArgumentsPerToken = false };
        var warmEpochs = new Option<int>("--warm-start-epochs") { Description = "Epochs of head warm-up on the pretrained encoder's pooled output (top layers frozen) before fine-tuning, for every method but MoE; 0: none.", DefaultValueFactory = _ => 0 };
        var warmLr = new Option<double>("--warm-start-lr") { Description = "AdamW learning rate of the head warm-up.", DefaultValueFactory = _ => 1e-3 };
        var headLr = new Option<double>("--head-lr") { Description = "AdamW learning rate of every parameter that is not a MiniLM layer (the heads, MoE's adapters), in one optimizer with the top layers at --lr (two parameter groups); --head-lr equal to --lr trains everything at one rate.", DefaultValueFactory = _ => 1e-3 };
        var root = new RootCommand(description) { full, seeds, firstSeed, epochs, batch, lr, headLr, top, tokens, trainLimit, testLimit, methods, output, data, threads, bootstrap, noPlots, moe, featureCache, noFeatureCache, trace, sram, warmEpochs, warmLr };
        root.SetAction(parse =>
        {
            bool isFull = parse.GetValue(full);
            var chosen = parse.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = chosen.Where(m => !TextExperiment.AllMethods.Contains(m)).ToArray();
            if (unknown.Length > 0 || chosen.Length == 0)
            {
                Console.Error.WriteLine($"--methods takes a comma-separated subset of {string.Join(",", TextExperiment.AllMethods)}; got '{parse.GetValue(methods)}'.");
                return 2;
            }
            var settings = new ExperimentSettings
            {
                Seeds = parse.GetValue(seeds) ?? (isFull ? 5 : 1),
                FirstSeed = parse.GetValue(firstSeed),
                Epochs = parse.GetValue(epochs) ?? (isFull ? 3 : 2),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                TopLayers = parse.GetValue(top) ?? (isFull ? 2 : 1),
                MaxTokens = parse.GetValue(tokens) ?? (isFull ? 128 : 64),
                TrainLimit = parse.GetValue(trainLimit),
                TestLimit = parse.GetValue(testLimit),
                ManualSearch = isFull,
                BootstrapResamples = parse.GetValue(bootstrap),
                Methods = TextExperiment.AllMethods.Where(chosen.Contains).ToArray(),
                Output = parse.GetValue(output)!,
                Plots = !parse.GetValue(noPlots),
                Threads = parse.GetValue(threads),
                MoeExperts = parse.GetValue(moe),
                FeatureCacheDirectory = parse.GetValue(noFeatureCache) ? null : parse.GetValue(featureCache),
                TraceEpochs = parse.GetValue(trace),
                SramOptions = parse.GetValue(sram) ?? Array.Empty<string>(),
                WarmStartEpochs = parse.GetValue(warmEpochs),
                WarmStartLearningRate = parse.GetValue(warmLr),
                HeadLearningRate = parse.GetValue(headLr),
            };
            if (!(settings.HeadLearningRate > 0) || double.IsInfinity(settings.HeadLearningRate) || !(settings.LearningRate > 0) || double.IsInfinity(settings.LearningRate))
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--lr and --head-lr must be positive finite rates; got --lr {settings.LearningRate}, --head-lr {settings.HeadLearningRate}."));
                return 2;
            }
            try
            {
                SramSettings.Parse(settings.SramOptions);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
            if (settings.Seeds < 1 || settings.Epochs < 1 || settings.BatchSize < 1 || settings.TopLayers is < 0 or > 6 || settings.MaxTokens is < 8 or > 512 || settings.Threads < 1 || settings.BootstrapResamples < 0 || settings.WarmStartEpochs < 0 || !(settings.WarmStartLearningRate > 0))
            {
                Console.Error.WriteLine("--seeds, --epochs, --batch-size and --threads must be positive, --top-layers in 0..6, --max-tokens in 8..512, --bootstrap and --warm-start-epochs at least 0, --warm-start-lr positive.");
                return 2;
            }
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
            var clock = Stopwatch.StartNew();
            AnsiConsole.MarkupLine($"[bold]{program}[/] ({(isFull ? "full protocol" : "quick run; --full for the paper's protocol")}): methods {string.Join(", ", settings.Methods)}, {settings.Seeds} seed(s) from {settings.FirstSeed}.");
            ExperimentResult result;
            try
            {
                result = run(settings, parse.GetValue(data));
            }
            catch (FileNotFoundException e)
            {
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
                return 1;
            }
            Reporting.Print(result, AnsiConsole.Console);
            Reporting.Write(result, settings.Output, settings.Plots);
            string command = $"dotnet run -c Release --project samples/{program}" + (args.Length > 0 ? " -- " + string.Join(" ", args) : "");
            File.AppendAllText(Path.Combine(settings.Output, "table.md"), string.Create(CultureInfo.InvariantCulture,
                $"{Environment.NewLine}Command: `{command}`; {clock.Elapsed.TotalSeconds:F0} s wall on {Environment.ProcessorCount} cores, {settings.Threads} libtorch thread(s); caching the frozen layers took {result.CacheSeconds:F0} s.{Environment.NewLine}"));
            AnsiConsole.MarkupLine($"Done in [bold]{clock.Elapsed.TotalSeconds:F0} s[/]. Results: {Markup.Escape(Path.GetFullPath(settings.Output))} (table.md, summary.csv, slices.csv, results.json{(settings.Plots ? ", *.png" : "")}).");
            return 0;
        });
        return root.Parse(args).Invoke();
    }
}
