using TinyGrad.Backends;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// Everything the <c>train</c> verb takes; names follow AWD-LSTM's main.py where it has them. The data, the model's
/// shape and the console settings are the command line's own; the hyper-parameters of the run are the library's
/// <see cref="TrainingOptions"/>, held whole in <see cref="Training"/> so that each is declared, defaulted and
/// documented once, there.
/// </summary>
public sealed record TrainOptions
{
    /// <summary>A folder of train/valid/test files (or null).</summary>
    public string? Data { get; init; }
    /// <summary>Explicit split files (all three or none).</summary>
    public string? Train { get; init; }
    /// <summary>Explicit validation file.</summary>
    public string? Valid { get; init; }
    /// <summary>Explicit test file.</summary>
    public string? Test { get; init; }

    /// <summary>The output head (<c>--head</c> takes its name).</summary>
    public HeadKind Head { get; init; } = HeadKind.Sigsoftmax;
    /// <summary>Mixture components (mos/moss).</summary>
    public int Experts { get; init; } = 1;
    /// <summary>Embedding size.</summary>
    public int EmSize { get; init; } = 64;
    /// <summary>Hidden size of the inner LSTM layers.</summary>
    public int NHid { get; init; } = 192;
    /// <summary>Hidden size of the last LSTM layer (0: emsize for softmax/sigsoftmax, nhid for mixtures).</summary>
    public int NHidLast { get; init; }
    /// <summary>LSTM layers.</summary>
    public int NLayers { get; init; } = 2;
    /// <summary>Tie the decoder to the embedding.</summary>
    public bool Tied { get; init; } = true;

    /// <summary>CPU threads.</summary>
    public int Threads { get; init; }
    /// <summary>cpu or cuda, by name (the caller resolves it for <see cref="ToTrainingOptions"/>).</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Where to write the training-curve image (PNG).</summary>
    public string? Plot { get; init; }
    /// <summary>Where to write the run's metrics as JSON.</summary>
    public string? MetricsJson { get; init; }

    /// <summary>
    /// The run's hyper-parameters (optimiser, schedule, regularisers, seed, checkpoints), with the library's
    /// defaults, which are WordLM's. Its <see cref="TrainingOptions.Seed"/> also generates the built-in corpus;
    /// its <see cref="TrainingOptions.Device"/> is left unset here, since only <see cref="Device"/>'s name is parsed.
    /// </summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>The library's options for this run, on <paramref name="device"/> (resolved from <see cref="Device"/> by the caller).</summary>
    public TrainingOptions ToTrainingOptions(Device device) => Training with { Device = device };
}
