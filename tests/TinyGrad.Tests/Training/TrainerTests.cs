namespace TinyGrad.Tests.Training;

using System.Text.Json;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.WordLM;
using TinyGrad.Training;

// The library's trainer, used from code as the README's "Training from code" shows, and held to the command line:
// the same options and seed give the same figures, bit for bit. In the WordLM collection, which owns the console.
[Collection("WordLM")]
public sealed class TrainerTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-trainer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The README's snippet, line for line; only the sizes are a toy's (a smaller corpus, emsize 8, nhid 16, 3 short epochs).
    private static (TrainingResult Result, SyntheticCorpus Corpus) ReadmeSnippet(string save)
    {
        var corpus = SyntheticCorpus.Generate(seed: 1, vocabSize: 50, trainTokens: 2000, validTokens: 500, testTokens: 500);
        var config = new WordLMConfig(corpus.VocabSize, emSize: 8, nHid: 16, nLayers: 1, head: HeadKind.Sigsoftmax);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 4, Bptt = 10, Save = save };
        var trainer = new LanguageModelTrainer(config, TokenSplits.From(corpus), options, new PrintEpochs());
        TrainingResult result = trainer.Fit();
        Console.WriteLine($"test ppl {result.TestPerplexity:F2}, optimum {corpus.OptimumPerplexity:F2}");
        return (result, corpus);
    }

    private sealed class PrintEpochs : TrainingCallbacks
    {
        public override void OnEpochEnd(EpochInfo e) => Console.WriteLine($"epoch {e.Epoch}: valid ppl {e.ValidPerplexity:F2}");
    }

    // The snippet's setup with a callback that records every event.
    private static List<string> Recorded() => Recorded(out _);

    private static List<string> Recorded(out int stepsPerEpoch)
    {
        var events = new List<string>();
        var corpus = SyntheticCorpus.Generate(seed: 1, vocabSize: 50, trainTokens: 2000, validTokens: 500, testTokens: 500);
        var config = new WordLMConfig(corpus.VocabSize, emSize: 8, nHid: 16, nLayers: 1, head: HeadKind.Sigsoftmax);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 4, Bptt = 10 };
        new LanguageModelTrainer(config, TokenSplits.From(corpus), options, new Recorder(events)).Fit();
        stepsPerEpoch = (corpus.Train.Length / 4 - 1 + 9) / 10; // windows of 10 over the rows of 4 streams, less the last
        return events;
    }

    [Fact]
    public void The_readme_snippet_trains_a_model_and_keeps_the_best_one()
    {
        string save = Path.Combine(_dir, "model.safetensors");
        TrainingResult result = null!;
        SyntheticCorpus corpus = null!;
        var (code, stdout, stderr) = ConsoleCapture.Run(() =>
        {
            (result, corpus) = ReadmeSnippet(save);
            return 0;
        });

        Assert.Equal("", stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        for (int e = 0; e < 3; e++) Assert.Equal($"epoch {e + 1}: valid ppl {Math.Exp(result.ValidLossByEpoch[e]):F2}", lines[e]);
        Assert.Equal($"test ppl {result.TestPerplexity:F2}, optimum {corpus.OptimumPerplexity:F2}", lines[3]);
        Assert.True(double.IsFinite(result.TestPerplexity) && result.TestPerplexity < corpus.VocabSize / 2, $"test ppl {result.TestPerplexity}");
        Assert.True(result.ValidLossByEpoch[^1] < result.ValidLossByEpoch[0], $"valid loss {string.Join(", ", result.ValidLossByEpoch)}");
        Assert.Equal(result.ValidLossByEpoch.Min(), result.BestValidLoss);
        Assert.Equal(save, result.SavedTo);
        Assert.True(File.Exists(save) && File.Exists(TrainingState.PathFor(save)));
        Assert.False(result.Model.Training);
    }

    [Fact]
    public void The_training_loss_decreases()
    {
        var losses = Recorded(out int perEpoch).Where(e => e.StartsWith("step ", StringComparison.Ordinal))
            .Select(e => double.Parse(e.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3 * perEpoch, losses.Count);
        Assert.True(losses.Take(10).Average() > losses.TakeLast(10).Average() + 0.1, $"loss {losses.Take(10).Average()} → {losses.TakeLast(10).Average()}");
    }

    [Fact]
    public void The_callbacks_fire_in_order()
    {
        var events = Recorded(out int perEpoch);

        Assert.Equal($"start {3 * perEpoch}", events[0]);
        // Per epoch: its steps numbered on from the last, then its validation; the default --when divides the
        // rate after epoch 3 − 1 = 2; the summary last.
        var expected = new List<string>();
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            expected.AddRange(Enumerable.Range(perEpoch * (epoch - 1) + 1, perEpoch).Select(s => $"step {epoch} {s}"));
            expected.Add($"epoch {epoch}");
            if (epoch == 2) expected.Add("lr 2 0.001");
        }
        expected.Add($"end {3 * perEpoch}");
        var shape = events.Skip(1).Select(e => e.StartsWith("step ", StringComparison.Ordinal) ? string.Join(' ', e.Split(' ')[..3]) : e).ToList();
        Assert.Equal(expected, shape);
    }

    [Fact]
    public void The_library_and_the_command_line_give_the_same_metrics_for_the_same_seed()
    {
        // The fixture's corpus written as text reads back to the same ids, so both see the very same streams. Dropout,
        // weight drop and variable windows draw from both random streams; at this rate validation at epoch 3 is worse
        // than at epoch 1, so NT-ASGD (AWD's trigger, nonmono 1) switches to averaging and epoch 4 is validated with the
        // averaged weights.
        string json = Path.Combine(_dir, "cli.json");
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["train", "--data", fixture.Directory, "--head", "moss",
            "--experts", "2", "--emsize", "8", "--nhid", "16", "--nlayers", "2", "--epochs", "4", "--batch-size", "8", "--bptt", "10",
            "--variable-bptt", "--dropout", "0.2", "--wdrop", "0.1", "--optimizer", "asgd", "--lr", "40", "--nonmono", "1", "--seed", "7",
            "--log-interval", "100000", "--metrics-json", json]));
        Assert.True(code == 0, stderr);
        var cli = JsonDocument.Parse(File.ReadAllText(json)).RootElement;

        var config = new WordLMConfig(fixture.Corpus.VocabSize, emSize: 8, nHid: 16, nLayers: 2, head: HeadKind.Moss, experts: 2);
        var options = new TrainingOptions
        {
            Epochs = 4,
            BatchSize = 8,
            Bptt = 10,
            VariableBptt = true,
            Dropout = 0.2f,
            WDrop = 0.1f,
            Optimizer = "asgd",
            Lr = 40f,
            NonMono = 1,
            Seed = 7,
        };
        var events = new List<string>();
        var result = new LanguageModelTrainer(config, TokenSplits.From(fixture.Corpus), options, new Recorder(events)).Fit();

        Assert.True(events.Contains("averaging 3"), string.Join(" ; ", events.Where(e => !e.StartsWith("step", StringComparison.Ordinal))));
        Assert.Equal(cli.GetProperty("steps").GetInt64(), result.Steps);
        Assert.Equal(cli.GetProperty("parameters").GetInt64(), result.Model.ParameterCount());
        Assert.Equal(cli.GetProperty("train_ppl").GetDouble(), result.TrainPerplexity);
        Assert.Equal(cli.GetProperty("valid_ppl").GetDouble(), result.BestValidPerplexity);
        Assert.Equal(cli.GetProperty("test_ppl").GetDouble(), result.TestPerplexity);
        Assert.Equal(cli.GetProperty("valid_ppl_by_epoch").EnumerateArray().Select(e => e.GetDouble()), result.ValidLossByEpoch.Select(Math.Exp));
    }

    // Records each event as a line ("step EPOCH STEP LOSS", "epoch N", ...), for the order test.
    private sealed class Recorder(List<string> events) : TrainingCallbacks
    {
        public override void OnFitStart(FitStartInfo info) => events.Add($"start {info.PlannedSteps}");
        public override void OnStep(StepInfo info) => events.Add(FormattableString.Invariant($"step {info.Epoch} {info.Step} {info.Loss}"));
        public override void OnEpochEnd(EpochInfo info) => events.Add($"epoch {info.Epoch}");
        public override void OnLearningRateChanged(int epoch, float learningRate) => events.Add(FormattableString.Invariant($"lr {epoch} {learningRate:G3}"));
        public override void OnSwitchToAveraging(int epoch, int nonMono) => events.Add($"averaging {epoch}");
        public override void OnEarlyStop(int epoch, int epochsSinceBest, int patience) => events.Add($"early stop {epoch}");
        public override void OnFitEnd(TrainingResult result) => events.Add($"end {result.Steps}");
    }
}
