using TinyGrad.Data;
using TinyGrad.Training;

namespace WordLM;

/// <summary>The three token streams a run trains, validates and tests on, with their vocabulary.</summary>
public sealed record Splits(Vocabulary Vocabulary, int[] Train, int[] Valid, int[] Test, string Description, double? OptimumPerplexity)
{
    /// <summary>The train, valid and test files the splits were read from; null for the built-in corpus.</summary>
    public (string Train, string Valid, string Test)? Files { get; init; }

    /// <summary>The token streams the library's trainer takes.</summary>
    public TokenSplits Tokens => new(Vocabulary, Train, Valid, Test);
}

/// <summary>Resolves <c>--data DIR</c>, <c>--train/--valid/--test</c>, or the built-in synthetic corpus.</summary>
public static class DataSource
{
    private static readonly string[][] Layouts =
    [
        ["train.txt", "valid.txt", "test.txt"],
        ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"],
        ["wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"],
    ];

    /// <summary>The three files of a data folder, in one of the known layouts.</summary>
    public static (string Train, string Valid, string Test) FindFiles(string directory)
    {
        if (!Directory.Exists(directory)) throw new CorpusException($"{directory}: data folder not found");
        foreach (var layout in Layouts)
        {
            var paths = layout.Select(f => Path.Combine(directory, f)).ToArray();
            if (paths.All(File.Exists)) return (paths[0], paths[1], paths[2]);
        }
        throw new CorpusException($"{directory}: no train/valid/test files; expected one of: {string.Join("; ", Layouts.Select(l => string.Join(", ", l)))}");
    }

    /// <summary>
    /// The data a training run names: <c>--data DIR</c>, all three of <c>--train/--valid/--test</c>, or, with
    /// neither, the built-in corpus from <c>--seed</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Both kinds are given, or only some of the three files.</exception>
    public static Splits Resolve(TrainOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var files = InputFiles(o); // checks the combination of options
        return files.Count == 0 ? Synthetic(o.Training.Seed) : FromFiles(files[0].Path, files[1].Path, files[2].Path);
    }

    /// <summary>
    /// The files a training run reads, each with the option that names it (<c>--data</c> for the files found in
    /// its folder); none for the built-in corpus. Checks the same combinations as <see cref="Resolve"/>.
    /// </summary>
    public static IReadOnlyList<(string Option, string Path)> InputFiles(TrainOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        int given = new[] { o.Train, o.Valid, o.Test }.Count(f => f is not null);
        if (o.Data is not null && given > 0) throw new ArgumentException("give either --data DIR or --train/--valid/--test, not both");
        if (given is > 0 and < 3) throw new ArgumentException("--train, --valid and --test go together: give all three");
        if (o.Data is not null)
        {
            var (train, valid, test) = FindFiles(o.Data);
            return [("--data", train), ("--data", valid), ("--data", test)];
        }
        return given == 3 ? [("--train", o.Train!), ("--valid", o.Valid!), ("--test", o.Test!)] : [];
    }

    /// <summary>
    /// Refuses splits too short for the run before any training: the training split must fill
    /// <paramref name="batchSize"/> streams of at least 2 tokens, and the validation and test splits the
    /// <paramref name="evalBatchSize"/> streams of the evaluation protocol (<see cref="Batches"/>' rule).
    /// </summary>
    /// <exception cref="CorpusException">A split is too short; the message names its file.</exception>
    public static void CheckLengths(Splits splits, int batchSize, int evalBatchSize)
    {
        ArgumentNullException.ThrowIfNull(splits);
        string[] names = splits.Files is { } f ? [f.Train, f.Valid, f.Test] : ["the training split", "the validation split", "the test split"];
        (int[] Tokens, int Streams, string Use)[] splitsUsed =
            [(splits.Train, batchSize, "--batch-size"), (splits.Valid, evalBatchSize, "validation's"), (splits.Test, evalBatchSize, "testing's")];
        for (int k = 0; k < 3; k++)
        {
            var (tokens, streams, use) = splitsUsed[k];
            if (tokens.Length / streams < 2)
                throw new CorpusException($"{names[k]}: {tokens.Length} tokens are too few for {use} {streams} streams (at least {2 * streams} are needed)");
        }
    }

