using TinyGrad.Backends;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// Everything the <c>train</c> verb takes; names follow AWD-LSTM's main.py where it has them. The data, the model's
/// shape and the console settings are the command line's; the rest maps onto the library's
/// <see cref="TrainingOptions"/> (<see cref="ToTrainingOptions"/>).
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
    /// <summary>Seed for the corpus generator, initialisation, dropout and batching.</summary>
    public ulong Seed { get; init; } = 1;

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

    /// <summary>Locked dropout on the last layer's output.</summary>
    public float Dropout { get; init; }
    /// <summary>Locked dropout between LSTM layers.</summary>
    public float DropoutH { get; init; }
    /// <summary>Locked dropout on the embeddings.</summary>
    public float DropoutI { get; init; }
    /// <summary>Embedding (word) dropout.</summary>
    public float DropoutE { get; init; }
    /// <summary>DropConnect on the recurrent weights.</summary>
    public float WDrop { get; init; }
    /// <summary>MoS's dropoutl on the mixture experts' latent contexts; null: the value of <see cref="DropoutH"/>.</summary>
    public float? DropoutL { get; init; }
    /// <summary>A checkpoint whose weights the run starts from.</summary>
    public string? Init { get; init; }
    /// <summary>Averaged SGD from the first step (AWD-LSTM's fine-tuning), with <c>--optimizer asgd</c>.</summary>
    public bool AverageFromStart { get; init; }
    /// <summary>AR coefficient.</summary>
    public float Alpha { get; init; }
    /// <summary>TAR coefficient.</summary>
    public float Beta { get; init; }

    /// <summary>sgd, asgd (NT-ASGD) or adam.</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>Learning rate.</summary>
    public float Lr { get; init; } = 1e-2f;
    /// <summary>Gradient-norm clip (0: off).</summary>
    public float Clip { get; init; } = 0.25f;
    /// <summary>Weight decay.</summary>
    public float WDecay { get; init; }
    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 6;
    /// <summary>Stop after this many optimiser steps (0: no limit).</summary>
    public int MaxSteps { get; init; }
    /// <summary>Parallel streams.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Window length.</summary>
    public int Bptt { get; init; } = 35;
    /// <summary>AWD-LSTM's random window length, with the learning rate scaled by length.</summary>
    public bool VariableBptt { get; init; }
    /// <summary>NT-ASGD's patience in epochs.</summary>
    public int NonMono { get; init; } = 5;
    /// <summary>
    /// Epochs after which the learning rate is divided by 10 (AWD-LSTM's <c>--when</c>); null: after the first two
    /// thirds of <see cref="Epochs"/> (<see cref="TrainingOptions.DefaultWhen"/>); empty: never.
    /// </summary>
    public int[]? When { get; init; }
    /// <summary>Stop once validation has not improved for this many epochs (0: never stop early).</summary>
    public int Patience { get; init; }

    /// <summary>CPU threads.</summary>
    public int Threads { get; init; }
    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Steps between progress lines.</summary>
    public int LogInterval { get; init; } = 50;

    /// <summary>Where to keep the best model (safetensors).</summary>
    public string? Save { get; init; }
    /// <summary>A training state (the <c>.state</c> file beside a --save model) to continue from.</summary>
    public string? Resume { get; init; }
    /// <summary>Where to write the training-curve image (PNG).</summary>
    public string? Plot { get; init; }
    /// <summary>Where to write the run's metrics as JSON.</summary>
    public string? MetricsJson { get; init; }

    /// <summary>The library's options for this run, on <paramref name="device"/> (resolved from <see cref="Device"/> by the caller).</summary>
    public TrainingOptions ToTrainingOptions(Device device) => new()
    {
        Optimizer = Optimizer,
        Lr = Lr,
        Clip = Clip,
        WDecay = WDecay,
        Epochs = Epochs,
        MaxSteps = MaxSteps,
        BatchSize = BatchSize,
        Bptt = Bptt,
        VariableBptt = VariableBptt,
        NonMono = NonMono,
        When = When,
        Patience = Patience,
        Alpha = Alpha,
        Beta = Beta,
        Dropout = Dropout,
        DropoutH = DropoutH,
        DropoutI = DropoutI,
        DropoutE = DropoutE,
        WDrop = WDrop,
        DropoutL = DropoutL,
        Init = Init,
        AverageFromStart = AverageFromStart,
        Seed = Seed,
        Device = device,
        LogInterval = LogInterval,
        Save = Save,
        Resume = Resume,
    };
}
