using TinyGrad.Backends;
using TinyGrad.Models;

namespace TinyGrad.Training;

/// <summary>
/// What a <see cref="LanguageModelTrainer"/> reports while it runs; it prints nothing itself. Override the events
/// you want (each does nothing here). They fire in this order: <see cref="OnFitStart"/>, then
/// <see cref="OnNote"/>s and <see cref="OnResumed"/> when resuming, then per epoch every <see cref="OnStep"/>,
/// <see cref="OnEpochEnd"/>, and any of <see cref="OnSwitchToAveraging"/>, <see cref="OnLearningRateChanged"/>
/// and <see cref="OnEarlyStop"/>; last <see cref="OnFitEnd"/>.
/// </summary>
public class TrainingCallbacks
{
    /// <summary>The model is built (and on its device); training has not begun.</summary>
    public virtual void OnFitStart(FitStartInfo info) { }

    /// <summary>Something worth knowing that is not an error (a resumed state overriding the given learning rate).</summary>
    public virtual void OnNote(string message) { }

    /// <summary>A run was restored from <paramref name="statePath"/>; it continues after <paramref name="epoch"/>.</summary>
    public virtual void OnResumed(string statePath, int epoch, long step) { }

    /// <summary>
    /// One optimiser step's loss, once it is read (on an accelerator, in batches of
    /// <see cref="TrainingOptions.LogInterval"/>, so shortly after the step).
    /// </summary>
    public virtual void OnStep(StepInfo info) { }

    /// <summary>An epoch ended and was validated.</summary>
    public virtual void OnEpochEnd(EpochInfo info) { }

    /// <summary>NT-ASGD switched to averaged SGD after <paramref name="epoch"/>: no improvement for <paramref name="nonMono"/> epochs.</summary>
    public virtual void OnSwitchToAveraging(int epoch, int nonMono) { }

    /// <summary>The <see cref="TrainingOptions.When"/> schedule divided the learning rate by 10 after <paramref name="epoch"/>.</summary>
    public virtual void OnLearningRateChanged(int epoch, float learningRate) { }

    /// <summary>Training stops after <paramref name="epoch"/>: no improvement for <paramref name="epochsSinceBest"/> ≥ <paramref name="patience"/> epochs.</summary>
    public virtual void OnEarlyStop(int epoch, int epochsSinceBest, int patience) { }

    /// <summary>Training ended and the test split was scored with the best model.</summary>
    public virtual void OnFitEnd(TrainingResult result) { }
}

/// <summary>The start of a run.</summary>
/// <param name="Model">The freshly built model (resumed weights are loaded after this event).</param>
/// <param name="Device">Where it trains.</param>
/// <param name="PlannedSteps">Steps for all the epochs at the nominal window length (before <see cref="TrainingOptions.MaxSteps"/>).</param>
public sealed record FitStartInfo(WordLM Model, Device Device, long PlannedSteps);

/// <summary>One optimiser step.</summary>
/// <param name="Epoch">The epoch it belongs to (from 1).</param>
/// <param name="Step">The step's number over the whole run (from 1).</param>
/// <param name="LearningRate">The learning rate of the epoch (before variable BPTT scales it for this window).</param>
/// <param name="Loss">The window's mean NLL (without AR/TAR).</param>
/// <param name="GradientNorm">The gradient norm before clipping (0 when clipping is off).</param>
/// <param name="Tokens">Tokens predicted: window length × batch size.</param>
public sealed record StepInfo(int Epoch, long Step, float LearningRate, float Loss, float GradientNorm, int Tokens);

/// <summary>One epoch's validation.</summary>
/// <param name="Epoch">The epoch (from 1).</param>
/// <param name="Step">Steps taken so far.</param>
/// <param name="ValidLoss">Mean validation NLL (with the averaged weights under NT-ASGD).</param>
/// <param name="ValidPerplexity">exp of <paramref name="ValidLoss"/>.</param>
/// <param name="Improved">Whether it is the best so far (and so the kept model).</param>
public sealed record EpochInfo(int Epoch, long Step, double ValidLoss, double ValidPerplexity, bool Improved);
