namespace TinyGrad.Tests.WordLM;

using TinyGrad.Models;

// How the trainer fails: divergence stops at the first non-finite loss, names the step, keeps the last good
// checkpoint untouched and exits 1; bad input is one line on stderr and exit code 2.
[Collection("WordLM")]
public sealed class FailureModeTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-fail-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Train(string save, string lr, int epochs, int maxSteps = 30) =>
        ["train", "--data", fixture.Directory, "--head", "softmax", "--emsize", "8", "--nhid", "16", "--epochs", $"{epochs}",
         "--max-steps", $"{maxSteps}", "--batch-size", "8", "--bptt", "10", "--log-interval", "1000", "--lr", lr, "--save", save];

    [Fact]
    public void Divergence_stops_at_the_first_bad_step_and_keeps_the_last_good_checkpoint()
    {
        string model = Path.Combine(_dir, "m.safetensors"), state = model + ".state";
        Assert.Equal(0, ConsoleCapture.Run(() => global::WordLM.Program.Main(Train(model, "1", 1, maxSteps: 30))).Code);
        byte[] good = File.ReadAllBytes(model), goodState = File.ReadAllBytes(state);

        // Resume that run with an absurd learning rate (a resumed run takes it from the state, so it goes there):
        // step 31 is still finite, its update blows the weights up, step 32's loss is not.
        var saved = TinyGrad.Training.TrainingState.Load(state);
        saved.Optimizer.Scalars["lr"] = 1e30;
        string absurd = Path.Combine(_dir, "absurd.state");
        saved.Save(absurd);
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main([.. Train(model, "1", 2, maxSteps: 60), "--resume", absurd]));
        Assert.Equal(1, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // NaN on one SIMD path, a finite but absurd loss on another (Divergence's remarks): step 32 either way.
        Assert.Contains("training diverged at step 32 (loss ", line);
        Assert.Contains($"the last good model stays in {model}", line);
        Assert.Equal(good, File.ReadAllBytes(model));
        Assert.Equal(goodState, File.ReadAllBytes(state));
        Assert.Equal(0, ConsoleCapture.Run(() => global::WordLM.Program.Main(["eval", "--checkpoint", model, "--data", fixture.Directory])).Code);
    }

    [Fact]
    public void Divergence_before_any_save_does_not_claim_a_saved_model()
    {
        string model = Path.Combine(_dir, "never.safetensors");
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(Train(model, "1e30", 1)));
        Assert.Equal(1, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches("training diverged at step [0-9]+ ", line);
        Assert.DoesNotContain("last good model", line); // it used to point at a file that was never written
        Assert.False(File.Exists(model));
    }

    [Theory]
    [InlineData("--device", "cuda")]        // no GPU in this build: one line, exit code 2
    [InlineData("--head", "gpt")]
    [InlineData("--data", "/nonexistent/corpus")]
    [InlineData("--no-such-option", "1")]
    [InlineData("--epochs", "many")]
    public void Bad_input_is_one_line_on_stderr_and_exit_code_2(string option, string value)
    {
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["train", option, value, "--max-steps", "1"]));
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("wordlm: ", line);
    }

    [Fact]
    public void A_damaged_checkpoint_is_one_line_and_exit_code_2()
    {
        string bad = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(bad, File.ReadAllBytes(fixture.Softmax)[..100]);
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["eval", "--checkpoint", bad, "--data", fixture.Directory]));
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(bad, line);
    }
}
