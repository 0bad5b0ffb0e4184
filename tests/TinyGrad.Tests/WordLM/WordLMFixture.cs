namespace TinyGrad.Tests.WordLM;

using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;

// The WordLM tests share one tiny corpus and two tiny checkpoints, made once. They also capture Console, which is
// process-wide, so the collection runs with nothing else in parallel.
[CollectionDefinition("WordLM", DisableParallelization = true)]
public sealed class WordLMCollection : ICollectionFixture<WordLMFixture>;

public sealed class WordLMFixture : IDisposable
{
    public WordLMFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("tinygrad-wordlm-").FullName;
        Corpus = SyntheticCorpus.Generate(3, vocabSize: 60, trainTokens: 6000, validTokens: 1500, testTokens: 1500);
        Corpus.WriteTo(Directory);

        // A softmax model after a few steps: enough for generate, and for rank, whose bound holds for any weights.
        Softmax = Path.Combine(Directory, "softmax.safetensors");
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["train", "--data", Directory, "--head", "softmax",
            "--emsize", "4", "--nhid", "8", "--epochs", "1", "--max-steps", "10", "--batch-size", "8", "--bptt", "10",
            "--log-interval", "1000", "--save", Softmax]));
        if (code != 0) throw new InvalidOperationException($"fixture: training the softmax checkpoint failed ({code}): {stderr}");

        // A sigsoftmax model whose rank visibly exceeds d + 2. A few training steps from the small initial weights
        // leave the logits near 0, where log σ(z) is nearly linear and the excess rank sits under the float32
        // threshold; larger weights put the logits where the nonlinearity is strong.
        Sigsoftmax = Path.Combine(Directory, "sigsoftmax.safetensors");
        var config = new WordLMConfig(Corpus.Vocabulary.Count, emSize: 4, nHid: 8, nLayers: 1, head: HeadKind.Sigsoftmax);
        var model = new global::TinyGrad.Models.WordLM(config, new Generator(5));
        var scaled = model.StateDict().ToDictionary(p => p.Key, p => Tensor.FromArray([.. p.Value.ToArray().Select(x => x * 20f)], p.Value.Shape, null));
        model.LoadStateDict(scaled);
        WordLMCheckpoint.Save(Sigsoftmax, model, Corpus.Vocabulary);
    }

    /// <summary>A folder holding train.txt, valid.txt and test.txt of <see cref="Corpus"/>.</summary>
    public string Directory { get; }

    public SyntheticCorpus Corpus { get; }

    public string Softmax { get; }

    public string Sigsoftmax { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
