namespace TinyGrad.Tests.WordLM;

using System.Text.Json;

// The trainer's command-line contract: bad input is exit code 2 with one line, a short run works end to end.
[Collection("WordLM")]
public sealed class CommandLineTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-wordlm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--head", "gpt")]
    [InlineData("--emsize", "-3")]
    [InlineData("--dropout", "1.5")]
    [InlineData("--optimizer", "lbfgs")]
    [InlineData("--no-such-option", "1")]
    public void Invalid_options_exit_with_code_2(string option, string value)
    {
        Assert.Equal(2, global::WordLM.Program.Main(["train", option, value]));
    }

    [Fact]
    public void Experts_with_a_softmax_head_is_rejected()
    {
        Assert.Equal(2, global::WordLM.Program.Main(["--head", "softmax", "--experts", "4", "--max-steps", "1"]));
    }

    [Fact]
    public void Missing_data_folder_is_rejected()
    {
        Assert.Equal(2, global::WordLM.Program.Main(["--data", Path.Combine(_dir, "nope")]));
    }

    [Fact]
    public void Cuda_without_a_gpu_is_rejected()
    {
        Assert.Equal(2, global::WordLM.Program.Main(["--device", "cuda", "--max-steps", "1"]));
    }

    [Fact]
    public void A_short_run_trains_saves_and_evaluates()
    {
        // A small synthetic corpus written as text exercises --data, --save, --metrics-json and eval together.
        string data = fixture.Directory;
        string model = Path.Combine(_dir, "m.safetensors"), metrics = Path.Combine(_dir, "train.json"), evalMetrics = Path.Combine(_dir, "eval.json");
        int code = global::WordLM.Program.Main(["train", "--data", data, "--head", "moss", "--experts", "2", "--emsize", "8", "--nhid", "16",
            "--epochs", "2", "--batch-size", "8", "--bptt", "10", "--log-interval", "1000", "--save", model, "--metrics-json", metrics]);
        Assert.Equal(0, code);
        using var train = JsonDocument.Parse(File.ReadAllText(metrics));
        foreach (var key in new[] { "head", "parameters", "steps", "seconds", "tokens_per_second", "train_ppl", "valid_ppl", "test_ppl" })
            Assert.True(train.RootElement.TryGetProperty(key, out _), $"metrics lack '{key}'");
        double testPpl = train.RootElement.GetProperty("test_ppl").GetDouble();
        Assert.InRange(testPpl, 1.0, 60.0); // better than uniform over 60 words
        // "config" carries the run's whole setting, by name, so that a results row can be rerun from it.
        var config = train.RootElement.GetProperty("config");
        Assert.Equal("moss", config.GetProperty("head").GetString());
        Assert.Equal(2, config.GetProperty("experts").GetInt32());
        Assert.Equal(8, config.GetProperty("emsize").GetInt32());
        Assert.Equal(16, config.GetProperty("nhid").GetInt32());
        Assert.Equal(2, config.GetProperty("epochs").GetInt32());
        Assert.Equal(8, config.GetProperty("batch_size").GetInt32());
        Assert.Equal(10, config.GetProperty("bptt").GetInt32());
        Assert.Equal(1, config.GetProperty("test_batch_size").GetInt32());
        Assert.Equal("adam", config.GetProperty("optimizer").GetString());
        Assert.Equal(data, config.GetProperty("data").GetString());
        Assert.Equal(1UL, config.GetProperty("seed").GetUInt64());

        Assert.Equal(0, global::WordLM.Program.Main(["eval", "--checkpoint", model, "--data", data, "--metrics-json", evalMetrics]));
        using var eval = JsonDocument.Parse(File.ReadAllText(evalMetrics));
        // eval scores the saved (best) model with the same protocol the trainer used for its test figure.
        Assert.Equal(testPpl, eval.RootElement.GetProperty("ppl").GetDouble(), 6);
    }
}
