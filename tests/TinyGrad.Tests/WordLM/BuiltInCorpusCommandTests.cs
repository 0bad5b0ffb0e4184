namespace TinyGrad.Tests.WordLM;

using global::WordLM;

// The newcomer's path: the no-argument run trains on the built-in corpus and saves a model; eval and rank with no
// --data then score that same corpus, so the README's next commands work on it straight away.
[Collection("WordLM")]
public sealed class BuiltInCorpusCommandTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-builtin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Eval_and_rank_without_data_score_the_built_in_corpus()
    {
        string model = Path.Combine(_dir, "m.safetensors");
        var train = ConsoleCapture.Run(() => Program.Main(["train", "--emsize", "8", "--nhid", "16", "--epochs", "1", "--max-steps", "3",
            "--log-interval", "1000", "--save", model]));
        Assert.Equal(0, train.Code);
        Assert.Contains($"next: generate --checkpoint {model}", train.Stdout);

        var eval = ConsoleCapture.Run(() => Program.Main(["eval", "--checkpoint", model]));
        Assert.Equal(0, eval.Code);
        Assert.Matches("test ppl [0-9.]+", eval.Stdout);

        var rank = ConsoleCapture.Run(() => Program.Main(["rank", "--checkpoint", model, "--contexts", "40"]));
        Assert.Equal(0, rank.Code);
        Assert.Contains("rank of log P", rank.Stdout);
    }

    [Fact]
    public void A_model_of_another_corpus_is_refused_in_one_line()
    {
        var (code, _, stderr) = ConsoleCapture.Run(() => Program.Main(["eval", "--checkpoint", fixture.Softmax]));
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("was not trained on the built-in corpus", line);
    }
}
