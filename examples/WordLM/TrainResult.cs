using TinyGrad.Data;
using TinyGrad.NN.Heads;

namespace WordLM;

/// <summary>The figures of one training run: what <c>train --metrics-json</c> writes and <c>compare</c> tabulates.</summary>
/// <param name="Head">The output head (the JSON's <c>head</c> holds its name).</param>
/// <param name="Parameters">Trainable parameters (a tied weight counted once).</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="Seconds">Wall time of the training loop, validation included, test scoring not.</param>
/// <param name="TokensPerSecond">Training tokens per second of <paramref name="Seconds"/>.</param>
/// <param name="TrainPpl">exp of the mean training NLL over every step (dropout on, as trained).</param>
/// <param name="ValidPpl">The best validation perplexity.</param>
/// <param name="TestPpl">Test perplexity of the model that had the best validation perplexity.</param>
/// <param name="OptimumPpl">The source's exact optimum on the built-in corpus; null on text data.</param>
/// <param name="ValidPplByEpoch">Validation perplexity after each epoch (the training curve).</param>
/// <param name="Config">Everything that defines the run (model, regularisers, optimisation, data, seed, threads), so a
/// row of a results table can be run again; written under <c>"config"</c>.</param>
public sealed record TrainMetrics(HeadKind Head, long Parameters, long Steps, double Seconds, double TokensPerSecond,
    double TrainPpl, double ValidPpl, double TestPpl, double? OptimumPpl, IReadOnlyList<double> ValidPplByEpoch,
    IReadOnlyDictionary<string, object?>? Config = null)
{
    /// <summary>The JSON object of the command-line contract, keys in its order (<c>optimum_ppl</c> only when known).</summary>
    public Dictionary<string, object?> ToJsonObject()
    {
        var metrics = new Dictionary<string, object?>
        {
            ["head"] = HeadKinds.Name(Head),
            ["parameters"] = Parameters,
            ["steps"] = Steps,
            ["seconds"] = Seconds,
            ["tokens_per_second"] = TokensPerSecond,
            ["train_ppl"] = TrainPpl,
            ["valid_ppl"] = ValidPpl,
            ["test_ppl"] = TestPpl,
        };
        if (OptimumPpl is double optimum) metrics["optimum_ppl"] = optimum;
        metrics["valid_ppl_by_epoch"] = ValidPplByEpoch;
        if (Config is not null) metrics["config"] = Config;
        return metrics;
    }
}

/// <summary>
/// What <see cref="TrainCommand.Run"/> hands back: the metrics, the model holding the best weights by validation
/// perplexity (the ones the test figure was measured with), and the data it was trained on, so a caller such as
/// <c>compare</c> can analyse the model further without reloading anything.
/// </summary>
/// <param name="Metrics">The run's figures.</param>
/// <param name="Model">The trained model with its best weights loaded, in evaluation mode.</param>
/// <param name="Splits">The train/valid/test streams and their vocabulary.</param>
public sealed record TrainResult(TrainMetrics Metrics, TinyGrad.Models.WordLM Model, Splits Splits)
{
    /// <summary>The vocabulary the model's ids refer to.</summary>
    public Vocabulary Vocabulary => Splits.Vocabulary;
}
