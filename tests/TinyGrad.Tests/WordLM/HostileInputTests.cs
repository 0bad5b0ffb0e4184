namespace TinyGrad.Tests.WordLM;

using System.Globalization;
using System.Text.Json;
using TinyGrad.Data;
using TinyGrad.IO;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TrainingState = TinyGrad.Training.TrainingState;

// The files the hostile cases need, made once: a corpus, a trained model with its state, states damaged in one field
// each, a checkpoint holding NaN, a file too short to be a split, and a copy of the training text under a ".state" name.
public sealed class HostileFiles : IDisposable
{
    public HostileFiles()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("tinygrad-hostile-").FullName;
        Data = Path.Combine(Directory, "data");
        Corpus = SyntheticCorpus.Generate(3, vocabSize: 60, trainTokens: 6000, validTokens: 1500, testTokens: 1500);
        Corpus.WriteTo(Data);
        Prev = Path.Combine(Directory, "prev.safetensors");
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["train", "--data", Data, .. HostileInputTests.Fast, "--save", Prev]));
        if (code != 0) throw new InvalidOperationException($"hostile fixture: training failed ({code}): {stderr}");

        File.Copy(Path.Combine(Data, "train.txt"), Path.Combine(Directory, "copy.state"));
        File.WriteAllText(Path.Combine(Directory, "short.txt"), string.Join(" ", Corpus.Vocabulary.Words.Take(4)) + "\n");

        var state = TrainingState.Load(TrainingState.PathFor(Prev));
        (state with { Run = null }).Save(Path.Combine(Directory, "legacy.safetensors.state"));
        // Edited as a person would edit the file: one metadata field each.
        var (tensors, meta) = SafeTensors.Load(TrainingState.PathFor(Prev));
        void Edit(string name, string key, string value) =>
            SafeTensors.Save(Path.Combine(Directory, name), [.. tensors], new Dictionary<string, string>(meta) { [key] = value });
        var counters = JsonSerializer.Deserialize<long[]>(meta["counters"])!;
        var sums = JsonSerializer.Deserialize<double[]>(meta["sums"])!;
        Edit("bad-epoch.state", "epoch", "-3");
        Edit("bad-step.state", "counters", JsonSerializer.Serialize(new[] { -1, counters[1], counters[2] }));
        Edit("bad-best.state", "sums", $"[{sums[0].ToString("R", CultureInfo.InvariantCulture)}, \"NaN\", {sums[2].ToString("R", CultureInfo.InvariantCulture)}]");
        Edit("bad-history.state", "valid_history", "[4.0, 3.9, 3.8]");
        Edit("bad-rng.state", "model_rng", "[1, 2, 3]");

        var (model, vocab) = WordLMCheckpoint.Load(Prev);
        var weights = model.StateDict().ToDictionary(p => p.Key, p => p.Value);
        var poisoned = weights["rnns.0.weight_hh_l0"].ToArray();
        poisoned[5] = float.NaN;
        weights["rnns.0.weight_hh_l0"] = Tensor.FromArray(poisoned, weights["rnns.0.weight_hh_l0"].Shape, null);
        model.LoadStateDict(weights);
        WordLMCheckpoint.Save(Path.Combine(Directory, "nan.safetensors"), model, vocab);
    }

    public string Directory { get; }

    public string Data { get; }

    public SyntheticCorpus Corpus { get; }

    public string Prev { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

// Every bad path of the command line ends in one line on stderr that starts "wordlm: " and names the option or the
// file, with exit code 2 (bad input) and nothing written: no input or earlier output changes, no file appears.
[Collection("WordLM")]
public sealed class HostileInputTests(HostileFiles files) : IClassFixture<HostileFiles>, IDisposable
{
    /// <summary>A run of a few steps: every case that gets past the checks would still finish in a fraction of a second.</summary>
    public static readonly string[] Fast =
        ["--head", "softmax", "--emsize", "8", "--nhid", "16", "--max-steps", "3", "--batch-size", "8", "--bptt", "10", "--log-interval", "1000"];

    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-hostile-run-").FullName;

    public void Dispose()
    {
        if (!OperatingSystem.IsWindows())
            foreach (var d in Directory.GetDirectories(_dir)) File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(_dir, recursive: true);
    }

    // {data} the corpus folder, {h} the fixture folder, {prev} its trained model, {dir} this test's folder, {fast} the
    // run options without --emsize/--nhid ({fast16} with them, {cfast} without --head, for compare), {long} a 250-byte file name.
    [Theory]
    // 1. Output paths, checked before any work.
    [InlineData("save over the training text", "train --train {data}/train.txt --valid {data}/valid.txt --test {data}/test.txt {fast16} --save {data}/train.txt", "--save {data}/train.txt|--train")]
    [InlineData("save over the --data files", "train --data {data} {fast16} --save {data}/valid.txt", "--save {data}/valid.txt")]
    [InlineData("save equals metrics-json", "train --data {data} {fast16} --save {dir}/m --metrics-json {dir}/m", "--metrics-json {dir}/m|--save")]
    [InlineData("save equals plot", "train --data {data} {fast16} --save {dir}/m --plot {dir}/m", "--plot {dir}/m|--save")]
    [InlineData("save equals the resumed state", "train --data {data} {fast16} --epochs 2 --save {h}/prev.safetensors.state --resume {h}/prev.safetensors.state", "--save {h}/prev.safetensors.state|--resume")]
    [InlineData("save equals the resumed model", "train --data {data} {fast16} --epochs 2 --save {prev} --resume {prev}", "--save {prev}|--resume")]
    [InlineData("the state beside save is metrics-json", "train --data {data} {fast16} --save {dir}/m --metrics-json {dir}/m.state", "--metrics-json {dir}/m.state|training state")]
    [InlineData("the state beside save is an input", "train --train {h}/copy.state --valid {data}/valid.txt --test {data}/test.txt {fast16} --save {h}/copy", "--save {h}/copy|training state {h}/copy.state|--train")]
    [InlineData("save is /dev/null", "train --data {data} {fast16} --save /dev/null", "--save /dev/null|not a regular file")]
    [InlineData("save is a directory", "train --data {data} {fast16} --save {dir}", "--save {dir}|directory")]
    [InlineData("save in a missing folder", "train --data {data} {fast16} --save {dir}/nope/m", "--save {dir}/nope/m|does not exist")]
    [InlineData("save with an over-long name", "train --data {data} {fast16} --save {dir}/{long}", "--save {dir}/{long}|bytes long")]
    [InlineData("plot is a directory", "train --data {data} {fast16} --plot {dir}", "--plot {dir}|directory")]
    [InlineData("metrics-json in a missing folder", "train --data {data} {fast16} --metrics-json {dir}/nope/m.json", "--metrics-json {dir}/nope/m.json|does not exist")]
    [InlineData("compare: a head's model is metrics-json", "compare --data {data} {cfast} --heads softmax,sigsoftmax --save {dir}/m.json --metrics-json {dir}/m.sigsoftmax.json", "--metrics-json {dir}/m.sigsoftmax.json|--save")]
    [InlineData("compare: save is a directory", "compare --data {data} {cfast} --heads softmax,sigsoftmax --save {dir}", "--save {dir}")]
    [InlineData("compare: plot in a missing folder", "compare --data {data} {cfast} --heads softmax --plot {dir}/nope/c.png", "--plot {dir}/nope/c.png|does not exist")]
    [InlineData("eval: metrics-json is a directory", "eval --checkpoint {prev} --data {data} --metrics-json {dir}", "--metrics-json {dir}|directory")]
    [InlineData("eval: metrics-json is the checkpoint", "eval --checkpoint {prev} --data {data} --metrics-json {prev}", "--metrics-json {prev}|--checkpoint")]
    [InlineData("rank: metrics-json is the test file", "rank --checkpoint {prev} --test {data}/test.txt --metrics-json {data}/test.txt", "--metrics-json {data}/test.txt|--test")]
    [InlineData("rank: metrics-json is /dev/null", "rank --checkpoint {prev} --data {data} --metrics-json /dev/null", "--metrics-json /dev/null|not a regular file")]
    // 2. Input files that are not files.
    [InlineData("checkpoint is a directory", "eval --checkpoint {dir} --data {data}", "--checkpoint {dir}|directory")]
    [InlineData("generate: checkpoint is a directory", "generate --checkpoint {dir}", "--checkpoint {dir}|directory")]
    [InlineData("train file is a directory", "train --train {dir} --valid {data}/valid.txt --test {data}/test.txt {fast16}", "--train {dir}|directory")]
    [InlineData("resume state missing", "train --data {data} {fast16} --resume {dir}/none.state", "--resume {dir}/none.state|not found")]
    // 4. Silently wrong before.
    [InlineData("resume with another nhid", "train --data {data} {fast} --emsize 8 --nhid 32 --epochs 2 --save {prev} --resume {prev}.state", "--resume {prev}.state|--nhid 16|--nhid 32")]
    [InlineData("resume with another head", "train --data {data} --emsize 8 --nhid 16 --max-steps 3 --batch-size 8 --bptt 10 --epochs 2 --head sigsoftmax --save {prev} --resume {prev}.state", "--head softmax|--head sigsoftmax")]
    [InlineData("resume with another batch size", "train --data {data} --head softmax --emsize 8 --nhid 16 --max-steps 3 --bptt 10 --epochs 2 --batch-size 4 --save {prev} --resume {prev}.state", "--batch-size 8|--batch-size 4")]
    [InlineData("resume with other data", "train {fast16} --epochs 2 --save {prev} --resume {prev}.state", "--resume {prev}.state|other data")]
    [InlineData("resume an old state with another model", "train --data {data} {fast} --emsize 8 --nhid 32 --epochs 2 --save {h}/legacy.safetensors --resume {h}/legacy.safetensors.state", "--resume {h}/legacy.safetensors.state|does not fit")]
    [InlineData("state with a negative epoch", "train --data {data} {fast16} --epochs 2 --save {dir}/m --resume {h}/bad-epoch.state", "{h}/bad-epoch.state|epoch = -3")]
    [InlineData("state with a negative step", "train --data {data} {fast16} --epochs 2 --save {dir}/m --resume {h}/bad-step.state", "{h}/bad-step.state|counters")]
    [InlineData("state with a NaN best", "train --data {data} {fast16} --epochs 2 --save {dir}/m --resume {h}/bad-best.state", "{h}/bad-best.state|sums")]
    [InlineData("state with a history too long", "train --data {data} {fast16} --epochs 2 --save {dir}/m --resume {h}/bad-history.state", "{h}/bad-history.state|valid_history")]
    [InlineData("state with a short RNG state", "train --data {data} {fast16} --epochs 2 --save {dir}/m --resume {h}/bad-rng.state", "{h}/bad-rng.state|model_rng")]
    [InlineData("too large a model", "train --data {data} {fast} --nhid 1 --emsize 100000", "too large|--emsize 100000")]
    [InlineData("more experts than words", "train --data {data} --emsize 8 --nhid 16 --max-steps 3 --batch-size 8 --bptt 10 --head mos --experts 5000", "--experts 5000|vocabulary size")]
    [InlineData("experts with a softmax head", "train --data {data} {fast16} --experts 3", "--experts 3|--head softmax")]
    [InlineData("decimal comma", "train --data {data} {fast16} --lr 0,001", "--lr 0,001")]
    [InlineData("thousands separator", "train --data {data} {fast16} --nlayers 1,000", "--nlayers 1,000")]
    [InlineData("eval: decimal comma", "eval --checkpoint {prev} --data {data} --bptt 3,5", "--bptt 3,5")]
    [InlineData("generate: decimal comma", "generate --checkpoint {prev} --temperature 0,5", "--temperature 0,5")]
    [InlineData("eval of NaN weights", "eval --checkpoint {h}/nan.safetensors --data {data}", "--checkpoint {h}/nan.safetensors|rnns.0.weight_hh_l0|NaN")]
    [InlineData("generate from NaN weights", "generate --checkpoint {h}/nan.safetensors", "--checkpoint {h}/nan.safetensors|NaN")]
    [InlineData("rank of NaN weights", "rank --checkpoint {h}/nan.safetensors --data {data}", "--checkpoint {h}/nan.safetensors|NaN")]
    [InlineData("too short a validation split", "train --train {data}/train.txt --valid {h}/short.txt --test {data}/test.txt {fast16}", "{h}/short.txt|too few")]
    [InlineData("too short a test split", "train --train {data}/train.txt --valid {data}/valid.txt --test {h}/short.txt {fast16}", "{h}/short.txt|too few")]
    [InlineData("eval: too short a test file", "eval --checkpoint {prev} --test {h}/short.txt --batch-size 10", "{h}/short.txt|too few")]
    public void Bad_input_is_one_line_exit_code_2_and_nothing_written(string name, string args, string mentions)
    {
        Assert.NotNull(name); // the case's name, for the test report
        var (code, stderr) = RunUntouched(Expand(args).Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(code == 2, $"exit code {code}: {stderr}");
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("wordlm: ", line, StringComparison.Ordinal);
        foreach (var mention in Expand(mentions).Split('|')) Assert.Contains(mention, line, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void An_unreadable_corpus_file_is_one_line()
    {
        string train = Path.Combine(_dir, "train.txt");
        File.Copy(Path.Combine(files.Data, "train.txt"), train);
        Skip.If(OperatingSystem.IsWindows(), "Unix permissions");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(train, UnixFileMode.None);
        Skip.If(CanRead(train), "permissions do not apply (running as root)");
        var (code, stderr) = RunUntouched(["train", "--train", train, "--valid", Path.Combine(files.Data, "valid.txt"),
            "--test", Path.Combine(files.Data, "test.txt"), .. Fast]);
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"wordlm: --train {train}: cannot be read", line, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_read_only_output_folder_is_refused_before_training()
    {
        string folder = Path.Combine(_dir, "ro");
        Directory.CreateDirectory(folder);
        Skip.If(OperatingSystem.IsWindows(), "Unix permissions");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        Skip.If(CanCreateIn(folder), "permissions do not apply (running as root)");
        var (code, stderr) = RunUntouched(["train", "--data", files.Data, .. Fast, "--save", Path.Combine(folder, "m")]);
        Assert.Equal(2, code);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--save {Path.Combine(folder, "m")}: the folder {folder} is not writable", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_lr_or_seed_on_resume_is_noted_and_the_state_wins()
    {
        string model = Path.Combine(_dir, "m.safetensors");
        File.Copy(files.Prev, model);
        File.Copy(TrainingState.PathFor(files.Prev), TrainingState.PathFor(model));
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["train", "--data", files.Data, .. Fast, "--epochs", "2", "--lr", "0.5", "--save", model, "--resume", TrainingState.PathFor(model)]));
        Assert.True(code == 0, stderr);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("wordlm: note: ", line, StringComparison.Ordinal);
        Assert.Contains("the state's --lr 0.01; the given --lr 0.5 is ignored", line, StringComparison.Ordinal);
        // The state keeps the value the run really uses, so resuming again with --lr 0.5 is noted again.
        Assert.Equal("0.01", TrainingState.Load(TrainingState.PathFor(model)).Run!["--lr"]);
    }

    [Fact]
    public void A_resumed_run_that_does_not_improve_still_leaves_the_best_model_in_save()
    {
        // The earlier run saved elsewhere (or the file was removed): the summary's file must hold the best weights.
        string model = Path.Combine(_dir, "m.safetensors");
        File.Copy(TrainingState.PathFor(files.Prev), TrainingState.PathFor(model));
        var (code, stdout, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(
            ["train", "--data", files.Data, .. Fast, "--epochs", "1", "--save", model, "--resume", TrainingState.PathFor(model)])); // epoch 1 is already done
        Assert.True(code == 0, stderr);
        Assert.Contains($"best model saved to {model}", stdout, StringComparison.Ordinal);
        var best = TrainingState.Load(TrainingState.PathFor(model)).Best!;
        var saved = SafeTensors.Load(model).Tensors;
        foreach (var (key, tensor) in saved) Assert.Equal(best[key].ToArray(), tensor.ToArray());
    }

    [Fact]
    public void Eval_warns_when_many_test_words_are_outside_the_checkpoint_vocabulary()
    {
        // A checkpoint whose vocabulary has <unk> and only half the corpus's words: the rest are scored as <unk>.
        var words = files.Corpus.Vocabulary.Words;
        var vocab = new Vocabulary([.. words.Where(w => w != Vocabulary.Eos).Take(words.Count / 2), Vocabulary.Unk, Vocabulary.Eos]);
        var model = new global::TinyGrad.Models.WordLM(new WordLMConfig(vocab.Count, 4, 8, 1), new Generator(1));
        string checkpoint = Path.Combine(_dir, "half.safetensors");
        WordLMCheckpoint.Save(checkpoint, model, vocab);
        var (code, stdout, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["eval", "--checkpoint", checkpoint, "--data", files.Data]));
        Assert.True(code == 0, stderr);
        Assert.Contains("test ppl", stdout, StringComparison.Ordinal);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^wordlm: warning: .*test\.txt: [0-9,]+ of [0-9,]+ tokens \([0-9.]+ %\) are not in the checkpoint's vocabulary", line);

        // Its own vocabulary: no warning.
        var (_, _, quiet) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["eval", "--checkpoint", files.Prev, "--data", files.Data]));
        Assert.Equal("", quiet);
    }

    [Fact]
    public void A_reference_checkpoint_with_experts_on_a_softmax_head_loads_with_a_note()
    {
        // The reference stores experts = 3 for a softmax head and ignores it; so do we, and say so.
        var (tensors, meta) = SafeTensors.Load(files.Prev);
        var config = meta["config"].Replace("\"experts\": 1", "\"experts\": 3", StringComparison.Ordinal);
        Assert.NotEqual(meta["config"], config);
        var edited = new Dictionary<string, string>(meta) { ["config"] = config };
        string checkpoint = Path.Combine(_dir, "reference.safetensors");
        SafeTensors.Save(checkpoint, [.. tensors], edited);

        var (code, stdout, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(["eval", "--checkpoint", checkpoint, "--data", files.Data]));
        Assert.True(code == 0, stderr);
        Assert.Contains("test ppl", stdout, StringComparison.Ordinal);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"wordlm: note: {checkpoint}: experts = 3 ignored for the softmax head (as the reference does)", line);
        Assert.Equal(1, WordLMConfig.FromJson(config).Experts);
        // Asking for the contradiction directly is still an error.
        Assert.Throws<ArgumentException>(() => new WordLMConfig(60, 8, 16, 2, HeadKind.Softmax, experts: 3));
    }

    [Fact]
    public void Generate_writes_each_word_as_it_is_drawn()
    {
        // A writer that records how much text had arrived at each flush: a streamed run flushes partial text.
        var flushes = new List<int>();
        var writer = new FlushRecorder(flushes);
        var old = Console.Out;
        Console.SetOut(writer);
        int code;
        try
        {
            code = global::WordLM.Program.Main(["generate", "--checkpoint", files.Prev, "--words", "1000", "--seed", "3"]);
        }
        finally
        {
            Console.SetOut(old);
        }
        Assert.Equal(0, code);
        string text = writer.ToString();
        Assert.True(flushes.Count(n => n > 0 && n < text.Length) >= 2, $"flushes at {string.Join(", ", flushes)} of {text.Length} characters");
        // Still exactly the buffered formatting.
        var (model, vocab) = WordLMCheckpoint.Load(files.Prev);
        Assert.True(vocab.TryGetId(Vocabulary.Eos, out int eos));
        var ids = global::WordLM.Sampler.Sample(model, [eos], 1000, 1f, new Generator(3));
        Assert.Equal(global::WordLM.Sampler.Format(ids.Select(id => vocab[id])), text);
    }

    private sealed class FlushRecorder(List<int> flushes) : StringWriter
    {
        public override void Flush()
        {
            flushes.Add(GetStringBuilder().Length);
            base.Flush();
        }
    }

    private string Expand(string text) => text
        .Replace("{fast16}", string.Join(" ", Fast), StringComparison.Ordinal)
        .Replace("{cfast}", string.Join(" ", Fast.Skip(2)), StringComparison.Ordinal)
        .Replace("{fast}", string.Join(" ", Fast.Where((_, i) => i is < 2 or >= 6)), StringComparison.Ordinal)
        .Replace("{data}", files.Data, StringComparison.Ordinal)
        .Replace("{prev}", files.Prev, StringComparison.Ordinal)
        .Replace("{h}", files.Directory, StringComparison.Ordinal)
        .Replace("{dir}", _dir, StringComparison.Ordinal)
        .Replace("{long}", new string('a', 250), StringComparison.Ordinal);

    // Runs the program and checks that it changed no file of the fixture or of this test's folder and created none.
    private (int Code, string Stderr) RunUntouched(string[] args)
    {
        var before = Snapshot();
        var (code, _, stderr) = ConsoleCapture.Run(() => global::WordLM.Program.Main(args));
        var after = Snapshot();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (path, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[path]), $"{path} changed");
        return (code, stderr);
    }

    private Dictionary<string, byte[]> Snapshot() =>
        new[] { files.Directory, _dir }
            .SelectMany(d => Directory.EnumerateFiles(d, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            .ToDictionary(p => p, p => CanRead(p) ? File.ReadAllBytes(p) : []);

    private static bool CanRead(string path)
    {
        try
        {
            using var _ = File.OpenRead(path);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool CanCreateIn(string folder)
    {
        try
        {
            using var _ = new FileStream(Path.Combine(folder, "probe"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
