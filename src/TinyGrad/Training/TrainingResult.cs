using TinyGrad.Models;

namespace TinyGrad.Training;

/// <summary>What <see cref="LanguageModelTrainer.Fit"/> hands back.</summary>
/// <param name="Model">The model with its best weights (by validation loss) loaded, in evaluation mode.</param>
/// <param name="Steps">Optimiser steps taken (a resumed run counts the earlier run's too).</param>
/// <param name="Seconds">Wall time of the training loop, validation included, test scoring not.</param>
/// <param name="TrainTokens">Training tokens seen.</param>
/// <param name="TrainLoss">Mean training NLL over every step (dropout on, as trained).</param>
/// <param name="BestValidLoss">The best validation loss (+∞ when no epoch ran).</param>
/// <param name="Test">The test split scored with the best model.</param>
/// <param name="ValidLossByEpoch">Validation loss after each epoch (the training curve).</param>
/// <param name="SavedTo">The file that holds the best model (<see cref="TrainingOptions.Save"/>), or null when none was written.</param>
public sealed record TrainingResult(WordLM Model, long Steps, double Seconds, long TrainTokens, double TrainLoss,
    double BestValidLoss, EvaluationResult Test, IReadOnlyList<double> ValidLossByEpoch, string? SavedTo)
{
    /// <summary>exp of <see cref="TrainLoss"/>.</summary>
    public double TrainPerplexity => Math.Exp(TrainLoss);

    /// <summary>exp of <see cref="BestValidLoss"/>.</summary>
    public double BestValidPerplexity => Math.Exp(BestValidLoss);

    /// <summary>Test perplexity of the best model.</summary>
    public double TestPerplexity => Test.Perplexity;

    /// <summary>Training tokens per second of <see cref="Seconds"/>.</summary>
    public double TokensPerSecond => TrainTokens / Math.Max(1e-9, Seconds);
}
