// CoLA-style slice-based learning on real text: the Amazon fine-food reviews (R modeldata's
// small_fine_foods, 4,000 train / 1,000 test, label great = 5 stars vs other), the paper's CoLA SFs
// (appendix A1.3) plus review slices, pretrained MiniLM fine-tuned as VANILLA, HPS, MANUAL, MoE and SRAM.
// Metric: Matthews correlation (MCC), as the paper reports for CoLA.
//
//   bash scripts/get-data.sh modeldata
//   dotnet run -c Release --project samples/TextSlices               # quick: one seed, a few minutes
//   dotnet run -c Release --project samples/TextSlices -- --full     # 5 seeds, the paper's protocol
using SliceLearning.Evaluation;
using TextSamples;

return SampleCli.Main(args, "TextSlices",
    "CoLA-style slices on fine-food reviews: MiniLM fine-tuned as VANILLA, HPS, MANUAL, MoE and SRAM (MCC, paper Table 1 shape).",
    "text-slices-results",
    (settings, data) =>
    {
        var (train, test) = FineFoods.Load(data);
        var task = new TextTask<Review>("TextSlices (fine-food reviews, CoLA SFs)", train, test, CoLaSlices.Create(),
            (tokenizer, r, max) => tokenizer.Encode(r.Text, max), r => r.Label, Metric.Mcc);
        return TextExperiment.Run(task, settings, Spectre.Console.AnsiConsole.Console);
    });
