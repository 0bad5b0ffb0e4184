namespace TinyGrad.Tests.Training;

using System.Text.Json;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.Training;

// `train --init`: started from the PyTorch reference's weights, our trainer follows the reference's own training
// (tests/fixtures/make_init_fixture.py: SGD, clipping at 0.25, dropout off, state carried, 20 steps).
public class InitParityTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    private sealed class Losses : TrainingCallbacks
    {
        public List<float> Values { get; } = [];

        public override void OnStep(StepInfo info) => Values.Add(info.Loss);
    }

    [Fact]
    public void A_run_from_the_references_weights_follows_the_references_losses()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture("init_reference.json")));
        var root = doc.RootElement;
        double[] want = [.. root.GetProperty("losses").EnumerateArray().Select(x => x.GetDouble())];
        string text = Fixture("init_text.txt");
        var vocab = TextCorpus.BuildVocabulary(text, text, text);
        var tokens = TextCorpus.Tokenize(text, vocab);
        var (reference, _) = WordLMCheckpoint.Load(Fixture("init_reference.safetensors"));
        var options = new TrainingOptions
        {
            Optimizer = "sgd",
            Lr = (float)root.GetProperty("lr").GetDouble(),
            Clip = (float)root.GetProperty("clip").GetDouble(),
            BatchSize = root.GetProperty("batch_size").GetInt32(),
            Bptt = root.GetProperty("bptt").GetInt32(),
            Epochs = 1,
            MaxSteps = want.Length,
            When = [],
            Init = Fixture("init_reference.safetensors"),
        };
        var losses = new Losses();
        new LanguageModelTrainer(reference.Config, new TokenSplits(vocab, tokens, tokens, tokens), options, losses).Fit();
        Assert.Equal(want.Length, losses.Values.Count);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(losses.Values[i] - want[i]) <= 1e-4 * Math.Abs(want[i]), $"step {i + 1}: reference {want[i]:G9}, ours {losses.Values[i]:G9}");
        Assert.True(want[^1] < want[0], "the reference run learns something (a negative control for a frozen model)");

        // Negative control: the same run from our own initialisation does not follow the reference.
        var fresh = new Losses();
        new LanguageModelTrainer(reference.Config, new TokenSplits(vocab, tokens, tokens, tokens), options with { Init = null }, fresh).Fit();
        Assert.True(Math.Abs(fresh.Values[0] - want[0]) > 1e-3 * want[0], $"without --init the first loss {fresh.Values[0]} should differ from {want[0]}");
    }
}
