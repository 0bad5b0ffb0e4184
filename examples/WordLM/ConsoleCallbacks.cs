using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Backends.Cpu;
using TinyGrad.Backends.Cuda;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// The train verb's console output, fed by the library trainer's events: the data and model lines, the progress
/// line, one line per epoch, the NT-ASGD, schedule and early-stop notices, and the summary.
/// </summary>
public sealed class ConsoleCallbacks(TrainOptions o, Splits splits) : TrainingCallbacks
{
    private Progress? _progress;

    /// <inheritdoc/>
    public override void OnFitStart(FitStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var config = info.Model.Config;
        Console.WriteLine($"data: {splits.Description}");
        Console.WriteLine($"      {splits.Train.Length:N0} / {splits.Valid.Length:N0} / {splits.Test.Length:N0} tokens, vocabulary {splits.Vocabulary.Count:N0}");
        Console.WriteLine($"model: {HeadKinds.Name(config.Head)} head{(config.IsMixture ? $" (K={config.Experts})" : "")}, emsize {config.EmSize}, nhid {config.NHid}, nhidlast {config.NHidLast}, " +
                          $"{config.NLayers} layers, {(config.Tied ? "tied" : "untied")}, {info.Model.ParameterCount():N0} parameters; " +
                          (info.Device == Device.Cpu ? $"{CpuThreads.Count} threads" : info.Device == Device.Cuda ? $"cuda: {CudaBackend.Instance.Describe()}" : $"device {info.Device.Name}"));
        _progress = new Progress(o.Training.LogInterval, info.PlannedSteps, o.Training.MaxSteps);
    }

    /// <inheritdoc/>
    public override void OnNote(string message) => Console.Error.WriteLine($"wordlm: note: {message}");

    /// <inheritdoc/>
    public override void OnResumed(string statePath, int epoch, long step) =>
        Console.WriteLine($"resumed from {statePath} after epoch {epoch} (step {step:N0})");

    /// <inheritdoc/>
    public override void OnStep(StepInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        _progress?.Step(info.Epoch, info.Step, info.LearningRate, info.Loss, info.Tokens);
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(EpochInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        EndLine();
        Console.WriteLine($"epoch {info.Epoch} | valid loss {info.ValidLoss:F4} | valid ppl {info.ValidPerplexity:F2}" +
                          (splits.OptimumPerplexity is double opt ? $" | optimum ppl {opt:F2}" : "") +
                          (info.Improved ? " | best so far" : ""));
    }

    /// <inheritdoc/>
    public override void OnSwitchToAveraging(int epoch, int nonMono) =>
        Console.WriteLine($"switching to averaged SGD (no improvement for {nonMono} epochs)");

    /// <inheritdoc/>
    public override void OnLearningRateChanged(int epoch, float learningRate) =>
        Console.WriteLine($"learning rate divided by 10 after epoch {epoch}: now {learningRate:G3}");

    /// <inheritdoc/>
    public override void OnEarlyStop(int epoch, int epochsSinceBest, int patience) =>
        Console.WriteLine($"stopping early: validation has not improved for {epochsSinceBest} epochs (--patience {patience})");

    /// <inheritdoc/>
    public override void OnFitEnd(TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Console.WriteLine();
        Console.WriteLine($"summary: {HeadKinds.Name(o.Head)} head, {result.Model.ParameterCount():N0} parameters, {result.Steps:N0} steps in {result.Seconds:F1} s ({result.TokensPerSecond:N0} tokens/s)");
        Console.WriteLine($"  train ppl {result.TrainPerplexity:F2} | best valid ppl {result.BestValidPerplexity:F2} | test ppl {result.TestPerplexity:F2}");
        if (splits.OptimumPerplexity is double optimum)
            Console.WriteLine($"  optimum ppl {optimum:F2} (the exact entropy rate of the built-in source: no model can do better)");
        if (result.SavedTo is string saved)
        {
            Console.WriteLine($"  best model saved to {saved}");
            Console.WriteLine($"  next: generate --checkpoint {saved} --words 30, or rank --checkpoint {saved}{(o.Data is not null ? $" --data {o.Data}" : o.Test is not null ? $" --test {o.Test}" : "")}");
        }
    }

    /// <summary>Ends an open in-place progress line before other output (a divergence message, say).</summary>
    public void EndLine() => _progress?.EndLine();
}
