using TinyGrad.Backends;

namespace TinyGrad.Training;

/// <summary>
/// The hyper-parameters of a <see cref="LanguageModelTrainer"/> run. Names follow AWD-LSTM's main.py (the
/// WordLM command line spells them <c>--lr</c>, <c>--wdecay</c>, <c>--nonmono</c>, ...); the defaults are WordLM's.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>sgd, asgd (NT-ASGD: plain SGD until validation stalls for <see cref="NonMono"/> epochs, then averaged SGD) or adam.</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>Learning rate.</summary>
    public float Lr { get; init; } = 1e-2f;
    /// <summary>Gradient-norm clip (0: off).</summary>
    public float Clip { get; init; } = 0.25f;
    /// <summary>Weight decay.</summary>
    public float WDecay { get; init; }
    /// <summary>Epochs.</summary>
    public int Epochs { get; init; } = 6;
    /// <summary>Stop after this many optimiser steps (0: no limit); the epoch under way is still validated.</summary>
    public int MaxSteps { get; init; }
    /// <summary>Parallel streams.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Window length (truncated BPTT).</summary>
    public int Bptt { get; init; } = 35;
    /// <summary>AWD-LSTM's random window length, with the learning rate scaled by length.</summary>
    public bool VariableBptt { get; init; }
    /// <summary>NT-ASGD's patience in epochs.</summary>
    public int NonMono { get; init; } = 5;
    /// <summary>
    /// Epochs after which the learning rate is divided by 10 (AWD-LSTM's <c>--when</c>); null: after the first two
    /// thirds of <see cref="Epochs"/> (<see cref="DefaultWhen"/>); empty: never.
    /// </summary>
    public IReadOnlyList<int>? When { get; init; }
    /// <summary>Stop once validation has not improved for this many epochs (0: never stop early).</summary>
    public int Patience { get; init; }
    /// <summary>AR coefficient (activation regularisation of the last layer's dropped output).</summary>
    public float Alpha { get; init; }
    /// <summary>TAR coefficient (temporal activation regularisation of its raw output).</summary>
    public float Beta { get; init; }

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
    /// <summary>MoS's <c>dropoutl</c>, locked dropout on the mixture experts' latent contexts; null: <see cref="DropoutH"/>, as in MoS.</summary>
    public float? DropoutL { get; init; }

    /// <summary>
    /// A checkpoint (ours, or one the PyTorch reference wrote) whose weights the run starts from instead of a fresh
    /// initialisation; its model and vocabulary must be this run's. With <see cref="AverageFromStart"/> this is
    /// AWD-LSTM's fine-tuning (finetune.py).
    /// </summary>
    public string? Init { get; init; }
    /// <summary>Averaged SGD from the first step (AWD-LSTM's finetune.py), instead of NT-ASGD's trigger; needs <c>asgd</c>.</summary>
    public bool AverageFromStart { get; init; }
    /// <summary>Parallel streams for the final test score: 1, as AWD-LSTM and MoS score the test split (one stream, state carried).</summary>
    public int TestBatchSize { get; init; } = 1;

    /// <summary>Seed of the initialisation and dropout stream (and, xor 0x5EED, of the window-length stream).</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>Where the model and its optimizer live; null: the CPU.</summary>
    public Device? Device { get; init; }
    /// <summary>
    /// On an accelerator, how many steps' losses are read back at once (a read waits for the queued work); on the
    /// CPU every step is read, so a divergence stops the run before its update. Callbacks see every step either way.
    /// </summary>
    public int LogInterval { get; init; } = 50;
    /// <summary>Where to keep the best model (safetensors), with the training state beside it; null: keep nothing on disk.</summary>
    public string? Save { get; init; }
    /// <summary>A training state (<see cref="TrainingState.PathFor"/> of an earlier run's <see cref="Save"/>) to continue from.</summary>
    public string? Resume { get; init; }

    /// <summary>
    /// The schedule when <see cref="When"/> is not given: one division by 10 after epoch E − ⌊E/3⌋, so the last third
    /// of the budget fine-tunes at a tenth of the rate (none for E &lt; 3). On the built-in corpus this took the
    /// default run from test ppl 4.70 after 20 epochs to 4.36 after 6.
    /// </summary>
    public static int[] DefaultWhen(int epochs) => epochs / 3 == 0 ? [] : [epochs - epochs / 3];

    /// <summary>The epochs after which the learning rate is divided by 10.</summary>
    public IReadOnlyList<int> Schedule => When ?? DefaultWhen(Epochs);
}
