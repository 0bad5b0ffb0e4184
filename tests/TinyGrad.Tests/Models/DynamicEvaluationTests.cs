namespace TinyGrad.Tests.Models;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

// Dynamic evaluation (Krause et al. 2018; MoS's dynamiceval.py): scores each window before adapting to it.
public class DynamicEvaluationTests
{
    private static readonly SyntheticCorpus Corpus = SyntheticCorpus.Generate(11, vocabSize: 60, trainTokens: 6_000, validTokens: 600, testTokens: 900);

    private static WordLM TrainedModel(HeadKind head = HeadKind.Sigsoftmax)
    {
        var config = new WordLMConfig(Corpus.VocabSize, 8, 16, 2, head, head is HeadKind.Mos or HeadKind.Moss ? 2 : 1);
        return new LanguageModelTrainer(config, TokenSplits.From(Corpus), new TrainingOptions { Epochs = 1, MaxSteps = 60, BatchSize = 8, Bptt = 10 }).Fit().Model;
    }

    [Fact]
    public void With_a_learning_rate_of_zero_it_is_the_static_score_at_batch_size_1()
    {
        var model = TrainedModel();
        var stat = Evaluation.Evaluate(model, Corpus.Test, batchSize: 1, bptt: 35);
        var dyn = DynamicEvaluation.Evaluate(model, Corpus.Train, Corpus.Test, new DynamicEvaluationOptions { Lr = 0f, StatsMaxBatches = 5 });
        Assert.Equal(stat.Tokens, dyn.Result.Tokens);
        Assert.Equal(stat.Loss, dyn.Result.Loss, 5);
    }

    [Theory]
    [InlineData(HeadKind.Sigsoftmax)]
    [InlineData(HeadKind.Moss)]
    public void Adapting_to_the_test_stream_lowers_the_perplexity_and_leaves_the_weights_as_they_were(HeadKind head)
    {
        var model = TrainedModel(head);
        var before = model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
        var stat = Evaluation.Evaluate(model, Corpus.Test, batchSize: 1);
        var dyn = DynamicEvaluation.Evaluate(model, Corpus.Train, Corpus.Test, new DynamicEvaluationOptions { StatsBatchSize = 10 });
        Assert.True(dyn.Result.Perplexity < stat.Perplexity, $"{head}: dynamic {dyn.Result.Perplexity:F3} vs static {stat.Perplexity:F3}");
        foreach (var (name, value) in model.StateDict()) Assert.Equal(before[name], value.ToArray());
        Assert.Equal(stat.Perplexity, Evaluation.Evaluate(model, Corpus.Test, batchSize: 1).Perplexity); // the model is the trained one again
    }

    [Fact]
    public void The_fused_update_is_the_composed_one_bit_for_bit()
    {
        // The definition, W + (λ·d·(W₀ − W) − η·∇/(RMS + ε)) in tensor ops, against the one-pass kernel Adapt runs.
        var rng = new Generator(3);
        int[] shape = [37, 29];
        var (w, g, w0) = (Tensor.Randn(shape, rng), Tensor.Randn(shape, rng), Tensor.Randn(shape, rng));
        var decay = Tensor.Rand(shape, rng);
        var rms = Tensor.Rand(shape, rng) * 0.1f;
        var o = new DynamicEvaluationOptions { Lr = 0.01f, Lambda = 0.1f };
        var want = DynamicEvaluation.UpdateComposed(w, g, w0, decay, rms, o).ToArray();
        var fused = w.Clone();
        var (pull, denom) = DynamicEvaluation.UpdateFactors(decay, rms, o);
        fused.Backend.Optimizer().DynamicEvaluationStep(fused.Storage, g.Storage, w0.Storage, pull.Storage, denom.Storage, fused.Numel, o.Lr);
        Assert.Equal(want, fused.ToArray());
        Assert.NotEqual(w.ToArray(), want); // negative control: the update changed the weights
    }

    [Fact]
    public void Scoring_never_looks_ahead()
    {
        // Two test streams share their first 40 words and then differ: every window that ends inside the shared part
        // (targets included) scores the same, however different what follows is.
        var model = TrainedModel();
        var rng = new Random(2);
        int[] a = [.. Corpus.Test.Take(120)];
        int[] b = [.. a.Take(40), .. Enumerable.Range(0, 80).Select(_ => rng.Next(Corpus.VocabSize))];
        var o = new DynamicEvaluationOptions { Lr = 0.05f, StatsMaxBatches = 5 };
        var la = DynamicEvaluation.Evaluate(model, Corpus.Train, a, o).WindowLosses;
        var lb = DynamicEvaluation.Evaluate(model, Corpus.Train, b, o).WindowLosses;
        // Window k predicts words 5k+1 … 5k+5: inside the shared 40 words for k ≤ 6.
        for (int k = 0; k <= 6; k++) Assert.Equal(la[k], lb[k]);
        Assert.NotEqual(la[8], lb[8]); // negative control: after the fork they differ
    }
}
