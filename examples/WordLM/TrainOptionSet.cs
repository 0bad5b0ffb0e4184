using System.CommandLine;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// The training options, defined once for every command that trains: <c>train</c>, the root (no verb means train)
/// and <c>compare</c> (which takes them all but <c>--head</c>, replaced by its <c>--heads</c>). A fresh set per
/// command, since an <see cref="Option"/> belongs to one parent.
/// </summary>
public sealed class TrainOptionSet
{
    // The defaults live once: the command line's in TrainOptions, the hyper-parameters' in the library's TrainingOptions.
    private static readonly TrainOptions D = new();
    private static readonly TrainingOptions T = D.Training;

    private readonly Option<string?> _data = new("--data") { Description = "Folder with train.txt/valid.txt/test.txt, ptb.*.txt or wiki.*.tokens" };
    private readonly Option<string?> _train = new("--train") { Description = "Training text file (with --valid and --test)" };
    private readonly Option<string?> _valid = new("--valid") { Description = "Validation text file" };
    private readonly Option<string?> _test = new("--test") { Description = "Test text file" };
    private readonly Option<ulong> _seed = new("--seed") { Description = "Seed for the built-in corpus, initialisation, dropout and batching", DefaultValueFactory = _ => T.Seed };
    private readonly Option<string> _head = new("--head") { Description = "Output layer", DefaultValueFactory = _ => HeadKinds.Name(D.Head) };
    private readonly Option<int> _experts = new("--experts") { Description = "Mixture components K (mos/moss; default 4)", DefaultValueFactory = _ => 0 };
    private readonly Option<int> _emsize = Positive("--emsize", "Embedding size", D.EmSize);
    private readonly Option<int> _nhid = Positive("--nhid", "Hidden size of the inner LSTM layers", D.NHid);
    private readonly Option<int> _nhidlast = new("--nhidlast") { Description = "Hidden size of the last LSTM layer (default: emsize, or nhid for mixtures)" };
    private readonly Option<int> _nlayers = Positive("--nlayers", "LSTM layers", D.NLayers);
    private readonly Option<bool> _tied = new("--tied") { Description = "Tie the decoder to the embedding", DefaultValueFactory = _ => D.Tied };
    private readonly Option<float> _dropout = Probability("--dropout", "Locked dropout on the last layer's output");
    private readonly Option<float> _dropouth = Probability("--dropouth", "Locked dropout between LSTM layers");
    private readonly Option<float> _dropouti = Probability("--dropouti", "Locked dropout on the embeddings");
    private readonly Option<float> _dropoute = Probability("--dropoute", "Embedding dropout (whole words)");
    private readonly Option<float> _wdrop = Probability("--wdrop", "DropConnect on the recurrent weights");
    private readonly Option<float?> _dropoutl = new("--dropoutl") { Description = "MoS/MoSS: locked dropout on the experts' latent contexts (default: --dropouth, as in MoS)" };
    private readonly Option<string?> _init = new("--init") { Description = "Start from the weights of this checkpoint (ours or the PyTorch reference's; it must fit the model and data options)" };
    private readonly Option<bool> _averageFromStart = new("--average-from-start") { Description = "With --optimizer asgd: average from the first step (AWD-LSTM's fine-tuning, with --init)" };
    private readonly Option<float> _alpha = NonNegative("--alpha", "Activation regularisation (AR) coefficient", T.Alpha);
    private readonly Option<float> _beta = NonNegative("--beta", "Temporal activation regularisation (TAR) coefficient", T.Beta);
    private readonly Option<string> _optimizer = new("--optimizer") { Description = "sgd, asgd (NT-ASGD) or adam", DefaultValueFactory = _ => T.Optimizer };
    private readonly Option<float> _lr = NonNegative("--lr", "Learning rate", T.Lr);
    private readonly Option<float> _clip = NonNegative("--clip", "Gradient-norm clipping (0: off)", T.Clip);
    private readonly Option<float> _wdecay = NonNegative("--wdecay", "Weight decay", T.WDecay);
    private readonly Option<int> _epochs = Positive("--epochs", "Epochs", T.Epochs);
    private readonly Option<int> _maxSteps = new("--max-steps") { Description = "Stop after N optimiser steps (0: no limit)" };
    private readonly Option<int> _batchSize = Positive("--batch-size", "Parallel streams", T.BatchSize);
    private readonly Option<int> _bptt = Positive("--bptt", "Window length", T.Bptt);
    private readonly Option<bool> _variableBptt = new("--variable-bptt") { Description = "AWD-LSTM's random window length, with the learning rate scaled by length" };
    private readonly Option<int> _nonmono = Positive("--nonmono", "NT-ASGD: switch to averaging after this many epochs without improvement", T.NonMono);
    private readonly Option<int[]> _when = new("--when") { Description = "Epochs after which the learning rate is divided by 10 (e.g. --when 5 8; 0: never; default: after two thirds of --epochs)", AllowMultipleArgumentsPerToken = true };
    private readonly Option<int> _patience = new("--patience") { Description = "Stop once validation has not improved for N epochs (0: never)", DefaultValueFactory = _ => T.Patience };
    private readonly Option<int> _threads = new("--threads") { Description = "CPU threads (default: all cores, or TINYGRAD_THREADS)" };
    private readonly Option<string> _device = new("--device") { Description = "cpu, cuda (an NVIDIA GPU; see docs/cuda.md), or any device a program registered", DefaultValueFactory = _ => D.Device };
    private readonly Option<int> _logInterval = Positive("--log-interval", "Steps between progress lines", T.LogInterval);
    private readonly Option<string?> _plot = new("--plot") { Description = "Write a PNG of validation perplexity per epoch (compare: one line per head)" };
    private readonly Option<string?> _resume = new("--resume") { Description = "Continue a run from the training state written beside its --save file (PATH.state), after its last completed epoch; pass the run's other options again" };
    private readonly Option<string?> _save = new("--save") { Description = "Keep the best model by validation perplexity here (safetensors; compare inserts the head name before the extension)" };
    private readonly Option<string?> _metricsJson = new("--metrics-json") { Description = "Write the run's metrics as one JSON object (compare: a list, one per head)" };

