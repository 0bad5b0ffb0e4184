namespace TinyGrad.Tests.Data;

using System.Text.RegularExpressions;
using TinyGrad.Analysis;
using TinyGrad.Data;

public sealed class SyntheticCorpusTests : IDisposable
{
    // The default corpus is generated once: several tests look at it, and it is the one WordLM trains on.
    private static readonly Lazy<SyntheticCorpus> Default = new(() => SyntheticCorpus.Generate(seed: 1));
    private static readonly Lazy<SyntheticCorpus> Small = new(() => SyntheticCorpus.Generate(seed: 7, vocabSize: 300, trainTokens: 20_000, validTokens: 5_000, testTokens: 5_000));

    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-synthetic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string[] Text(SyntheticCorpus c, int[] split) => [.. split.Select(t => c.Vocabulary[t])];

    [Fact]
    public void The_same_seed_gives_the_same_corpus_and_different_seeds_differ()
    {
        var a = SyntheticCorpus.Generate(42, vocabSize: 200, trainTokens: 5_000, validTokens: 1_000, testTokens: 1_000);
        var b = SyntheticCorpus.Generate(42, vocabSize: 200, trainTokens: 5_000, validTokens: 1_000, testTokens: 1_000);
        var c = SyntheticCorpus.Generate(43, vocabSize: 200, trainTokens: 5_000, validTokens: 1_000, testTokens: 1_000);
        Assert.Equal(a.Vocabulary.Words, b.Vocabulary.Words);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Valid, b.Valid);
        Assert.Equal(a.Test, b.Test);
        Assert.Equal(a.EntropyRate, b.EntropyRate);
        Assert.Equal(a.TransitionLogProbs(), b.TransitionLogProbs());
        Assert.NotEqual(a.Vocabulary.Words, c.Vocabulary.Words);
        Assert.NotEqual(Text(a, a.Train), Text(c, c.Train));
        Assert.NotEqual(a.EntropyRate, c.EntropyRate);
    }

    [Fact]
    public void A_longer_training_split_changes_neither_the_language_nor_the_other_splits_text()
    {
        var a = SyntheticCorpus.Generate(5, vocabSize: 100, trainTokens: 2_000, validTokens: 1_000, testTokens: 1_000);
        var b = SyntheticCorpus.Generate(5, vocabSize: 100, trainTokens: 3_000, validTokens: 1_000, testTokens: 1_000);
        Assert.Equal(Text(a, a.Valid), Text(b, b.Valid));
        Assert.Equal(Text(a, a.Test), Text(b, b.Test));
        Assert.Equal(a.EntropyRate, b.EntropyRate, 12);
        Assert.Equal(Text(a, a.Train), Text(b, b.Train)[..a.Train.Length]);
    }

    [Fact]
    public void Splits_are_whole_sentences_of_at_least_the_requested_length()
    {
        var c = Default.Value;
        Assert.Equal(1000, c.VocabSize);
        Assert.Equal(1000, c.Vocabulary.Count);
        Assert.Equal(Vocabulary.Eos, c.Vocabulary[c.EosId]);
        foreach (var (split, min) in new[] { (c.Train, 200_000), (c.Valid, 20_000), (c.Test, 20_000) })
        {
            Assert.InRange(split.Length, min, min + 2_000);
            Assert.Equal(c.EosId, split[^1]);
            Assert.All(split, t => Assert.InRange(t, 0, c.VocabSize - 1));
        }
        // Sentences have PTB-like lengths (meanSentenceLength 20), not the V/m ≈ 250 of an unshaped chain.
        double sentences = c.Train.Count(t => t == c.EosId);
        Assert.InRange(c.Train.Length / sentences, 12, 30);
    }

    [Fact]
    public void Rows_of_P_sum_to_one_and_every_log_probability_is_finite()
    {
        foreach (var c in new[] { Small.Value, SyntheticCorpus.Generate(3, vocabSize: 2, successors: 1, trainTokens: 100, validTokens: 10, testTokens: 10) })
        {
            int v = c.VocabSize;
            var p = c.TransitionProbabilities();
            var logP = c.TransitionLogProbs();
            for (int i = 0; i < v; i++)
            {
                double sum = 0;
                for (int j = 0; j < v; j++) sum += p[i * v + j];
                Assert.Equal(1.0, sum, 1e-12);
            }
            Assert.All(logP, x => Assert.True(double.IsFinite(x) && x < 0));
            Assert.Equal(Math.Log(p[5 % v]), c.LogProbability(0, 5 % v), 1e-14);
        }
    }

    [Fact]
    public void The_stationary_distribution_is_stationary()
    {
        var c = Small.Value;
        int v = c.VocabSize;
        var p = c.TransitionProbabilities();
        var pi = c.Stationary.ToArray();
        Assert.Equal(1.0, pi.Sum(), 1e-12);
        Assert.All(pi, x => Assert.True(x > 0));
        for (int j = 0; j < v; j++)
        {
            double pj = 0;
            for (int i = 0; i < v; i++) pj += pi[i] * p[i * v + j];
            Assert.Equal(pi[j], pj, 1e-13);
        }
    }

    [Fact]
    public void The_entropy_rate_matches_a_dense_computation_and_the_optimum_is_its_exponential()
    {
        var c = Small.Value;
        int v = c.VocabSize;
        var p = c.TransitionProbabilities();
        double h = 0;
        for (int i = 0; i < v; i++)
            for (int j = 0; j < v; j++) h -= c.Stationary[i] * p[i * v + j] * Math.Log(p[i * v + j]);
        Assert.Equal(h, c.EntropyRate, 1e-12);
        Assert.Equal(Math.Exp(h), c.OptimumPerplexity, 1e-9);
    }

    [Fact]
    public void The_true_models_loss_on_the_samples_agrees_with_the_entropy_rate()
    {
        // Law of large numbers: if the sampler and the entropy disagreed (a wrong mixture, a wrong π), the true
        // model's loss on 20k sampled tokens would miss H. Its standard error here is well under 1%.
        var c = Default.Value;
        Assert.InRange(c.TrueModelLoss(c.Test) / c.EntropyRate, 0.97, 1.03);
        Assert.InRange(c.TrueModelLoss(c.Valid) / c.EntropyRate, 0.97, 1.03);
        Assert.InRange(c.TrueModelLoss(c.Train) / c.EntropyRate, 0.99, 1.01);
        // The default source is the sparse m = 4 one of the field notes (optimum there 3.69): a few nats of
        // smoothing aside, about four plausible next words.
        Assert.InRange(c.OptimumPerplexity, 3, 5);
    }

    [Fact]
    public void Words_are_unique_pronounceable_and_letters_only()
    {
        var c = SyntheticCorpus.Generate(11, vocabSize: SyntheticCorpus.MaxVocabSize, trainTokens: 10, validTokens: 10, testTokens: 10);
        var words = c.Vocabulary.Words.Where(w => w != Vocabulary.Eos).ToArray();
        Assert.Equal(c.VocabSize - 1, words.Length);
        Assert.Equal(words.Length, words.Distinct(StringComparer.Ordinal).Count());
        var syllables = new Regex("^(?:[bdfgklmnprstvz][aeiou]){2,4}$");
        Assert.All(words, w => Assert.Matches(syllables, w));
    }

    [Fact]
    public void Written_files_read_back_to_the_same_vocabulary_and_ids()
    {
        var c = Small.Value;
        c.WriteTo(_dir);
        string[] paths = [.. new[] { "train.txt", "valid.txt", "test.txt" }.Select(n => Path.Combine(_dir, n))];
        Assert.DoesNotContain(Vocabulary.Eos, File.ReadAllText(paths[0]));
        // Ids follow first appearance, so the vocabulary WordLM builds from the files is the corpus's own.
        var built = TextCorpus.BuildVocabulary(paths);
        Assert.Equal(c.Vocabulary.Words, built.Words);
        Assert.Equal(c.Train, TextCorpus.Tokenize(paths[0], built));
        Assert.Equal(c.Valid, TextCorpus.Tokenize(paths[1], built));
        Assert.Equal(c.Test, TextCorpus.Tokenize(paths[2], c.Vocabulary));

        // A corpus too short to use every word: the unused ones come last, so the ids still agree.
        var tiny = SyntheticCorpus.Generate(7, vocabSize: 300, trainTokens: 200, validTokens: 50, testTokens: 50);
        tiny.WriteTo(_dir);
        var partial = TextCorpus.BuildVocabulary(paths);
        Assert.InRange(partial.Count, 2, 299);
        Assert.Equal(tiny.Vocabulary.Words.Take(partial.Count), partial.Words);
        Assert.Equal(tiny.Train, TextCorpus.Tokenize(paths[0], partial));
    }

    [Fact]
    public void The_true_log_probability_matrix_has_high_rank()
    {
        // The point of the corpus: a softmax head of width d reaches rank d + 2 at most, the truth is near V.
        var c = Small.Value;
        var rank = NumericalRank.Of(c.TransitionLogProbs(), c.VocabSize, c.VocabSize);
        Assert.True(rank.Rank > c.VocabSize * 9 / 10, rank.ToString());
    }

    [Fact]
    public void Bad_arguments_are_clear_errors_naming_the_parameter_and_value()
    {
        void Check(string name, string value, Action act)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(act);
            Assert.Equal(name, e.ParamName);
            Assert.Contains(value, e.Message);
        }
        Check("vocabSize", "1", () => SyntheticCorpus.Generate(1, vocabSize: 1));
        Check("vocabSize", "5001", () => SyntheticCorpus.Generate(1, vocabSize: 5001));
        Check("trainTokens", "0", () => SyntheticCorpus.Generate(1, trainTokens: 0));
        Check("testTokens", "-3", () => SyntheticCorpus.Generate(1, testTokens: -3));
        Check("successors", "10", () => SyntheticCorpus.Generate(1, vocabSize: 10, successors: 10));
        Check("smoothing", "0", () => SyntheticCorpus.Generate(1, smoothing: 0));
        Check("smoothing", "NaN", () => SyntheticCorpus.Generate(1, smoothing: double.NaN));
        Check("meanSentenceLength", "1", () => SyntheticCorpus.Generate(1, meanSentenceLength: 1));
        Check("next", "300", () => Small.Value.Probability(0, 300));
    }

    [Fact]
    public void Unigram_log_frequencies_are_a_smoothed_distribution_of_the_counts()
    {
        var f = Unigram.LogFrequencies([0, 0, 0, 1], vocabSize: 3, pseudoCount: 0.1);
        Assert.Equal(Math.Log(3.1 / 4.3), f[0], 1e-6);
        Assert.Equal(Math.Log(1.1 / 4.3), f[1], 1e-6);
        Assert.Equal(Math.Log(0.1 / 4.3), f[2], 1e-6);
        var c = Default.Value;
        var bias = Unigram.LogFrequencies(c.Train, c.VocabSize);
        Assert.Equal(1.0, bias.Sum(x => Math.Exp(x)), 1e-5);
        Assert.Equal(bias.Max(), bias[c.EosId]); // about one token in twenty ends a sentence
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Unigram.LogFrequencies([0, 3], vocabSize: 3));
        Assert.Contains("position 1", e.Message);
    }
}
