using System.CommandLine;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;

namespace WordLM;

/// <summary>
/// <c>rank --checkpoint PATH [--data DIR | --test F] [--contexts N] [--metrics-json PATH]</c>: the numerical rank of
/// the model's log-probability matrix over the first N contexts of the test split, with the bound d + 2.
/// </summary>
public static class RankCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Build()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A WordLM safetensors checkpoint", Required = true };
        var data = new Option<string?>("--data") { Description = "Folder whose test split supplies the contexts (default: the built-in corpus)" };
        var test = new Option<string?>("--test") { Description = "Test text file" };
        var contexts = new Option<int>("--contexts") { Description = "Contexts (rows of log P): the first N predicted positions of the test split", DefaultValueFactory = _ => LogProbRank.DefaultContexts };
        var metrics = new Option<string?>("--metrics-json") { Description = "Write rank, bound, contexts and vocab as JSON" };
        contexts.Validators.Add(r => { int n = r.GetValueOrDefault<int>(); if (n <= 0) r.AddError($"--contexts must be positive, got {n}"); });
        var command = new Command("rank", "The numerical rank of a checkpoint's log-probability matrix, with the softmax bound d + 2.")
            { checkpoint, data, test, contexts, metrics };
        InvariantNumbers.ApplyTo(command);
        command.SetAction(p =>
        {
            string path = p.GetValue(checkpoint)!;
            string? testFile = DataSource.TestFile("rank", p.GetValue(data), p.GetValue(test));
            new PathChecks().Input("--checkpoint", path).Input(p.GetValue(data) is null ? "--test" : "--data", testFile)
                .Output("--metrics-json", p.GetValue(metrics)).Verify();
            var (model, vocab) = CheckpointFile.Load(path);
            var tokens = DataSource.TestTokens("rank", testFile, vocab);
            int requested = p.GetValue(contexts);
            var result = LogProbRank.Compute(model, tokens, requested);
            Console.WriteLine($"model: {HeadKinds.Name(model.Config.Head)} head, emsize {model.Config.EmSize}, nhidlast {model.Config.NHidLast}" +
                              (model.Config.IsMixture ? $", K={model.Config.Experts}" : ""));
            if (result.Contexts < requested)
                Console.WriteLine($"note: the test split predicts only {result.Contexts:N0} positions, fewer than the {requested:N0} asked for");
            foreach (var line in result.Lines()) Console.WriteLine(line);
            if (p.GetValue(metrics) is string m) MetricsFile.Write(m, result.ToJsonObject());
            return 0;
        });
        return command;
    }
}
