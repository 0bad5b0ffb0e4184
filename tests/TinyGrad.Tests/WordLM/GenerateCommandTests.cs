namespace TinyGrad.Tests.WordLM;

using TinyGrad.Data;
using TinyGrad.Models;

// generate: prints exactly the words the seeded sampler draws, continues a prompt, and rejects bad values with exit 2.
[Collection("WordLM")]
public sealed class GenerateCommandTests(WordLMFixture fixture)
{
    [Fact]
    public void Generate_prints_the_sampled_words()
    {
        var (code, stdout, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["generate", "--checkpoint", fixture.Softmax, "--words", "25", "--seed", "7"]));
        Assert.True(code == 0, stderr);

        // The same draws made directly: no prompt means the context is a sentence start, <eos>.
        var (model, vocab) = WordLMCheckpoint.Load(fixture.Softmax);
        Assert.True(vocab.TryGetId(Vocabulary.Eos, out int eos));
        var ids = global::WordLM.Sampler.Sample(model, [eos], 25, 1f, new Generator(7));
        Assert.Equal(25, ids.Length);
        Assert.Equal(global::WordLM.Sampler.Format(ids.Select(id => vocab[id])), stdout);
        // Every sampled id is either a printed word or a line break.
        int printed = stdout.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.Equal(25, printed + ids.Count(id => id == eos));
    }

    [Fact]
    public void Generate_continues_the_prompt()
    {
        var words = fixture.Corpus.Vocabulary.Words;
        string prompt = $"{words[1]} {words[2]}";
        var (code, stdout, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["generate", "--checkpoint", fixture.Softmax, "--prompt", prompt, "--words", "5", "--temperature", "0.5"]));
        Assert.True(code == 0, stderr);
        Assert.StartsWith(prompt, stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--temperature", "0")]
    [InlineData("--temperature", "-1")]
    [InlineData("--words", "0")]
    [InlineData("--prompt", "no-such-word")] // the synthetic vocabulary has no <unk>
    public void Generate_rejects_bad_values(string option, string value)
    {
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["generate", "--checkpoint", fixture.Softmax, option, value]));
        Assert.Equal(2, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
