namespace TinyGrad.Tests.WordLM;

using System.Text.Json;

// compare: several heads, one settings line; a metrics list with one train object per head; bad --heads is exit 2.
[Collection("WordLM")]
public sealed class CompareCommandTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-wordlm-compare-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Compare_trains_each_head_and_writes_a_metrics_list()
    {
        string metrics = Path.Combine(_dir, "compare.json"), save = Path.Combine(_dir, "m.safetensors");
        var (code, stdout, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["compare", "--data", fixture.Directory,
            "--heads", "softmax,sigsoftmax", "--max-steps", "3", "--emsize", "4", "--nhid", "8", "--batch-size", "8", "--bptt", "10",
            "--log-interval", "1000", "--save", save, "--metrics-json", metrics]));
        Assert.True(code == 0, stderr);

        using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
        var runs = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(["softmax", "sigsoftmax"], runs.Select(r => r.GetProperty("head").GetString()));
        foreach (var run in runs)
        {
            foreach (var key in new[] { "parameters", "steps", "seconds", "tokens_per_second", "train_ppl", "valid_ppl", "test_ppl", "rank" })
                Assert.True(run.TryGetProperty(key, out _), $"metrics lack '{key}'");
            Assert.Equal(3, run.GetProperty("steps").GetInt64());
        }
        Assert.InRange(runs[0].GetProperty("rank").GetInt32(), 1, 6); // softmax, d = 4
        Assert.True(File.Exists(Path.Combine(_dir, "m.softmax.safetensors")));
        Assert.True(File.Exists(Path.Combine(_dir, "m.sigsoftmax.safetensors")));
        Assert.Contains("| sigsoftmax ", stdout, StringComparison.Ordinal); // the table
    }

    [Theory]
    [InlineData("softmax,gpt")]
    [InlineData("softmax,softmax")]
    [InlineData(",")]
    public void Compare_rejects_bad_heads(string heads)
    {
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["compare", "--heads", heads, "--max-steps", "1"]));
        Assert.Equal(2, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Compare_has_no_single_head_option()
    {
        var (code, _, _) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["compare", "--head", "softmax", "--max-steps", "1"]));
        Assert.Equal(2, code);
    }
}
