// RTE-style slice-based learning on real sentences: premise/hypothesis pairs built from fine-food review
// sentences by documented rule-based transformations (TextSamples.PairGenerator: modifier and clause
// deletion, contraction expansion, "at least n" and all -> some give entailment; negation insertion and
// removal, comparative/antonym/number/temporal/with-without/quantifier swaps and unrelated sentences
// give not-entailment), the paper's RTE SFs (appendix A1.4), pretrained MiniLM fine-tuned on the
// [CLS] premise [SEP] hypothesis [SEP] encoding as VANILLA, HPS, MANUAL, MoE and SRAM. Metric: F1
// (entailment = positive class), as the paper reports for RTE.
//
//   bash scripts/get-data.sh modeldata
//   dotnet run -c Release --project samples/PairSlices               # quick: one seed
//   dotnet run -c Release --project samples/PairSlices -- --full     # 5 seeds, the paper's protocol
using SliceLearning.Evaluation;
using TextSamples;

return SampleCli.Main(args, "PairSlices",
    "RTE-style slices on sentence pairs from fine-food reviews: MiniLM fine-tuned as VANILLA, HPS, MANUAL, MoE and SRAM (F1, paper Table 1 shape).",
    "pair-slices-results",
    (settings, data) =>
    {
        var (trainReviews, testReviews) = FineFoods.Load(data);
        var (train, test) = PairData.Build(trainReviews, testReviews, settings.TrainLimit ?? PairData.DefaultTrain, settings.TestLimit ?? PairData.DefaultTest);
        var task = new TextTask<SentencePair>("PairSlices (review sentence pairs, RTE SFs)", train, test, RteSlices.Create(),
            (tokenizer, p, max) => tokenizer.EncodePair(p.Premise.Text, p.Hypothesis.Text, max), p => p.Label, Metric.F1);
        Spectre.Console.AnsiConsole.MarkupLine(PairData.Describe(train, test));
        return TextExperiment.Run(task, settings with { TrainLimit = null, TestLimit = null }, Spectre.Console.AnsiConsole.Console);
    });
