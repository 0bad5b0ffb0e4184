using System.CommandLine;
using System.Text.Json;
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
        var batchSize = new Option<int>("--batch-size") { Description = "Parallel streams", DefaultValueFactory = _ => 10 };
        var bptt = new Option<int>("--bptt") { Description = "Window length", DefaultValueFactory = _ => 35 };
        var metrics = new Option<string?>("--metrics-json") { Description = "Write loss, ppl and tokens as JSON" };
        batchSize.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--batch-size must be positive"); });
        bptt.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--bptt must be positive"); });
        var command = new Command("eval", "Score a checkpoint on a test split (the reference evaluation protocol).") { checkpoint, data, test, batchSize, bptt, metrics };
        command.SetAction(p =>
        {
            var (model, vocab) = WordLMCheckpoint.Load(p.GetValue(checkpoint)!);
            var tokens = DataSource.TestTokens("eval", p.GetValue(data), p.GetValue(test), vocab);
            var result = Evaluation.Evaluate(model, tokens, p.GetValue(batchSize), p.GetValue(bptt));
            if (p.GetValue(metrics) is string m)
                File.WriteAllText(m, JsonSerializer.Serialize(new { loss = result.Loss, ppl = result.Perplexity, tokens = result.Tokens }));
            Console.WriteLine($"test loss {result.Loss:F4} | test ppl {result.Perplexity:F2}");
            return 0;
        });
        return command;
    }
}