    private readonly bool _withHead;

    /// <summary>A fresh set of the training options; <paramref name="withHead"/> false leaves out <c>--head</c>.</summary>
    public TrainOptionSet(bool withHead = true)
    {
        _withHead = withHead;
        _head.AcceptOnlyFromAmong([.. HeadKinds.All.Select(HeadKinds.Name)]);
        _optimizer.AcceptOnlyFromAmong("sgd", "asgd", "adam");
        _device.Validators.Add(r =>
        {
            // Any registered device: cpu, cuda, or one a program registered with Device.Register before calling Main.
            string name = r.GetValueOrDefault<string>();
            if (!TinyGrad.Backends.Device.Names.Contains(name))
                r.AddError($"--device {name}: unknown device (registered: {string.Join(", ", TinyGrad.Backends.Device.Names)})");
        });
        _experts.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--experts must be ≥ 0"); });
        _maxSteps.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--max-steps must be ≥ 0"); });
        _threads.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--threads must be ≥ 0"); });
        _patience.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--patience must be ≥ 0"); });
        _when.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int[]>() is int[] w && (w.Length == 0 || w.Any(e => e < 0) || w.Length > 1 && w.Contains(0)))
                r.AddError($"--when takes epoch numbers ≥ 1, or 0 alone for never, got '{string.Join(' ', w)}'");
        });
        _dropoutl.Validators.Add(r => { if (r.GetValueOrDefault<float?>() is float v && !(v >= 0 && v < 1)) r.AddError($"--dropoutl must lie in [0, 1), got {v}"); });
        _nhidlast.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--nhidlast must be ≥ 0"); });
    }

    private IEnumerable<Option> All()
    {
        Option[] all = [_data, _train, _valid, _test, _seed, _head, _experts, _emsize, _nhid, _nhidlast, _nlayers, _tied,
            _dropout, _dropouth, _dropouti, _dropoute, _wdrop, _dropoutl, _init, _averageFromStart, _alpha, _beta, _optimizer, _lr, _clip, _wdecay, _epochs, _maxSteps,
            _batchSize, _bptt, _variableBptt, _nonmono, _when, _patience, _threads, _device, _logInterval, _save, _resume, _plot, _metricsJson];
        return _withHead ? all : all.Where(o => o != _head);
    }

    /// <summary>Adds every option of the set to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in All()) command.Options.Add(option);
    }

    /// <summary>The options as parsed (<c>Head</c> keeps its default when the set has no <c>--head</c>).</summary>
    public TrainOptions Read(ParseResult p) => new()
    {
        Data = p.GetValue(_data),
        Train = p.GetValue(_train),
        Valid = p.GetValue(_valid),
        Test = p.GetValue(_test),
        Head = _withHead ? HeadKinds.Parse(p.GetValue(_head)!) : D.Head,
        Experts = p.GetValue(_experts),
        EmSize = p.GetValue(_emsize),
        NHid = p.GetValue(_nhid),
        NHidLast = p.GetValue(_nhidlast),
        NLayers = p.GetValue(_nlayers),
        Tied = p.GetValue(_tied),
        Threads = p.GetValue(_threads),
        Device = p.GetValue(_device)!,
        Plot = p.GetValue(_plot),
        MetricsJson = p.GetValue(_metricsJson),
        Training = new()
        {
            Seed = p.GetValue(_seed),
            Dropout = p.GetValue(_dropout),
            DropoutH = p.GetValue(_dropouth),
            DropoutI = p.GetValue(_dropouti),
            DropoutE = p.GetValue(_dropoute),
            WDrop = p.GetValue(_wdrop),
            DropoutL = p.GetValue(_dropoutl),
            Init = p.GetValue(_init),
            AverageFromStart = p.GetValue(_averageFromStart),
            Alpha = p.GetValue(_alpha),
            Beta = p.GetValue(_beta),
            Optimizer = p.GetValue(_optimizer)!,
            Lr = p.GetValue(_lr),
            Clip = p.GetValue(_clip),
            WDecay = p.GetValue(_wdecay),
            Epochs = p.GetValue(_epochs),
            MaxSteps = p.GetValue(_maxSteps),
            BatchSize = p.GetValue(_batchSize),
            Bptt = p.GetValue(_bptt),
            VariableBptt = p.GetValue(_variableBptt),
            NonMono = p.GetValue(_nonmono),
            // "--when 0" alone means never: an empty schedule, not the default one that null stands for.
            When = p.GetResult(_when) is null ? null : p.GetValue(_when)!.Where(e => e > 0).ToArray(),
            Patience = p.GetValue(_patience),
            LogInterval = p.GetValue(_logInterval),
            Save = p.GetValue(_save),
            Resume = p.GetValue(_resume),
        },
    };

    private static Option<int> Positive(string name, string description, int fallback)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError($"{name} must be positive, got {r.GetValueOrDefault<int>()}"); });
        return option;
    }

    private static Option<float> NonNegative(string name, string description, float fallback)
    {
        var option = new Option<float>(name) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(r => { float v = r.GetValueOrDefault<float>(); if (!(v >= 0) || float.IsInfinity(v)) r.AddError($"{name} must be a finite number ≥ 0, got {v}"); });
        return option;
    }

    private static Option<float> Probability(string name, string description)
    {
        var option = new Option<float>(name) { Description = description };
        option.Validators.Add(r => { float v = r.GetValueOrDefault<float>(); if (!(v >= 0 && v < 1)) r.AddError($"{name} must lie in [0, 1), got {v}"); });
        return option;
    }
}
