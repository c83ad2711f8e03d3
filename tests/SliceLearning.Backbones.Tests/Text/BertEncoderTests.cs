using SliceLearning.Backbones.Text;
using SliceLearning.Runtime;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SliceLearning.Backbones.Tests.Text;

[Collection("Sequential")]
public sealed class BertEncoderTests
{
    private readonly ITestOutputHelper _output;

    public BertEncoderTests(ITestOutputHelper output)
    {
        _output = output;
        ComputeDevice.SetCpuThreads(1);
    }

    private static WordPieceTokenizer Tok => MiniLmParityTests.Tokenizer.Value;

    [Fact]
    public void MeanPooledEmbeddings_RankParaphraseAboveUnrelatedSentence()
    {
        var enc = MiniLmParityTests.SharedEncoder;
        enc.eval();
        Assert.Equal(384, enc.OutputWidth);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var input = Tok.EncodeBatch(new[]
        {
            "A cyclist crosses the road.", "A person on a bicycle is crossing the street.", "The stock market fell sharply today.",
        });
        var z = nn.functional.normalize(enc.call(input), dim: 1);
        Assert.Equal(new long[] { 3, 384 }, z.shape);
        double paraphrase = (z[0] * z[1]).sum().item<float>();
        double unrelated = (z[0] * z[2]).sum().item<float>();
        _output.WriteLine($"cos(paraphrase) = {paraphrase:F3}, cos(unrelated) = {unrelated:F3}");
        // all-MiniLM-L6-v2 via OnnxRuntime gives 0.82 and 0.02 on these sentences.
        Assert.InRange(paraphrase, 0.80, 0.84);
        Assert.InRange(unrelated, -0.02, 0.06);
    }

    [Fact]
    public void IdsOnlyInput_EqualsFullInputWithoutPadding()
    {
        var enc = MiniLmParityTests.SharedEncoder;
        enc.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var full = Tok.EncodeBatch(new[] { "A cyclist crosses the road." });
        var a = enc.call(full);
        var b = enc.call(full.select(1, 0));
        Assert.True(a.allclose(b, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Gradients_ReachEveryParameter()
    {
        torch.manual_seed(3);
        using var enc = new BertEncoder(new BertOptions { Layers = 2, HiddenSize = 32, AttentionHeads = 4, IntermediateSize = 64, VocabularySize = 30522, Pooling = BertPooling.Pooler });
        enc.train();
        using var scope = NewDisposeScope();
        var input = Tok.EncodeBatch(new[] { ("A cyclist crosses the road.", "Short."), ("Yes", "The stock market fell sharply today.") });
        enc.call(input).pow(2).sum().backward();
        var names = enc.named_parameters().ToList();
        Assert.Equal(2 * 16 + 5 + 2, names.Count); // 16 tensors per layer, 5 in the embeddings, 2 in the pooler
        foreach (var (name, p) in names)
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} has an all-zero gradient");
        }
    }

    [Fact]
    public void PretrainedMiniLm_FineTunes_LossDrops()
    {
        // Fine-tunes the shared pretrained encoder and puts its weights back afterwards.
        var enc = MiniLmParityTests.SharedEncoder;
        var snapshot = enc.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        try
        {
            torch.manual_seed(5);
            using var head = nn.Linear(384, 2);
            enc.train();
            string[] texts =
            {
                "I loved this film.", "What a wonderful day.", "The food was great.", "Best purchase ever.",
                "I hated this film.", "What a terrible day.", "The food was awful.", "Worst purchase ever.",
            };
            using var labels = tensor(new long[] { 1, 1, 1, 1, 0, 0, 0, 0 });
            using var input = Tok.EncodeBatch(texts);
            // All layers train; the 11.7 M-entry word embedding table is left out to keep the test fast.
            var parameters = enc.named_parameters().Where(p => p.name != "embeddings.word_embeddings.weight").Select(p => p.parameter)
                .Concat(head.parameters()).ToList();
            Assert.Equal(102 + 2, parameters.Count);
            using var opt = SliceLearning.Training.OptimizerOptions.AdamW(1e-4).CreateOptimizer(parameters);
            var losses = new List<float>();
            for (int step = 0; step < 5; step++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                var loss = nn.functional.cross_entropy(head.call(enc.call(input)), labels);
                loss.backward();
                opt.step();
                losses.Add(loss.item<float>());
            }
            _output.WriteLine("MiniLM fine-tuning losses: " + string.Join(" ", losses.Select(l => l.ToString("F4"))));
            // Seeded (head and dropout) and single-threaded: this run's losses. The first is near
            // ln 2 = 0.69, a random head on two balanced classes; the fifth is a fifth of it.
            float[] expected = { 0.67907643f, 0.53286636f, 0.41234273f, 0.2717941f, 0.14461055f };
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(losses[i] - expected[i]) <= 1e-5 * expected[i], $"step {i + 1}: loss {losses[i]:R}, expected {expected[i]:R}");
        }
        finally
        {
            using var noGrad = no_grad();
            foreach (var (name, t) in enc.state_dict()) t.copy_(snapshot[name]);
            foreach (var t in snapshot.Values) t.Dispose();
            enc.eval();
        }
    }

    [Fact]
    public void Options_AreValidatedWithNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => new BertEncoder(new BertOptions { HiddenSize = 100, AttentionHeads = 12, Dropout = 1.5 }));
        Assert.Contains("HiddenSize (100) must be a multiple of AttentionHeads (12)", ex.Message);
        Assert.Contains("Dropout must be in [0, 1), got 1.5", ex.Message);
    }

    [Fact]
    public void WrongInputShape_NamesTheExpectedLayouts()
    {
        using var enc = new BertEncoder(new BertOptions { Layers = 1, HiddenSize = 8, AttentionHeads = 2, IntermediateSize = 8, VocabularySize = 10 });
        using var bad = zeros(2, 4, 5, dtype: ScalarType.Int64);
        var ex = Assert.Throws<ArgumentException>(() => enc.call(bad));
        Assert.Contains("[B, 3, L] (ids, attention mask, token types) or [B, L] (ids), got [2, 4, 5]", ex.Message);
        using var floats = zeros(2, 5);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => enc.call(floats)).Message);
    }
}
