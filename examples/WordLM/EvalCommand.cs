using System.CommandLine;
using System.Text.Json;
using TinyGrad.Data;
using TinyGrad.Models;

namespace WordLM;

/// <summary><c>eval --checkpoint PATH [--data DIR | --test F]</c>: scores the test split by the reference protocol.</summary>
public static class EvalCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A WordLM safetensors checkpoint", Required = true };
        var data = new Option<string?>("--data") { Description = "Folder whose test split is scored (default: the built-in corpus)" };
        var test = new Option<string?>("--test") { Description = "Test text file" };
        var batchSize = new Option<int>("--batch-size") { Description = "Parallel streams (1: one stream with the state carried, as AWD-LSTM scores the test split)", DefaultValueFactory = _ => 1 };
        var bptt = new Option<int>("--bptt") { Description = "Window length", DefaultValueFactory = _ => 35 };
        var metrics = new Option<string?>("--metrics-json") { Description = "Write loss, ppl and tokens as JSON" };
        batchSize.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--batch-size must be positive"); });
        bptt.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--bptt must be positive"); });
        var command = new Command("eval", "Score a checkpoint on a test split (the reference evaluation protocol).") { checkpoint, data, test, batchSize, bptt, metrics };
        InvariantNumbers.ApplyTo(command);
        command.SetAction(p =>
        {
            string path = p.GetValue(checkpoint)!;
            string? testFile = DataSource.TestFile("eval", p.GetValue(data), p.GetValue(test));
            new PathChecks().Input("--checkpoint", path).Input(p.GetValue(data) is null ? "--test" : "--data", testFile)
                .Output("--metrics-json", p.GetValue(metrics)).Verify();
            var (model, vocab) = CheckpointFile.Load(path);
            var tokens = DataSource.TestTokens("eval", testFile, vocab);
            int streams = p.GetValue(batchSize);
            if (tokens.Length / streams < 2)
                throw new CorpusException($"{testFile ?? "the built-in test split"}: {tokens.Length} tokens are too few for --batch-size {streams} (at least {2 * streams} are needed)");
            if (testFile is not null && vocab.TryGetId(Vocabulary.Unk, out _))
            {
                // Scoring text against another corpus's vocabulary "works" and gives a meaningless perplexity: say so.
                var (missing, total) = DataSource.OutOfVocabulary(testFile, vocab);
                if (missing > total / 100)
                    Console.Error.WriteLine($"wordlm: warning: {testFile}: {missing:N0} of {total:N0} tokens ({100.0 * missing / total:F1} %) are not in the checkpoint's vocabulary and were scored as {Vocabulary.Unk}");
            }
            var result = Evaluation.Evaluate(model, tokens, streams, p.GetValue(bptt));
            if (p.GetValue(metrics) is string m)
                File.WriteAllText(m, JsonSerializer.Serialize(new { loss = result.Loss, ppl = result.Perplexity, tokens = result.Tokens }));
            Console.WriteLine($"test loss {result.Loss:F4} | test ppl {result.Perplexity:F2}");
            return 0;
        });
        return command;
    }
}
