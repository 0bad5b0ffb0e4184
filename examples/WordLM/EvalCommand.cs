using System.CommandLine;
using System.Text.Json;
using TinyGrad.Data;
using TinyGrad.Models;

namespace WordLM;

/// <summary>
/// <c>eval --checkpoint PATH [--data DIR | --test F] [--dynamic]</c>: scores the test split by the reference protocol,
/// or with dynamic evaluation (Krause et al. 2018, as MoS's dynamiceval.py).
/// </summary>
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
        var dynamic = new Option<bool>("--dynamic") { Description = "Dynamic evaluation: adapt the weights to the test stream, window by window, each window scored before the update (Krause et al. 2018)" };
        var dynamicLr = new Option<float>("--dynamic-lr") { Description = "Dynamic evaluation's learning rate (MoS: 0.002)", DefaultValueFactory = _ => 0.002f };
        var dynamicLambda = new Option<float>("--dynamic-lambda") { Description = "Dynamic evaluation's decay toward the trained weights (MoS: 0.02)", DefaultValueFactory = _ => 0.02f };
        var dynamicBptt = new Option<int>("--dynamic-bptt") { Description = "Dynamic evaluation's window length (MoS: 5)", DefaultValueFactory = _ => 5 };
        var dynamicMaxBatches = new Option<int>("--dynamic-max-batches") { Description = "Training windows (of 100 streams) for the gradient statistics (0: the whole split)" };
        var train = new Option<string?>("--train") { Description = "Training text file, for --dynamic's gradient statistics when --test is given" };
        dynamicLr.Validators.Add(r => { float v = r.GetValueOrDefault<float>(); if (!(v >= 0) || float.IsInfinity(v)) r.AddError($"--dynamic-lr must be a finite number ≥ 0, got {v}"); });
        dynamicLambda.Validators.Add(r => { float v = r.GetValueOrDefault<float>(); if (!(v > 0) || float.IsInfinity(v)) r.AddError($"--dynamic-lambda must be a finite number > 0, got {v}"); });
        dynamicBptt.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--dynamic-bptt must be positive"); });
        dynamicMaxBatches.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--dynamic-max-batches must be ≥ 0"); });
        batchSize.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--batch-size must be positive"); });
        bptt.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--bptt must be positive"); });
        var command = new Command("eval", "Score a checkpoint on a test split (the reference evaluation protocol).") { checkpoint, data, test, batchSize, bptt, metrics, dynamic, dynamicLr, dynamicLambda, dynamicBptt, dynamicMaxBatches, train };
        InvariantNumbers.ApplyTo(command);
        command.SetAction(p =>
        {
            string path = p.GetValue(checkpoint)!;
            string? testFile = DataSource.TestFile("eval", p.GetValue(data), p.GetValue(test));
            new PathChecks().Input("--checkpoint", path).Input(p.GetValue(data) is null ? "--test" : "--data", testFile)
                .Input("--train", p.GetValue(train)).Output("--metrics-json", p.GetValue(metrics)).Verify();
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
            if (p.GetValue(dynamic))
            {
                var trainTokens = DataSource.TrainTokensFor("eval", p.GetValue(data), testFile, p.GetValue(train), vocab);
                var options = new DynamicEvaluationOptions
                {
                    Lr = p.GetValue(dynamicLr),
                    Lambda = p.GetValue(dynamicLambda),
                    Bptt = p.GetValue(dynamicBptt),
                    StatsMaxBatches = p.GetValue(dynamicMaxBatches),
                };
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var adapted = DynamicEvaluation.Evaluate(model, trainTokens, tokens, options).Result;
                if (p.GetValue(metrics) is string dm)
                {
                    File.WriteAllText(dm, JsonSerializer.Serialize(new
                    {
                        loss = adapted.Loss,
                        ppl = adapted.Perplexity,
                        tokens = adapted.Tokens,
                        dynamic = true,
                        dynamic_lr = options.Lr,
                        dynamic_lambda = options.Lambda,
                        dynamic_bptt = options.Bptt,
                        seconds = clock.Elapsed.TotalSeconds,
                    }));
                }
                Console.WriteLine($"test loss {adapted.Loss:F4} | test ppl {adapted.Perplexity:F2} (dynamic evaluation: lr {options.Lr}, lambda {options.Lambda}, bptt {options.Bptt}; {clock.Elapsed.TotalSeconds:F1} s)");
                return 0;
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
