namespace TinyGrad.Tests.WordLM;

// --plot writes a real PNG of the validation curve (one line per head in compare).
[Collection("WordLM")]
public sealed class PlotTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-plot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 2000, $"{path}: only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    [Fact]
    public void Train_and_compare_write_curve_images()
    {
        string one = Path.Combine(_dir, "train.png"), many = Path.Combine(_dir, "compare.png");
        string[] common = ["--data", fixture.Directory, "--emsize", "8", "--nhid", "12", "--batch-size", "8", "--bptt", "10",
            "--epochs", "2", "--log-interval", "100000"];
        Assert.Equal(0, global::WordLM.Program.Main(["train", .. common, "--plot", one]));
        AssertPng(one);
        Assert.Equal(0, global::WordLM.Program.Main(["compare", .. common, "--heads", "softmax,sigsoftmax", "--plot", many]));
        AssertPng(many);
    }
}
