using System.Diagnostics;
using System.Globalization;
using IncomeWorkflow;
using SliceLearning.Runtime;

// Diagnose -> train -> plan on the income survey. Expected output: see docs/workflow.md.
try
{
    var settings = IncomeRunSettings.Parse(args);
    if (settings is null)
    {
        Console.WriteLine(IncomeRunSettings.Help);
        return 0;
    }
    var clock = Stopwatch.StartNew();
    var report = IncomeRun.Run(settings, Console.Out);
    Console.WriteLine(report.ToText());
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote report.txt, report.json and PNG plots to {Path.GetFullPath(settings.Output)} ({clock.Elapsed.TotalSeconds:F0} s)."));
    return 0;
}
catch (FileNotFoundException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (ArgumentException e) when (e is not SliceLearning.SliceDataException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(IncomeRunSettings.Help);
    return 1;
}

namespace IncomeWorkflow
{
    /// <summary>Command-line settings of the sample (defaults are the documented run).</summary>
    internal sealed record IncomeRunSettings
    {
        public string Data { get; init; } = IncomeData.DefaultPath();
        public string Output { get; init; } = "income-results";
        public int Seed { get; init; } = 42;
        public int Rows { get; init; }
        public int Epochs { get; init; } = 30;
        public int CurveEpochs { get; init; } = 10;
        public int Hidden { get; init; } = 64;
        public int Budget { get; init; } = 1000;
        public double Lambda { get; init; } = 1;
        public int CurvePoints { get; init; } = 5;
        public int CurveRepeats { get; init; } = 3;
        public int EvaluationRepeats { get; init; } = 3;
        public int Bootstrap { get; init; } = 1000;
        public int Discovered { get; init; } = 2;
        public int Threads { get; init; } = 1;

        public const string Help = """
            IncomeWorkflow: diagnose -> train -> plan on the income survey (kernlab::income).
              --data <file>          income.csv (default $SLICELEARNING_DATA/income/income.csv; install: bash scripts/get-data.sh income)
              --output <dir>         where report.txt, report.json and the PNGs go (default income-results)
              --seed <n>             the one seed (default 42)
              --rows <n>             use only the first n shuffled rows (default all)
              --epochs <n>           epochs per training (default 30)
              --curve-epochs <n>     epochs of the learning-curve and before/after trainings, no early stopping (default 10)
              --hidden <n>           MLP backbone width (default 64)
              --budget <n>           examples to acquire (default 1000)
              --lambda <x>           Slice Tuner's fairness weight (default 1)
              --curve-points <n>     learning-curve points (default 5)
              --curve-repeats <n>    trainings per point (default 3)
              --eval-repeats <n>     seeds of the before/after retrains (default 3)
              --bootstrap <n>        bootstrap resamples of the intervals (default 1000)
              --discovered <n>       discovered slices added to SRAM's slices (default 2)
              --threads <n>          torch CPU threads (default 1)
            """;

        /// <summary>Parses the arguments; null for --help.</summary>
        public static IncomeRunSettings? Parse(string[] args)
        {
            var s = new IncomeRunSettings();
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                if (name is "--help" or "-h") return null;
                if (i + 1 >= args.Length) throw new ArgumentException($"Option {name} needs a value.");
                string v = args[++i];
                int Int() => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) ? x : throw new ArgumentException($"Option {name} needs an integer, got '{v}'.");
                s = name switch
                {
                    "--data" => s with { Data = v },
                    "--output" => s with { Output = v },
                    "--seed" => s with { Seed = Int() },
                    "--rows" => s with { Rows = Int() },
                    "--epochs" => s with { Epochs = Int() },
                    "--curve-epochs" => s with { CurveEpochs = Int() },
                    "--hidden" => s with { Hidden = Int() },
                    "--budget" => s with { Budget = Int() },
                    "--lambda" => s with { Lambda = double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double l) ? l : throw new ArgumentException($"Option {name} needs a number, got '{v}'.") },
                    "--curve-points" => s with { CurvePoints = Int() },
                    "--curve-repeats" => s with { CurveRepeats = Int() },
                    "--eval-repeats" => s with { EvaluationRepeats = Int() },
                    "--bootstrap" => s with { Bootstrap = Int() },
                    "--discovered" => s with { Discovered = Int() },
                    "--threads" => s with { Threads = Int() },
                    _ => throw new ArgumentException($"Unknown option '{name}'."),
                };
            }
            return s;
        }
    }
}
