using System.CommandLine;
using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Backends.Cpu;
using TinyGrad.Backends.Cuda;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// The <c>train</c> verb, and the root command's default action (no verb means train): the options become a model
/// shape and the library's <see cref="TrainingOptions"/>, and <see cref="LanguageModelTrainer"/> trains with
/// <see cref="ConsoleCallbacks"/> printing its progress.
/// </summary>
public static class TrainCommand
{
    private const int MaxExperts = 1024;

    /// <summary>A <c>train</c> subcommand.</summary>
    public static Command Build(string name, string description)
    {
        var command = new Command(name, description);
        AttachTo(command);
        return command;
    }

    /// <summary>Where the no-verb run keeps its model when no <c>--save</c> is given, so that <c>generate</c> and <c>rank</c> work on it next.</summary>
    public const string DefaultSave = "wordlm.safetensors";

    /// <summary>
    /// Adds the train options and action to a command. The root uses this for the no-verb default with
    /// <paramref name="saveByDefault"/>: a newcomer's first run keeps its model in <see cref="DefaultSave"/>.
    /// </summary>
    public static void AttachTo(Command command, bool saveByDefault = false)
    {
        ArgumentNullException.ThrowIfNull(command);
        var options = new TrainOptionSet();
        options.AddTo(command);
        InvariantNumbers.ApplyTo(command);
        command.SetAction(parse =>
        {
            var o = options.Read(parse);
            if (saveByDefault && o.Training.Save is null) o = o with { Training = o.Training with { Save = DefaultSave } };
            PathChecks.ForTraining(o, o.Training.Save is not string save ? [] : [(save, save)]).Verify(); // before any work
            var result = Run(o);
            if (o.MetricsJson is not null) MetricsFile.Write(o.MetricsJson, result.Metrics.ToJsonObject());
            if (o.Plot is not null) Curves.Save(o.Plot, [result.Metrics]);
            return 0;
        });
    }

    /// <summary>
    /// The model shape the options ask for: <c>--experts</c> only with a mixture head (default 4 there), and
    /// <c>--nhidlast</c> 0 meaning the reference's default (emsize, or nhid for the mixtures).
    /// </summary>
    /// <exception cref="ArgumentException">The options do not make a valid model.</exception>
    public static WordLMConfig ConfigFor(TrainOptions o, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(o);
        bool mixture = HeadKinds.IsMixture(o.Head);
        if (!mixture && o.Experts > 1) throw new ArgumentException($"--experts {o.Experts} needs a mixture head (mos or moss), not --head {HeadKinds.Name(o.Head)}");
        int experts = mixture ? (o.Experts > 0 ? o.Experts : 4) : 1;
        // More components than words (or than any mixture needs) only makes a run take minutes before it fails.
        if (mixture && o.Experts > Math.Min(vocabSize, MaxExperts))
            throw new ArgumentException($"--experts {o.Experts} must be at most {(vocabSize < MaxExperts ? $"the vocabulary size, {vocabSize}" : $"{MaxExperts}")}");
        var config = new WordLMConfig(vocabSize, o.EmSize, o.NHid, o.NLayers, o.Head, experts, o.NHidLast > 0 ? o.NHidLast : null, o.Tied);
        ModelSize.Check(config); // before anything is allocated
        return config;
    }

    /// <summary>
    /// Trains one model as <paramref name="o"/> says, printing progress, per-epoch validation and a summary, and
    /// keeping the best model by validation perplexity (also in <c>o.Training.Save</c> when given). Both <c>train</c> and
    /// <c>compare</c> run this; writing metrics is the caller's business.
    /// </summary>
    /// <param name="o">The options.</param>
    /// <param name="splits">The data, when the caller has already loaded it (compare trains several heads on one load);
    /// null to resolve it from <paramref name="o"/>.</param>
    /// <exception cref="ArgumentException">The options contradict each other.</exception>
    /// <exception cref="TrainingDivergedException">The loss, the gradient norm or the validation loss is no longer usable (<see cref="Divergence"/>).</exception>
    public static TrainResult Run(TrainOptions o, Splits? splits = null)
    {
        ArgumentNullException.ThrowIfNull(o);
        var device = Device.Named(o.Device); // cpu, cuda, or any device a program registered
        if (o.Device == "cuda" && CudaBackend.UnavailableReason is string why)
            throw new ArgumentException($"--device cuda: {why}; use --device cpu");
        if (o.Threads > 0) CpuThreads.Count = o.Threads;
        splits ??= DataSource.Resolve(o);
        var config = ConfigFor(o, splits.Vocabulary.Count);
        DataSource.CheckLengths(splits, o.Training.BatchSize, LanguageModelTrainer.EvalBatchSize); // a short split fails now, not after the epochs
        var console = new ConsoleCallbacks(o, splits);
        var trainer = new LanguageModelTrainer(config, splits.Tokens, o.ToTrainingOptions(device), console);
        TrainingResult r;
        try
        {
            r = trainer.Fit();
        }
        finally
        {
            console.EndLine(); // a divergence message starts a line of its own, not the end of the progress line
        }
        var metrics = new TrainMetrics(o.Head, r.Model.ParameterCount(), r.Steps, r.Seconds, r.TokensPerSecond, r.TrainPerplexity,
            r.BestValidPerplexity, r.TestPerplexity, splits.OptimumPerplexity, [.. r.ValidLossByEpoch.Select(Math.Exp)], RunConfig(o, config, trainer));
        return new TrainResult(metrics, r.Model, splits);
    }

    /// <summary>The run's full setting for its metrics (<c>"config"</c>): with these options the run can be repeated.</summary>
    private static Dictionary<string, object?> RunConfig(TrainOptions o, TinyGrad.Models.WordLMConfig config, LanguageModelTrainer trainer)
    {
        var t = trainer.Options;
        return new Dictionary<string, object?>
        {
            ["head"] = HeadKinds.Name(o.Head), // by name: the enum would serialise as a bare number
            ["emsize"] = config.EmSize,
            ["nhid"] = config.NHid,
            ["nhidlast"] = config.NHidLast,
            ["nlayers"] = config.NLayers,
            ["experts"] = config.Experts,
            ["tied"] = config.Tied,
            ["vocab"] = config.VocabSize,
            ["dropout"] = t.Dropout,
            ["dropouth"] = t.DropoutH,
            ["dropouti"] = t.DropoutI,
            ["dropoute"] = t.DropoutE,
            ["wdrop"] = t.WDrop,
            ["dropoutl"] = trainer.Model.DropoutL,
            ["alpha"] = t.Alpha,
            ["beta"] = t.Beta,
            ["optimizer"] = t.Optimizer,
            ["lr"] = t.Lr,
            ["clip"] = t.Clip,
            ["wdecay"] = t.WDecay,
            ["epochs"] = t.Epochs,
            ["max_steps"] = t.MaxSteps,
            ["batch_size"] = t.BatchSize,
            ["bptt"] = t.Bptt,
            ["variable_bptt"] = t.VariableBptt,
            ["nonmono"] = t.NonMono,
            ["when"] = t.Schedule,
            ["patience"] = t.Patience,
            ["init"] = t.Init,
            ["average_from_start"] = t.AverageFromStart,
            ["test_batch_size"] = t.TestBatchSize,
            ["data"] = o.Data ?? (o.Train is null ? "built-in" : $"{o.Train} | {o.Valid} | {o.Test}"),
            ["seed"] = t.Seed,
            ["threads"] = CpuThreads.Count,
            ["device"] = o.Device,
        };
    }
}
