using System.Globalization;
using SliceLearning.SliceTuner;

namespace FashionMnistAcquisition;

/// <summary>Command-line options of the sample.</summary>
public sealed record SampleOptions
{
    public string Dataset { get; init; } = "fashion";
    public string Setting { get; init; } = "bad-uniform";
    public int Seeds { get; init; } = 5;
    public int FirstSeed { get; init; }
    public int Workers { get; init; } = 2;
    public int Points { get; init; } = 10;
    public int Repeats { get; init; } = 1;
    public double MinFraction { get; init; } = 0.2;
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public int ValidationPerSlice { get; init; } = 500;
    public int ReportPerSlice { get; init; } = 500;
    public UnusableCurvePolicy Fallback { get; init; } = UnusableCurvePolicy.PooledExponent;
    /// <summary>
    /// How the learning curves are fitted (--curve-fit shared|independent). Shared by default: on Fashion-MNIST it made
    /// Moderate better than independent fits in bad-for-Uniform and no worse in basic (docs/slicetuner.md).
    /// </summary>
    public CurveFitMode CurveFit { get; init; } = CurveFitMode.SharedExponent;
    public double? Budget { get; init; }
    public double? Lambda { get; init; }
    public int[]? InitialSizes { get; init; }
    public string[]? Methods { get; init; }
    public int? TrainPerSliceLimit { get; init; }
    public string OutputDirectory { get; init; } = Path.Combine("artifacts", "slice-tuner");
    public string FashionDirectory { get; init; } = ImageData.FashionDirectory;
    public string MnistDirectory { get; init; } = ImageData.MnistDirectory;
    public bool Plots { get; init; } = true;
    /// <summary>Trainings per method and seed whose final metrics are averaged (seeds differ by 1000).</summary>
    public int FinalRuns { get; init; } = 3;
    /// <summary>A measurement instead of the comparison: "fit-error" or "oracle" (see <see cref="Studies"/>).</summary>
    public string? Study { get; init; }
    /// <summary>Oracle study: the shares of the budget that go to the hard classes.</summary>
    public double[] HardShares { get; init; } = [0, 0.25, 0.5, 0.75, 1];

    public const string Usage =
        "Options: --dataset fashion|mixed-mnist  --setting table2|basic|bad-uniform|bad-waterfilling  --seeds N  --first-seed S  --workers W " +
        "--points K  --repeats R  --min-fraction F  --epochs E  --batch N  --lr LR  --validation N (per slice, curves)  --report N (per slice, final metrics) " +
        "--fallback pooled|nothing|throw  --curve-fit shared|independent (default shared)  --budget B  --lambda L  --sizes s0,s1,...  --methods a,b,...  --out DIR  --fashion-data DIR  --mnist-data DIR  --no-plots " +
        "--final-runs N (trainings averaged per method and seed)  --study fit-error|oracle  --hard-shares 0,0.5,1 (oracle) " +
        "--quick (1 seed, K = 5, R = 1, 1 final training)  --tiny (seconds: 12 training images per class, for tests)";

