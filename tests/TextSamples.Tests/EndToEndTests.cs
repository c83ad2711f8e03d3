using Spectre.Console;

namespace TextSamples.Tests;

/// <summary>A tiny run of the whole pipeline (pretrained MiniLM from the NuGet cache, every method, every slice).</summary>
public class EndToEndTests
{
    private static readonly string[] Great =
    {
        "Where has this tea been all my life? I love it!", "Who knew a snack could be this good. Love it.",
        "What a treat, the kids and I ate the whole box and the bag too.", "When it arrived I tried it and I will buy it again.",
        "Tasty, fresh and cheap. Highly recommended!", "Great coffee or tea, you choose. It is the best I have ever tasted.",
        "My dog goes crazy for these treats and asks for more every day.", "Smooth and rich. We order it regularly.",
        "Not bitter at all and it never goes stale. Five stars!", "Perfect with milk. I would recommend.",
        "This is the best hot sauce on the market and it arrived quickly.", "Delicious but a bit pricey. Still worth it!",
    };

    private static readonly string[] Other =
    {
        "Where is the flavor? It tastes like nothing.", "Who would eat this? Not me.", "What a waste of money and time.",
        "When I opened the box the cookies were broken and stale.", "It doesn't taste fresh and I won't buy it again.",
        "The bag was torn or damaged when it arrived. Sad.", "My cat refused to eat it and the smell was bad.",
        "Too sweet for me, but my husband liked it somewhat.", "Never again. The worst coffee I have ever tried.",
        "The price went up and the quality went down quickly.", "It was okay but nothing special, and the shipping was slow.",
        "Not as described. I would not recommend.",
    };

    internal static IReadOnlyList<Review> Reviews(int offset) =>
        Great.Select((t, i) => new Review($"g{i + offset}", t, 1)).Concat(Other.Select((t, i) => new Review($"o{i + offset}", t, 0)))
            .Append(new Review($"lg{offset}", string.Join(' ', Enumerable.Repeat("This jam is tasty and sweet.", 27)), 1))
            .Append(new Review($"lo{offset}", string.Join(' ', Enumerable.Repeat("The jar came cracked and sticky.", 27)), 0))
            .ToArray();

