namespace TinyGrad.Tests.WordLM;

using TinyGrad.IO;

// On the CPU a run interrupted after an epoch and resumed ends with the same weights as an uninterrupted one.
[Collection("WordLM")]
public sealed class ResumeTests(WordLMFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Options(string save, int epochs, params string[] more) =>
    [
        "train", "--data", fixture.Directory, "--head", "sigsoftmax", "--emsize", "8", "--nhid", "12", "--batch-size", "8",
        "--bptt", "10", "--dropout", "0.2", "--wdrop", "0.2", "--variable-bptt", "--log-interval", "100000",
        "--epochs", $"{epochs}", "--save", save, .. more,
    ];

    private static Dictionary<string, float[]> Tensors(string path) =>
        SafeTensors.Load(path).Tensors.ToDictionary(t => t.Key, t => t.Value.ToArray());

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void Two_epochs_straight_equal_one_epoch_then_a_resumed_one(string optimizer)
    {
        // Dropout, weight drop and variable windows all draw from the RNG streams the state must carry.
        string straight = Path.Combine(_dir, $"straight-{optimizer}.safetensors"), split = Path.Combine(_dir, $"split-{optimizer}.safetensors");
        Assert.Equal(0, global::WordLM.Program.Main(Options(straight, 3, "--optimizer", optimizer, "--lr", "0.01")));
        Assert.Equal(0, global::WordLM.Program.Main(Options(split, 1, "--optimizer", optimizer, "--lr", "0.01")));
        Assert.Equal(0, global::WordLM.Program.Main(Options(split, 3, "--optimizer", optimizer, "--lr", "0.01",
            "--resume", TinyGrad.Training.TrainingState.PathFor(split))));

        var a = Tensors(TinyGrad.Training.TrainingState.PathFor(straight));
        var b = Tensors(TinyGrad.Training.TrainingState.PathFor(split));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, values) in a) Assert.True(values.AsSpan().SequenceEqual(b[name]), $"{name} differs after resuming");
        var bestA = Tensors(straight);
        var bestB = Tensors(split);
        foreach (var (name, values) in bestA) Assert.True(values.AsSpan().SequenceEqual(bestB[name]), $"best {name} differs after resuming");
    }

    [Fact]
    public void Resuming_from_something_else_is_a_clear_error()
    {
        string model = Path.Combine(_dir, "m.safetensors");
        Assert.Equal(0, global::WordLM.Program.Main(Options(model, 1)));
        Assert.Equal(2, global::WordLM.Program.Main(Options(model, 2, "--resume", model))); // the model file, not its .state
        Assert.Equal(2, global::WordLM.Program.Main(Options(model, 2, "--resume", Path.Combine(_dir, "missing.state"))));
    }
}
