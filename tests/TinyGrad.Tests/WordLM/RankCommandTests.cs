namespace TinyGrad.Tests.WordLM;

using System.Text.Json;

// rank: a softmax head cannot exceed d + 2; sigsoftmax can (the paper's claim, on tiny models: d = 4, V = 60).
[Collection("WordLM")]
public sealed class RankCommandTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-wordlm-rank-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private JsonElement Rank(string checkpoint)
    {
        string metrics = Path.Combine(_dir, "rank.json");
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["rank", "--checkpoint", checkpoint, "--test", Path.Combine(fixture.Directory, "test.txt"), "--metrics-json", metrics]));
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Softmax_rank_is_at_most_d_plus_2()
    {
        var json = Rank(fixture.Softmax);
        Assert.Equal(6, json.GetProperty("bound").GetInt32()); // d = emsize = 4
        Assert.InRange(json.GetProperty("rank").GetInt32(), 1, 6);
        Assert.Equal(60, json.GetProperty("vocab").GetInt32());
        // The test split is shorter than the default 2,000 contexts: every predicted position is used.
        Assert.Equal(fixture.Corpus.Test.Length - 1, json.GetProperty("contexts").GetInt32());
    }

    [Fact]
    public void Sigsoftmax_rank_exceeds_d_plus_2()
    {
        var json = Rank(fixture.Sigsoftmax);
        Assert.Equal(6, json.GetProperty("bound").GetInt32());
        Assert.True(json.GetProperty("rank").GetInt32() > 6, $"rank {json.GetProperty("rank").GetInt32()}");
    }

    [Fact]
    public void Rank_takes_the_first_n_contexts()
    {
        string metrics = Path.Combine(_dir, "rank.json");
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["rank", "--checkpoint", fixture.Softmax, "--data", fixture.Directory, "--contexts", "100", "--metrics-json", metrics]));
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(100, doc.RootElement.GetProperty("contexts").GetInt32());
    }

    [Fact]
    public void Rank_rejects_zero_contexts()
    {
        var (code, _, _) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["rank", "--checkpoint", fixture.Softmax, "--data", fixture.Directory, "--contexts", "0"]));
        Assert.Equal(2, code);
    }

    [Fact]
    public void Rank_needs_exactly_one_of_data_and_test()
    {
        string test = Path.Combine(fixture.Directory, "test.txt");
        var (both, _, _) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["rank", "--checkpoint", fixture.Softmax, "--data", fixture.Directory, "--test", test]));
        var (neither, _, _) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["rank", "--checkpoint", fixture.Softmax]));
        Assert.Equal(2, both);
        Assert.Equal(2, neither);
    }
}