    private static IAnsiConsole Quiet() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Interactive = InteractionSupport.No });

    private static ExperimentSettings Tiny(string output) => new()
    {
        Seeds = 1, Epochs = 1, BatchSize = 8, TopLayers = 1, MaxTokens = 32, BootstrapResamples = 20, ValidationFraction = 0.25, WarmStartEpochs = 1,
        Output = output, Plots = true, Threads = 1,
    };

    [Fact]
    public void TextSlicesTrainsEveryMethodAndReportsEverySlice()
    {
        var train = Reviews(0).Concat(Reviews(100)).ToArray();
        var test = Reviews(200);
        var task = new TextTask<Review>("tiny", train, test, CoLaSlices.Create(), (tok, r, max) => tok.Encode(r.Text, max), r => r.Label, SliceLearning.Evaluation.Metric.Mcc);
        var output = Path.Combine(Path.GetTempPath(), "text-slices-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var result = TextExperiment.Run(task, Tiny(output), Quiet());
            Assert.Equal(TextExperiment.AllMethods, result.Summary.Select(s => s.Method));
            Assert.Equal(CoLaSlices.Create().SliceNames, result.SliceNames);
            Assert.All(result.SliceNames, n => Assert.True(result.TestSupport[n] > 0, $"slice {n} is empty in the tiny test set"));
            Assert.All(result.Trials, t => Assert.Equal(result.SliceNames.Count, t.Slice.Count));
            Assert.Single(result.SramVsVanilla);
            Assert.True(result.Summary.Single(s => s.Method == "SRAM").ParamIncrease > 0);
            var sram = result.Trials.Single(t => t.Method == "SRAM").Sram;
            Assert.NotNull(sram);
            Assert.InRange(sram!.BaseAttention, 0.0, 1.0);
            Assert.InRange(sram.PositiveRate, 0.0, 1.0);
            Assert.Equal(test.Average(r => r.Label), sram.LabelPositiveRate, 12);
            Assert.All(result.Trials.Where(t => t.Method != "SRAM"), t => Assert.Null(t.Sram));
            // Every method but MoE warmed its heads up first.
            Assert.All(result.Trials, t => Assert.Equal(t.Method != "MoE", t.WarmStartSeconds > 0));
            Reporting.Write(result, output, plots: true);
            foreach (var f in new[] { "table.md", "summary.csv", "slices.csv", "results.json", "overall.png", "slice-lift.png", "sram-vs-vanilla-seed1.csv" })
                Assert.True(File.Exists(Path.Combine(output, f)), f);
            var slicesCsv = File.ReadAllLines(Path.Combine(output, "slices.csv"));
            Assert.Equal(1 + 5 * result.SliceNames.Count, slicesCsv.Length);
            var table = File.ReadAllText(Path.Combine(output, "table.md"));
            Assert.All(result.SliceNames, n => Assert.Contains($"| {n} |", table));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void PairSlicesTrainsAndReportsEverySlice()
    {
        var sentences = PairGenerator.Sentences(Reviews(0)).Concat(new[]
        {
            "all the cookies were broken in the box after shipping .", "i bought 3 bags of these last week with a coupon .",
            "this is better than the brand i used to buy before .", "the coffee is strong but a bit bitter for me .",
            "some of the bags were stale and hard to chew .", "it is more expensive than the local store .",
        }.Select(s => new ParsedText(s).Tokens.ToArray())).ToArray();
        var generator = new PairGenerator(sentences);
        var pairs = generator.Generate(sentences.Concat(sentences).ToArray(), seed: 3);
        var task = new TextTask<SentencePair>("tiny pairs", pairs.Take(pairs.Count * 2 / 3).ToArray(), pairs.Skip(pairs.Count * 2 / 3).ToArray(), RteSlices.Create(),
            (tok, p, max) => tok.EncodePair(p.Premise.Text, p.Hypothesis.Text, max), p => p.Label, SliceLearning.Evaluation.Metric.F1);
        var output = Path.Combine(Path.GetTempPath(), "pair-slices-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            // The sample's default: no head warm-up, the heads at HeadLearningRate and the top layer at LearningRate.
            var result = TextExperiment.Run(task, Tiny(output) with { Methods = new[] { "VANILLA", "SRAM" }, WarmStartEpochs = 0 }, Quiet());
            Assert.Equal(new[] { "VANILLA", "SRAM" }, result.Summary.Select(s => s.Method));
            Assert.All(result.Trials, t => Assert.Equal(0, t.WarmStartSeconds));
            Assert.Equal(RteSlices.Create().SliceNames, result.SliceNames);
            Assert.All(result.Trials, t => Assert.Equal(result.SliceNames.Count, t.Slice.Count));
            Assert.Contains("long_premise", File.Exists(Path.Combine(output, "table.md")) ? File.ReadAllText(Path.Combine(output, "table.md")) : Reporting.SliceMarkdown(result));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void TopLayersTrainAtLearningRate_AndHeadsAtHeadLearningRate()
    {
        var train = Reviews(0).Concat(Reviews(100)).ToArray();
        var task = new TextTask<Review>("tiny rates", train, Reviews(200), CoLaSlices.Create(), (tok, r, max) => tok.Encode(r.Text, max), r => r.Label, SliceLearning.Evaluation.Metric.Mcc);
        var output = Path.Combine(Path.GetTempPath(), "text-rates-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            ExperimentSettings With(double lr, double headLr) => Tiny(output) with { Methods = new[] { "VANILLA" }, WarmStartEpochs = 0, Plots = false, LearningRate = lr, HeadLearningRate = headLr };
            double Score(ExperimentSettings s) => TextExperiment.Run(task, s, Quiet()).Trials.Single().Overall;
            double baseline = Score(With(1e-4, 1e-3));
            Assert.Equal(baseline, Score(With(1e-4, 1e-3)));
            // Each rate reaches its own parameters: changing either one alone changes the trained model.
            Assert.NotEqual(baseline, Score(With(1e-4, 0.2)));
            Assert.NotEqual(baseline, Score(With(0.05, 1e-3)));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public void FrozenEncoderRunReadsItsFeaturesBackFromTheCacheAndTracesEveryEpoch()
    {
        var train = Reviews(0).Concat(Reviews(100)).ToArray();
        var test = Reviews(200);
        var task = new TextTask<Review>("tiny frozen", train, test, CoLaSlices.Create(), (tok, r, max) => tok.Encode(r.Text, max), r => r.Label, SliceLearning.Evaluation.Metric.Mcc);
        var root = Path.Combine(Path.GetTempPath(), "text-frozen-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var settings = Tiny(Path.Combine(root, "out")) with
            {
                TopLayers = 0, Epochs = 2, Methods = new[] { "VANILLA", "MoE", "SRAM" }, FeatureCacheDirectory = Path.Combine(root, "cache"), TraceEpochs = true,
                SramOptions = new[] { "ExpertSize=16" },
            };
            var first = TextExperiment.Run(task, settings, Quiet());
            // train, validation and test: pooled [N, 384] each.
            Assert.Equal(3, Directory.GetFiles(settings.FeatureCacheDirectory!).Length);
            var second = TextExperiment.Run(task, settings, Quiet());
            Assert.Equal(first.Trials.Select(t => t.Overall), second.Trials.Select(t => t.Overall));
            Assert.All(first.Trials, t => Assert.Equal(new[] { 1, 2 }, t.Trace.Select(e => e.Epoch)));
            Assert.All(first.Trials, t => Assert.Equal(t.Method == "SRAM", t.Trace.All(e => e.Sram is not null)));
            // ExpertSize=16 reached the model: 17 experts of 384 x 16 (+ bias) instead of 384 x 384.
            long sramParameters = first.Trials.Single(t => t.Method == "SRAM").Parameters;
            Assert.Equal(384 * 17 + 17 + 17 * 384 * 16 + 17 * 16 + 2 * (16 * 2 + 2) + 16, sramParameters);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
