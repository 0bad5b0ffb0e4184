namespace TinyGrad.Tests.WordLM;

using global::WordLM;
using TinyGrad.Training;

// Divergence means divergence on every CPU: NaN, ±∞ and finite but absurd losses all stop the run; the losses of
// healthy early training never do.
[Collection("WordLM")]
public sealed class DivergenceTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-diverge-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(2e31)]   // what the AVX2 path reported after an update of lr 1e30
    [InlineData(1e13)]   // lr 1e12: every weight ±1e12, the logits ~1e13, all finite
    [InlineData(710.0)]  // e^710 overflows a double: the perplexity would print as ∞
    [InlineData(3 * 9.2103 + 10.01)] // just past the bound for V = 10,000
    public void Non_finite_and_absurd_losses_have_diverged(double loss) =>
        Assert.NotNull(Divergence.Check(loss, 10_000));

    [Theory]
    [InlineData(9.2103, 10_000)]  // ln V: a uniform guess, where an untrained model starts
    [InlineData(18.0, 10_000)]    // a bad early step, twice the uniform loss
    [InlineData(0.0, 10_000)]
    [InlineData(0.6931, 2)]       // the smallest vocabulary
    [InlineData(12.0, 2)]         // 10 nats of margin even where ln V is tiny
    [InlineData(40.0, 1_000_000)]
    public void Losses_of_healthy_training_have_not(double loss, int vocab) =>
        Assert.Null(Divergence.Check(loss, vocab));

    [Fact]
    public void A_non_finite_gradient_norm_has_diverged_even_with_a_usable_loss()
    {
        Assert.NotNull(Divergence.Check(2.0, 100, double.NaN));
        Assert.NotNull(Divergence.Check(2.0, 100, double.PositiveInfinity));
        Assert.Null(Divergence.Check(2.0, 100, 1e6)); // a large norm is what clipping is for
    }

    [Theory]
    [InlineData("1e12")] // finite weights and logits: caught by the bound
    [InlineData("1e30")] // overflowing GEMMs: NaN on some paths, finite garbage on others
    public void An_absurd_learning_rate_exits_1_with_one_diverged_line(string lr)
    {
        string model = Path.Combine(_dir, "m.safetensors");
        var (code, _, stderr) = ConsoleCapture.Run(() => Program.Main(["train", "--data", fixture.Directory, "--head", "softmax",
            "--emsize", "8", "--nhid", "16", "--epochs", "1", "--max-steps", "30", "--batch-size", "8", "--bptt", "10",
            "--log-interval", "1000", "--lr", lr, "--save", model]));
        Assert.Equal(1, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches("^wordlm: softmax: training diverged at step [0-9]+ ", line);
        Assert.False(File.Exists(model));
    }
}