    /// <summary>
    /// The test split <c>eval</c> and <c>rank</c> score, as ids of a checkpoint's vocabulary: the file from
    /// <see cref="TestFile"/>, or with none the built-in corpus of seed 1, the one the no-argument run trains on, so
    /// that its saved model can be scored and ranked straight away.
    /// </summary>
    /// <exception cref="ArgumentException">The built-in corpus has words the vocabulary lacks.</exception>
    public static int[] TestTokens(string verb, string? testFile, Vocabulary vocab) =>
        testFile is null ? BuiltInTestTokens(verb, vocab) : TextCorpus.Tokenize(testFile, vocab);

    /// <summary>The test file of <c>--data DIR</c> or <c>--test FILE</c> (at most one); null for the built-in corpus.</summary>
    /// <exception cref="ArgumentException">Both are given.</exception>
    public static string? TestFile(string verb, string? directory, string? file)
    {
        if (directory is not null && file is not null) throw new ArgumentException($"{verb}: give one of --data DIR or --test FILE, not both");
        return file ?? (directory is null ? null : FindFiles(directory).Test);
    }

    /// <summary>
    /// How many of a file's tokens (with <c>&lt;eos&gt;</c> at each line end, as <see cref="TextCorpus.Tokenize"/>
    /// counts them) are words missing from <paramref name="vocab"/>, which tokenizing maps to <c>&lt;unk&gt;</c>; a
    /// literal <c>&lt;unk&gt;</c> in the text is not counted, since it was unknown before the model saw it.
    /// </summary>
    public static (long Missing, long Tokens) OutOfVocabulary(string file, Vocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        long missing = 0, tokens = 0;
        foreach (var line in TextCorpus.ReadLines(file))
        {
            tokens += line.Length + 1;
            foreach (var w in line)
                if (w != Vocabulary.Unk && !vocab.TryGetId(w, out _)) missing++;
        }
        return (missing, tokens);
    }

    private static int[] BuiltInTestTokens(string verb, Vocabulary vocab) => BuiltInTokens(verb, vocab, train: false);

    /// <summary>
    /// The training split dynamic evaluation collects its gradient statistics on: <paramref name="train"/> (a file), else
    /// the train file of <paramref name="directory"/>, else the built-in corpus's (when the test split is the built-in one).
    /// </summary>
    /// <exception cref="ArgumentException">Only a test file was given, so there is no training split.</exception>
    public static int[] TrainTokensFor(string verb, string? directory, string? testFile, string? train, Vocabulary vocab)
    {
        if (train is not null) return TextCorpus.Tokenize(train, vocab);
        if (directory is not null) return TextCorpus.Tokenize(FindFiles(directory).Train, vocab);
        if (testFile is null) return BuiltInTokens(verb, vocab, train: true);
        throw new ArgumentException($"{verb}: --dynamic needs the training split for its gradient statistics; give --data DIR or --train FILE");
    }

    private static int[] BuiltInTokens(string verb, Vocabulary vocab, bool train)
    {
        var corpus = SyntheticCorpus.Generate(new TrainingOptions().Seed);
        var split = train ? corpus.Train : corpus.Test;
        var ids = new int[split.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            string word = corpus.Vocabulary[split[i]];
            if (!vocab.TryGetId(word, out ids[i]))
                throw new ArgumentException($"{verb}: the checkpoint was not trained on the built-in corpus (its vocabulary lacks '{word}'); give --data DIR or --test FILE");
        }
        return ids;
    }

    /// <summary>Loads text splits; the vocabulary is built from all three in order of first appearance.</summary>
    public static Splits FromFiles(string train, string valid, string test)
    {
        var vocab = TextCorpus.BuildVocabulary(train, valid, test);
        return new Splits(vocab, TextCorpus.Tokenize(train, vocab), TextCorpus.Tokenize(valid, vocab), TextCorpus.Tokenize(test, vocab),
            $"{train} | {valid} | {test}", null)
        {
            Files = (train, valid, test),
        };
    }

    /// <summary>The built-in corpus: a seeded Markov source whose optimum perplexity is known exactly.</summary>
    public static Splits Synthetic(ulong seed)
    {
        var corpus = SyntheticCorpus.Generate(seed);
        return new Splits(corpus.Vocabulary, corpus.Train, corpus.Valid, corpus.Test,
            $"built-in synthetic Markov corpus (seed {seed}, {corpus.Vocabulary.Count} words)", corpus.OptimumPerplexity);
    }
}
