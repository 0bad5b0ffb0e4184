namespace TinyGrad.Tests.Training;

using System.Text.Json;
using TinyGrad;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

// The AWD-LSTM / MoS protocol, point by point: NT-ASGD's trigger, MoS's dropoutl, and starting from given weights.
public class ProtocolParityTests
{
    private static readonly SyntheticCorpus Corpus = SyntheticCorpus.Generate(3, vocabSize: 40, trainTokens: 2_000, validTokens: 400, testTokens: 400);

    private sealed record Case(string Name, double[] Losses, int NonMono, int? SwitchEpoch);

    private static IEnumerable<Case> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "ntasgd.json")));
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            yield return new Case(c.GetProperty("name").GetString()!, [.. c.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble())],
                c.GetProperty("nonmono").GetInt32(), c.GetProperty("switch_epoch").ValueKind == JsonValueKind.Null ? null : c.GetProperty("switch_epoch").GetInt32());
        }
    }

    private sealed class SwitchRecorder : TrainingCallbacks
    {
        public int? SwitchedAt { get; private set; }

        public override void OnSwitchToAveraging(int epoch, int nonMono) => SwitchedAt ??= epoch;
    }

    [Fact]
    public void Nt_asgd_switches_at_the_epoch_awd_lstms_loop_does()
    {
        // tests/fixtures/make_ntasgd_fixture.py runs a transcription of AWD's main.py on the same validation sequences.
        var cases = Cases().ToList();
        Assert.True(cases.Count >= 20);
        Assert.Contains(cases, c => c.SwitchEpoch is null);
        Assert.Contains(cases, c => c.SwitchEpoch is not null);
        var config = new WordLMConfig(Corpus.VocabSize, 4, 4, 1, HeadKind.Softmax);
        foreach (var c in cases)
        {
            var recorder = new SwitchRecorder();
            var options = new TrainingOptions { Optimizer = "asgd", Lr = 1f, NonMono = c.NonMono, Epochs = c.Losses.Length, When = [] };
            var trainer = new LanguageModelTrainer(config, TokenSplits.From(Corpus), options, recorder);
            for (int e = 0; e < c.Losses.Length; e++)
                trainer.EndEpoch(new EpochInfo(e + 1, 0, c.Losses[e], Math.Exp(c.Losses[e]), false));
            Assert.True(c.SwitchEpoch == recorder.SwitchedAt, $"{c.Name}: AWD switches at {c.SwitchEpoch?.ToString() ?? "never"}, we at {recorder.SwitchedAt?.ToString() ?? "never"}");
        }
    }

    [Fact]
    public void Appending_before_the_check_would_fire_one_epoch_early()
    {
        // Negative control: the order this project used before (append, then compare) disagrees with AWD on the fixture.
        static int? AppendFirst(double[] losses, int nonMono)
        {
            var history = new List<double>();
            for (int e = 0; e < losses.Length; e++)
            {
                history.Add(losses[e]);
                if (history.Count > nonMono && losses[e] > history.Take(history.Count - nonMono).Min()) return e + 1;
            }
            return null;
        }
        Assert.Contains(Cases(), c => AppendFirst(c.Losses, c.NonMono) != c.SwitchEpoch);
        Assert.All(Cases(), c => Assert.Equal(c.SwitchEpoch, Replay(c)));

        static int? Replay(Case c)
        {
            var history = new List<double>();
            for (int e = 0; e < c.Losses.Length; e++)
            {
                if (NtAsgd.ShouldSwitch(history, c.Losses[e], c.NonMono)) return e + 1;
                history.Add(c.Losses[e]);
            }
            return null;
        }
    }

    [Theory]
    [InlineData(HeadKind.Mos)]
    [InlineData(HeadKind.Moss)]
    public void Dropoutl_is_a_mask_locked_over_time_and_off_in_eval(HeadKind kind)
    {
        const int T = 6, B = 3, D = 5;
        var head = (MixtureHead)OutputHead.Create(kind, D, 11, new Generator(4), embeddingSize: 7, experts: 3);
        // Row t·B + b depends on b only, so without dropout every step of a stream has the same contexts.
        var rows = Tensor.Randn([B, D], new Generator(5)).ToArray();
        var hidden = Tensor.FromArray([.. Enumerable.Range(0, T * B).SelectMany(r => rows.Skip(r % B * D).Take(D))], T * B, D);
        using var _ = Autograd.NoGrad();
        var clean = head.Mix(hidden).Contexts.ToArray();
        head.LatentDropout = 0.5f;
        head.LatentDropoutStreams = B;
        var dropped = head.Mix(hidden).Contexts.ToArray();
        int width = 3 * 7; // K·E units per row
        int zeros = 0;
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                for (int u = 0; u < width; u++)
                {
                    float at = dropped[(t * B + b) * width + u], first = dropped[b * width + u], c = clean[(t * B + b) * width + u];
                    // Locked: the same unit of the same stream is dropped (or kept) at every step. (Equal rows at different
                    // positions of a GEMM may round differently by an ulp on some SIMD paths, so kept values are compared
                    // to a tolerance.)
                    Assert.Equal(first == 0f, at == 0f);
                    Assert.True(Math.Abs(at - first) <= 1e-6f * (1 + Math.Abs(first)), $"step {t}: {at} vs step 0: {first}");
                    Assert.True(at == 0f || Math.Abs(at - 2f * c) <= 1e-6f * (1 + Math.Abs(c)), $"{at} is neither 0 nor 2·{c}");
                    if (at == 0f && c != 0f) zeros++;
                }
            }
        }
        Assert.InRange(zeros, T * B * width / 5, T * B * width * 4 / 5); // about half the units
        head.Latent.Train(false);
        Assert.Equal(clean, head.Mix(hidden).Contexts.ToArray()); // off in eval
    }

    [Fact]
    public void Dropoutl_defaults_to_dropouth_for_the_mixtures()
    {
        var config = new WordLMConfig(Corpus.VocabSize, 4, 4, 2, HeadKind.Moss, experts: 2);
        var trainer = new LanguageModelTrainer(config, TokenSplits.From(Corpus), new TrainingOptions { DropoutH = 0.3f, Epochs = 1 });
        Assert.Equal(0.3f, trainer.Model.DropoutL);
        var explicitL = new LanguageModelTrainer(config, TokenSplits.From(Corpus), new TrainingOptions { DropoutH = 0.3f, DropoutL = 0.1f, Epochs = 1 });
        Assert.Equal(0.1f, explicitL.Model.DropoutL);
    }

    [Fact]
    public void A_run_started_with_init_starts_from_that_checkpoints_weights_and_refuses_another_model()
    {
        string dir = Directory.CreateTempSubdirectory("tinygrad-init-").FullName;
        try
        {
            var config = new WordLMConfig(Corpus.VocabSize, 6, 8, 2, HeadKind.Sigsoftmax);
            string saved = Path.Combine(dir, "first.safetensors");
            new LanguageModelTrainer(config, TokenSplits.From(Corpus), new TrainingOptions { Epochs = 1, MaxSteps = 5, BatchSize = 4, Bptt = 10, Save = saved }).Fit();
            var (reference, _) = WordLMCheckpoint.Load(saved);

            var started = new LanguageModelTrainer(config, TokenSplits.From(Corpus), new TrainingOptions { Epochs = 1, Init = saved, Seed = 99 });
            foreach (var (name, tensor) in reference.StateDict()) Assert.Equal(tensor.ToArray(), started.Model.StateDict()[name].ToArray());

            var other = new WordLMConfig(Corpus.VocabSize, 6, 12, 2, HeadKind.Sigsoftmax);
            var e = Assert.Throws<ArgumentException>(() => new LanguageModelTrainer(other, TokenSplits.From(Corpus), new TrainingOptions { Init = saved }));
            Assert.Contains("the checkpoint has --nhid 8, this run has --nhid 12", e.Message);

            // Fine-tuning: averaged SGD from the first step.
            var finetune = new LanguageModelTrainer(config, TokenSplits.From(Corpus),
                new TrainingOptions { Epochs = 1, MaxSteps = 3, BatchSize = 4, Bptt = 10, Init = saved, Optimizer = "asgd", Lr = 1f, AverageFromStart = true });
            Assert.True(finetune.Averaging);
            Assert.True(double.IsFinite(finetune.Fit().TestPerplexity));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