    public static SampleOptions Parse(string[] args)
    {
        var o = new SampleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double Double() => double.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--dataset" => o with { Dataset = Next() },
                "--setting" => o with { Setting = Next() },
                "--seeds" => o with { Seeds = Int() },
                "--first-seed" => o with { FirstSeed = Int() },
                "--workers" => o with { Workers = Int() },
                "--points" => o with { Points = Int() },
                "--repeats" => o with { Repeats = Int() },
                "--min-fraction" => o with { MinFraction = Double() },
                "--epochs" => o with { Epochs = Int() },
                "--batch" => o with { BatchSize = Int() },
                "--lr" => o with { LearningRate = Double() },
                "--validation" => o with { ValidationPerSlice = Int() },
                "--report" => o with { ReportPerSlice = Int() },
                "--fallback" => o with { Fallback = ParseFallback(Next()) },
                "--curve-fit" => o with { CurveFit = ParseCurveFit(Next()) },
                "--budget" => o with { Budget = Double() },
                "--lambda" => o with { Lambda = Double() },
                "--sizes" => o with { InitialSizes = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                "--methods" => o with { Methods = Next().Split(',') },
                "--out" => o with { OutputDirectory = Next() },
                "--fashion-data" => o with { FashionDirectory = Next() },
                "--mnist-data" => o with { MnistDirectory = Next() },
                "--no-plots" => o with { Plots = false },
                "--final-runs" => o with { FinalRuns = Int() },
                "--study" => o with { Study = Next() },
                "--hard-shares" => o with { HardShares = Next().Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray() },
                "--quick" => o with { Seeds = 1, Points = 5, Repeats = 1, FinalRuns = 1 },
                "--tiny" => o with
                {
                    Seeds = 1, Points = 3, Repeats = 1, Epochs = 1, FinalRuns = 1, ValidationPerSlice = 20, ReportPerSlice = 20, TrainPerSliceLimit = 40,
                    Budget = 60, InitialSizes = null, Plots = false, Methods = ["Original", "Uniform", "Water filling", "One-shot", "Moderate"],
                },
                _ => throw new ArgumentException($"Unknown option {args[i]}. {Usage}"),
            };
        }
        if (o.Dataset is not ("fashion" or "mixed-mnist")) throw new ArgumentException($"Unknown --dataset {o.Dataset}. {Usage}");
        if (o.Setting is not ("table2" or "basic" or "bad-uniform" or "bad-waterfilling")) throw new ArgumentException($"Unknown --setting {o.Setting}. {Usage}");
        if (o.Seeds < 1 || o.Workers < 1 || o.Epochs < 1 || o.FinalRuns < 1) throw new ArgumentException("--seeds, --workers, --epochs and --final-runs must be at least 1.");
        if (o.Study is not (null or "fit-error" or "oracle")) throw new ArgumentException($"Unknown --study {o.Study}; use fit-error or oracle.");
        if (o.HardShares.Length == 0 || o.HardShares.Any(f => !(f >= 0 && f <= 1))) throw new ArgumentException("--hard-shares must be values in [0, 1].");
        return o;
    }

    private static UnusableCurvePolicy ParseFallback(string value) => value switch
    {
        "pooled" => UnusableCurvePolicy.PooledExponent,
        "nothing" => UnusableCurvePolicy.AcquireNothing,
        "throw" => UnusableCurvePolicy.Throw,
        _ => throw new ArgumentException($"Unknown --fallback {value}; use pooled, nothing or throw."),
    };

    private static CurveFitMode ParseCurveFit(string value) => value switch
    {
        "independent" => CurveFitMode.Independent,
        "shared" => CurveFitMode.SharedExponent,
        _ => throw new ArgumentException($"Unknown --curve-fit {value}; use independent (a and b per slice) or shared (one exponent for all slices)."),
    };

    /// <summary>The easy classes (low loss): Fashion-MNIST's Trouser, Sandal, Sneaker, Bag, Ankle boot, and every MNIST digit.</summary>
    public static bool IsEasy(int slice) => slice >= 10 || slice is 1 or 5 or 7 or 8 or 9;

    /// <summary>Initial sizes, budget, lambda and methods of the setting (paper Tables 2 and 6).</summary>
    public (int[] Sizes, double Budget, double Lambda, string[] Methods) Resolve(int slices)
    {
        bool tiny = TrainPerSliceLimit is not null;
        int Scale(int n) => tiny ? Math.Max(3, n / 40) : n;
        int[] sizes = Setting switch
        {
            // Table 2: equal initial sizes (paper Table 3: 200 per slice on Fashion-MNIST, 150 on Mixed-MNIST), B = 6K, lambda = 1.
            "table2" => Enumerable.Repeat(Scale(Dataset == "mixed-mnist" ? 150 : 200), slices).ToArray(),
            // Table 6 (1) basic: equal sizes.
            "basic" => Enumerable.Repeat(Scale(200), slices).ToArray(),
            // Table 6 (2) bad for Uniform: many slices with low loss that already have much data.
            "bad-uniform" => Enumerable.Range(0, slices).Select(i => Scale(IsEasy(i) ? 400 : 100)).ToArray(),
            // Table 6 (3) bad for Water filling: large slices with high loss, small slices with low loss.
            _ => Enumerable.Range(0, slices).Select(i => Scale(IsEasy(i) ? 100 : 400)).ToArray(),
        };
        if (InitialSizes is not null)
        {
            if (InitialSizes.Length != slices) throw new ArgumentException($"--sizes has {InitialSizes.Length} values for {slices} slices.");
            sizes = InitialSizes;
        }
        double budget = Budget ?? (Setting == "table2" ? 6000 : 3000);
        double lambda = Lambda ?? (Setting == "table2" ? 1 : 0.1);
        string[] methods = Methods ?? (Setting == "table2"
            ? ["Original", "Uniform", "Water filling", "One-shot", "Aggressive", "Moderate", "Conservative"]
            : ["Original", "Uniform", "Water filling", "Moderate"]);
        return (sizes, budget, lambda, methods);
    }
}
