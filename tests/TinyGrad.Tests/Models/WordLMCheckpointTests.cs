namespace TinyGrad.Tests.Models;

using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TinyGrad;
using TinyGrad.Data;
using TinyGrad.IO;
using TinyGrad.Models;
using TinyGrad.NN.Heads;

// Checkpoints in the reference layout: names and order, metadata byte for byte as the reference writes it, the
// tied decoder omitted and restored as the encoder's tensor, exact round trips, and strict loading whose errors
// name the file and every problem.
public sealed class WordLMCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-wordlm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    internal static Vocabulary Words(int count) => new(["<eos>", .. Enumerable.Range(1, count - 1).Select(i => $"w{i}")]);

    /// <summary>A model whose every parameter (biases included) is random, so a round trip cannot pass by luck.</summary>
    internal static WordLM Randomized(WordLMConfig config, ulong seed)
    {
        var model = new WordLM(config, new Generator(seed));
        var g = new Generator(seed + 100);
        model.LoadStateDict(model.NamedParameters().ToDictionary(p => p.Key, p => Tensor.Uniform(p.Value.Shape, -1f, 1f, g)), strict: false);
        return model;
    }

    [Theory]
    [InlineData(HeadKind.Softmax, true)]
    [InlineData(HeadKind.Sigsoftmax, false)]
    [InlineData(HeadKind.Mos, true)]
    [InlineData(HeadKind.Moss, false)]
    [InlineData(HeadKind.Moss, true)]
    public void Save_then_load_gives_identical_weights_and_the_same_eval_loss(HeadKind head, bool tied)
    {
        var model = Randomized(WordLMTests.Tiny(head, tied), 3);
        var vocab = Words(30);
        string path = PathOf("m.safetensors");
        WordLMCheckpoint.Save(path, model, vocab);
        var (loaded, words) = WordLMCheckpoint.Load(path);

        Assert.Equal(model.Config, loaded.Config);
        Assert.Equal(vocab.Words, words.Words);
        var before = model.StateDict();
        var after = loaded.StateDict();
        Assert.Equal(before.Keys, after.Keys);
        foreach (var (name, tensor) in before) Assert.Equal(tensor.ToArray(), after[name].ToArray());
        if (tied) Assert.Same(loaded.Encoder.Weight, loaded.Head.Decoder.Weight);
        else Assert.NotSame(loaded.Encoder.Weight, loaded.Head.Decoder.Weight);

        var tokens = WordLMTests.RandomTokens(103, 30, 7);
        Assert.Equal(Evaluation.Evaluate(model, tokens, 4, 5), Evaluation.Evaluate(loaded, tokens, 4, 5));
    }

    [Theory]
    [InlineData(HeadKind.Softmax, true)]
    [InlineData(HeadKind.Mos, false)]
    public void The_file_holds_the_reference_names_in_order_and_its_metadata(HeadKind head, bool tied)
    {
        var model = new WordLM(WordLMTests.Tiny(head, tied), new Generator(0));
        string path = PathOf("m.safetensors");
        WordLMCheckpoint.Save(path, model, Words(30));
        var (tensors, metadata) = SafeTensors.Load(path);
        var names = model.StateDict().Keys.Where(n => !(tied && n == "decoder.weight"));
        Assert.Equal(names, tensors.Select(t => t.Key));
        Assert.Equal(tied, !tensors.Any(t => t.Key == "decoder.weight"));
        Assert.Equal(["format", "version", "config", "vocab"], metadata.Keys);
        Assert.Equal("tinygrad.wordlm", metadata["format"]);
        Assert.Equal("1", metadata["version"]);
        Assert.Equal(model.Config.ToJson(), metadata["config"]);
        Assert.StartsWith("[\"<eos>\", \"w1\", \"w2\", ", metadata["vocab"]);
    }

    [Fact]
    public void The_vocabulary_is_written_as_pythons_json_dumps_writes_it_and_read_back_exactly()
    {
        // json.dumps(["<eos>", "é", "\x7f", 'a"b', "tab\there", "back\\slash", "😀"]) in Python.
        string[] words = ["<eos>", "é", "\u007f", "a\"b", "tab\there", "back\\slash", "😀"];
        const string python = "[\"<eos>\", \"\\u00e9\", \"\\u007f\", \"a\\\"b\", \"tab\\there\", \"back\\\\slash\", \"\\ud83d\\ude00\"]";
        var model = new WordLM(new WordLMConfig(words.Length, 4, 4, 1), new Generator(0));
        string path = PathOf("m.safetensors");
        WordLMCheckpoint.Save(path, model, new Vocabulary(words));
        Assert.Equal(python, SafeTensors.Load(path).Metadata["vocab"]);
        Assert.Equal(words, WordLMCheckpoint.Load(path).Vocab.Words);
    }

    [Fact]
    public void Save_rejects_a_vocabulary_of_the_wrong_size_and_writes_atomically()
    {
        var model = new WordLM(WordLMTests.Tiny(HeadKind.Softmax), new Generator(0));
        string path = PathOf("m.safetensors");
        var e = Assert.Throws<ArgumentException>(() => WordLMCheckpoint.Save(path, model, Words(29)));
        Assert.Contains("the vocabulary has 29 words but the model's vocab_size is 30", e.Message);
        Assert.False(File.Exists(path));
        WordLMCheckpoint.Save(path, model, Words(30));
        WordLMCheckpoint.Save(path, model, Words(30)); // overwrites in place
        Assert.Equal([path], Directory.GetFiles(_dir)); // no temporary file left behind
    }

    /// <summary>Writes a checkpoint of a tiny model after letting the test edit its tensors and metadata.</summary>
    private string Crafted(HeadKind head, bool tied, Action<List<KeyValuePair<string, Tensor>>, Dictionary<string, string>> edit)
    {
        var model = new WordLM(WordLMTests.Tiny(head, tied), new Generator(0));
        string good = PathOf("good.safetensors");
        WordLMCheckpoint.Save(good, model, Words(30));
        var (tensors, metadata) = SafeTensors.Load(good);
        edit(tensors, metadata);
        string path = PathOf("bad.safetensors");
        SafeTensors.Save(path, tensors, metadata);
        return path;
    }

    [Theory]
    [InlineData("format", null, "missing metadata key 'format' (a WordLM checkpoint has format, version, config and vocab; found version, config, vocab)")]
    [InlineData("format", "tinygrad.charlm", "metadata format is 'tinygrad.charlm', expected 'tinygrad.wordlm'")]
    [InlineData("version", "2", "metadata version '2' is not supported (this build reads version 1)")]
    [InlineData("config", "{\"vocab_size\": 30,", "metadata 'config' is invalid: WordLM config: not valid JSON")]
    [InlineData("config", "{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 8, \"nlayers\": 2, \"head\": \"softmax\", \"experts\": 1}", "metadata 'config' is invalid: WordLM config: missing key(s) 'tied'")]
    [InlineData("config", "{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 8, \"nlayers\": 2, \"head\": \"softmax\", \"experts\": 1, \"tied\": true, \"x\": 1}", "metadata 'config' is invalid: WordLM config: unknown key(s) 'x'")]
    [InlineData("config", "{\"vocab_size\": 30, \"emsize\": 8, \"nhid\": 12, \"nhidlast\": 12, \"nlayers\": 2, \"head\": \"softmax\", \"experts\": 1, \"tied\": true}", "metadata 'config' is invalid: WordLM config: tied weights need the decoder input size to equal emsize")]
    [InlineData("vocab", "[\"a\", \"b\"]", "metadata 'vocab' has 2 words but config vocab_size is 30")]
    [InlineData("vocab", "{\"a\": 0}", "metadata 'vocab' must be a JSON list of words, got Object")]
    [InlineData("vocab", "[\"a\", 3]", "metadata 'vocab': entry 1 is 3, not a string")]
    public void Bad_metadata_is_reported_with_the_file_and_the_problem(string key, string? value, string problem)
    {
        string path = Crafted(HeadKind.Softmax, true, (_, meta) =>
        {
            if (value is null) meta.Remove(key);
            else meta[key] = value;
        });
        var e = Assert.Throws<CheckpointException>(() => WordLMCheckpoint.Load(path));
        Assert.StartsWith($"{path}: {problem}", e.Message);
        Assert.Equal(path, e.Path);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 17)]
    public void A_duplicated_word_is_reported_with_both_ids(int first, int second)
    {
        var words = WordLMCheckpointTests.Words(30).Words.ToArray();
        words[second] = words[first];
        string path = Crafted(HeadKind.Softmax, true, (_, meta) => meta["vocab"] = JsonSerializer.Serialize(words));
        Assert.EndsWith($": metadata 'vocab': the word 'w{first}' appears twice (ids {first} and {second})",
            Assert.Throws<CheckpointException>(() => WordLMCheckpoint.Load(path)).Message);
    }

    [Fact]
    public void Every_tensor_problem_is_reported_at_once()
    {
        string path = Crafted(HeadKind.Mos, false, (tensors, _) =>
        {
            tensors.RemoveAll(t => t.Key is "latent.bias" or "rnns.1.bias_hh_l0");
            tensors.Add(new("decoder.scale", Tensor.Zeros(3)));
            int at = tensors.FindIndex(t => t.Key == "prior.weight");
            tensors[at] = new("prior.weight", Tensor.Zeros(4, 12));
        });
        var e = Assert.Throws<CheckpointException>(() => WordLMCheckpoint.Load(path));
        Assert.Equal($"{path}: tensors do not fit the config {WordLMTests.Tiny(HeadKind.Mos, false).ToJson()}: missing: rnns.1.bias_hh_l0, latent.bias | unexpected: decoder.scale | wrong shape: prior.weight: checkpoint [4, 12] vs model [3, 12]", e.Message);
        Assert.IsType<TinyGrad.NN.StateDictException>(e.InnerException);
    }

    [Fact]
    public void A_tied_checkpoint_reports_a_missing_encoder_once_and_rejects_a_stored_decoder_weight()
    {
        string path = Crafted(HeadKind.Softmax, true, (tensors, _) => tensors.RemoveAll(t => t.Key == "encoder.weight"));
        Assert.EndsWith(": missing: encoder.weight", Assert.Throws<CheckpointException>(() => WordLMCheckpoint.Load(path)).Message);

        path = Crafted(HeadKind.Softmax, true, (tensors, _) => tensors.Add(new("decoder.weight", Tensor.Zeros(30, 8))));
        Assert.EndsWith(": decoder.weight is present but the config says tied (a tied checkpoint omits it)",
            Assert.Throws<CheckpointException>(() => WordLMCheckpoint.Load(path)).Message);

        // An untied checkpoint needs its decoder weight.
        path = Crafted(HeadKind.Sigsoftmax, false, (tensors, _) => tensors.RemoveAll(t => t.Key == "decoder.weight"));
        Assert.EndsWith(": missing: decoder.weight", Assert.Throws<CheckpointException>(() => WordLMCheckpoint.Load(path)).Message);
    }

    [Fact]
    public void A_file_that_is_not_safetensors_fails_in_the_reader_naming_the_file()
    {
        string path = PathOf("junk.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 4);
        Encoding.ASCII.GetBytes("nope").CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        Assert.StartsWith($"{path}: header is not valid JSON", Assert.Throws<SafeTensorsException>(() => WordLMCheckpoint.Load(path)).Message);
    }
}
