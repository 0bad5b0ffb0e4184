using System.Diagnostics;
using TinyGrad.Backends;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;
using TinyGrad.Optim;

namespace TinyGrad.Training;

/// <summary>
/// The training loop of AWD-LSTM (Merity et al. 2018) on our engine: BPTT windows over B parallel streams
/// with the state carried and detached, AR/TAR, gradient clipping, optional variable window length, and
/// NT-ASGD (plain SGD until validation stalls for <see cref="TrainingOptions.NonMono"/> epochs, then averaged SGD
/// evaluated with the averaged weights). Validation after each epoch keeps the best model; the test split is
/// scored with it. <see cref="Fit"/> runs it all; <see cref="TrainStep"/>, <see cref="TrainEpoch"/>,
/// <see cref="Validate"/>, <see cref="EndEpoch"/> and <see cref="SaveState"/> are its parts.
/// </summary>
/// <remarks>
/// Two random streams make a run reproducible: one seeded with <see cref="TrainingOptions.Seed"/> initialises the
/// model and then draws every dropout mask; the other (seed xor 0x5EED) draws the variable window lengths. Both
/// are kept in the training state, so a resumed run continues bit for bit.
/// </remarks>
public sealed class LanguageModelTrainer
{
    /// <summary>Streams of the validation and test scoring (the reference evaluation protocol).</summary>
    public const int EvalBatchSize = 10;

    /// <summary>Window length of the validation and test scoring (the reference evaluation protocol).</summary>
    public const int EvalBptt = 35;

    private readonly TrainingCallbacks _callbacks;
    private readonly Generator _generator; // initialisation, then every dropout mask
    private readonly Generator _rng;       // variable window lengths
    private readonly List<Tensor> _parameters;
    private readonly Optimizer _optimizer;
    private readonly Batches _batches;
    private readonly int _readEvery;
    private readonly List<PendingLoss> _pending = [];
    private readonly List<double> _validHistory = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Asgd? _averaged;
    private Dictionary<string, string> _run;
    private Dictionary<string, float[]>? _best;
    private LstmState[]? _lstmState;
    private double _trainNllSum, _secondsBefore;
    private long _trainNllCount;

    /// <summary>
    /// Builds the model (initialised from <see cref="TrainingOptions.Seed"/>, its decoder bias from the training
    /// unigram), moves it to the device and makes the optimizer. Nothing is trained or reported yet.
    /// </summary>
    /// <param name="config">The model's shape; its vocabulary size must be <paramref name="data"/>'s.</param>
    /// <param name="data">The token streams.</param>
    /// <param name="options">The hyper-parameters.</param>
    /// <param name="callbacks">What hears of the progress; null: nothing.</param>
    /// <exception cref="ArgumentException">The options or data do not make a run.</exception>
    public LanguageModelTrainer(WordLMConfig config, TokenSplits data, TrainingOptions options, TrainingCallbacks? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (config.VocabSize != data.Vocabulary.Count)
            throw new ArgumentException($"the model's vocabulary size {config.VocabSize} is not the data's, {data.Vocabulary.Count}", nameof(config));
        if (options.Optimizer is not ("sgd" or "asgd" or "adam"))
            throw new ArgumentException($"optimizer '{options.Optimizer}': expected sgd, asgd or adam", nameof(options));
        (Config, Data, Options, _callbacks) = (config, data, options, callbacks ?? new TrainingCallbacks());
        Device = options.Device ?? Device.Cpu;
        _run = RunIdentity.Of(options, config, data);
        _generator = new Generator(options.Seed);
        Model = new WordLM(config, _generator)
        {
            Dropout = options.Dropout,
            DropoutH = options.DropoutH,
            DropoutI = options.DropoutI,
            DropoutE = options.DropoutE,
            WeightDrop = options.WDrop,
            DropoutL = options.DropoutL ?? options.DropoutH, // MoS's default
        };
        Model.InitDecoderBiasFromUnigram(data.Train);
        if (options.Init is not null) InitFrom(options.Init);
        Model.To(Device); // before the optimizers are made, so they update the device copies
        _parameters = [.. Model.Parameters()];
        _optimizer = options.Optimizer == "adam"
            ? new Adam(_parameters, options.Lr, weightDecay: options.WDecay)
            : new Sgd(_parameters, options.Lr, weightDecay: options.WDecay);
        _batches = new Batches(data.Train, options.BatchSize, "training split");
        _rng = new Generator(options.Seed ^ 0x5EED);
        // Each step's loss and gradient norm stay on the device until they are read: every step on the CPU (reading
        // is free there, and a divergence stops the run before its update), every LogInterval steps on a GPU, where a
        // read waits for the queued work; in between, the host only queues work.
        _readEvery = Device == Device.Cpu ? 1 : Math.Max(1, options.LogInterval);
        if (options.AverageFromStart)
        {
            if (options.Optimizer != "asgd") throw new ArgumentException($"averaging from the first step needs the asgd optimizer, not {options.Optimizer}", nameof(options));
            _averaged = NewAveraged();
        }
    }

    // Starts from a checkpoint's weights: its model and vocabulary must be this run's, word for word.
    private void InitFrom(string path)
    {
        var (loaded, vocab) = WordLMCheckpoint.Load(path, note: _callbacks.OnNote);
        var (want, have) = (Config, loaded.Config);
        foreach (var (option, mine, theirs) in new (string, object, object)[]
        {
            ("--head", want.Head, have.Head), ("--experts", want.Experts, have.Experts), ("--emsize", want.EmSize, have.EmSize),
            ("--nhid", want.NHid, have.NHid), ("--nhidlast", want.NHidLast, have.NHidLast), ("--nlayers", want.NLayers, have.NLayers),
            ("--tied", want.Tied, have.Tied), ("the vocabulary size", want.VocabSize, have.VocabSize),
        })
        {
            if (!Equals(mine, theirs)) throw new ArgumentException($"--init {path}: the checkpoint has {option} {theirs}, this run has {option} {mine}");
        }
        for (int id = 0; id < vocab.Count; id++)
        {
            if (vocab[id] != Data.Vocabulary[id])
                throw new ArgumentException($"--init {path}: the checkpoint's word {id} is '{vocab[id]}', this data's is '{Data.Vocabulary[id]}' (another vocabulary)");
        }
        Model.LoadStateDict(loaded.StateDict());
    }

    /// <summary>The model's shape.</summary>
    public WordLMConfig Config { get; }

    /// <summary>The token streams.</summary>
    public TokenSplits Data { get; }

    /// <summary>The hyper-parameters.</summary>
    public TrainingOptions Options { get; }

    /// <summary>Where the model trains.</summary>
    public Device Device { get; }

    /// <summary>The model being trained (its current weights; the best ones are loaded at the end of <see cref="Fit"/>).</summary>
    public WordLM Model { get; }

    /// <summary>The last completed epoch (0 before the first).</summary>
    public int Epoch { get; private set; }

    /// <summary>Optimiser steps taken.</summary>
    public long Step { get; private set; }

    /// <summary>Training tokens seen.</summary>
    public long TrainTokens { get; private set; }

    /// <summary>The best validation loss so far (+∞ before the first validation).</summary>
    public double BestValidLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Validation loss after each completed epoch.</summary>
    public IReadOnlyList<double> ValidLossHistory => _validHistory;

    /// <summary>Whether the run should end: <see cref="TrainingOptions.MaxSteps"/> was reached or patience ran out.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Whether NT-ASGD has switched to averaged SGD.</summary>
    public bool Averaging => _averaged is not null;

    /// <summary>The optimizer that takes the steps now: averaged SGD once NT-ASGD switched, the base one before.</summary>
    public Optimizer ActiveOptimizer => (Optimizer?)_averaged ?? _optimizer;

    /// <summary>Steps for all the epochs at the nominal window length.</summary>
    public long PlannedSteps => (long)Options.Epochs * ((_batches.Rows - 1 + Options.Bptt - 1) / Options.Bptt);

    /// <summary>Wall time of training so far (a resumed run includes the earlier run's).</summary>
    public double Seconds => _secondsBefore + _clock.Elapsed.TotalSeconds;

    /// <summary>
    /// The whole run: resume if <see cref="TrainingOptions.Resume"/> says so, then for each remaining epoch
    /// <see cref="TrainEpoch"/>, <see cref="Validate"/>, <see cref="EndEpoch"/> and, with
    /// <see cref="TrainingOptions.Save"/>, <see cref="SaveState"/>; finally the test split is scored with the best
    /// weights, which stay loaded in <see cref="Model"/>.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss, the gradient norm or the validation loss is no longer usable (<see cref="Divergence"/>).</exception>
    /// <exception cref="ArgumentException">The resumed state belongs to another run.</exception>
    public TrainingResult Fit()
    {
        _clock.Restart();
        _callbacks.OnFitStart(new FitStartInfo(Model, Device, PlannedSteps));
        if (Options.Resume is not null) Resume(Options.Resume);
        double bestAtStart = BestValidLoss; // a resumed run's best model was saved by the run it continues
        for (int epoch = Epoch + 1; epoch <= Options.Epochs && !StopRequested; epoch++)
        {
            TrainEpoch(epoch);
            EndEpoch(Validate(epoch));
            if (Options.Save is not null) SaveState(TrainingState.PathFor(Options.Save));
        }
        return Finish(bestAtStart);
    }

    /// <summary>
    /// Continues exactly where a saved run finished an epoch: weights, optimizer (averaged or not), counters,
    /// validation history, best weights and both random streams. The run's identity must match the state's
    /// (<see cref="RunIdentity.CheckResume"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The state belongs to another run, or its weights do not fit the model.</exception>
    public void Resume(string statePath)
    {
        var saved = TrainingState.Load(statePath);
        _run = RunIdentity.CheckResume(statePath, saved.Run, _run, _callbacks.OnNote);
        try
        {
            Model.LoadStateDict(saved.Weights);
        }
        catch (StateDictException e) // a state written before identities were kept, by another model
        {
            string oneLine = string.Join(" ", e.Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
            throw new ArgumentException($"--resume {statePath}: the state does not fit this model ({oneLine})", e);
        }
        if (saved.Averaged)
        {
            _averaged = NewAveraged();
            _averaged.LoadState(saved.Optimizer);
        }
        else _optimizer.LoadState(saved.Optimizer);
        _generator.SetState(saved.ModelRng);
        _rng.SetState(saved.TrainerRng);
        (Epoch, Step, TrainTokens, _trainNllSum, _trainNllCount, BestValidLoss, _secondsBefore) =
            (saved.Epoch, saved.Step, saved.TrainTokens, saved.TrainNllSum, saved.TrainNllCount, saved.BestValid, saved.Seconds);
        _validHistory.AddRange(saved.ValidHistory);
        _best = saved.Best?.ToDictionary(p => p.Key, p => p.Value.ToArray());
        _callbacks.OnResumed(statePath, saved.Epoch, Step);
    }

    /// <summary>
    /// One pass over the training split in windows (<see cref="TrainStep"/>), the LSTM state starting at zero and
    /// carried between windows; it ends early when <see cref="StopRequested"/>. Every step's loss has been read
    /// (and reported) when it returns.
    /// </summary>
    public void TrainEpoch(int epoch)
    {
        Model.Train();
        _lstmState = null;
        for (int i = 0; i < _batches.Rows - 1 && !StopRequested;) i += TrainStep(epoch, i);
        ReadLosses();
    }

    /// <summary>
    /// One optimiser step on the window that starts at row <paramref name="position"/>: forward with AR/TAR,
    /// backward, clipping, update (its learning rate scaled by the window's length under variable BPTT).
    /// </summary>
    /// <returns>The window's length: where the next one starts, relative to this one.</returns>
    /// <exception cref="TrainingDivergedException">A loss read now is no longer usable.</exception>
    public int TrainStep(int epoch, int position)
    {
        var active = ActiveOptimizer;
        float lr = active.LearningRate;
        int length = Options.VariableBptt ? SampleWindowLength() : Options.Bptt;
        var (inputs, targets, len) = _batches.Window(position, length);
        var (loss, nll, next) = Model.TrainingLoss(inputs, targets, len, Options.BatchSize, _lstmState, Options.Alpha, Options.Beta);
        _lstmState = next;
        active.ZeroGrad();
        loss.Backward();
        var norm = Options.Clip > 0 ? ClipGrad.ClipGradNormOnDevice(_parameters, Options.Clip) : null;
        _pending.Add(new PendingLoss(epoch, Step + 1, lr, nll, norm, len));
        if (_pending.Count >= _readEvery) ReadLosses();
        if (Options.VariableBptt) active.LearningRate = lr * len / Options.Bptt;
        active.Step();
        active.LearningRate = lr;
        Step++;
        TrainTokens += (long)len * Options.BatchSize;
        if (Options.MaxSteps > 0 && Step >= Options.MaxSteps) StopRequested = true;
        return len;
    }

    /// <summary>
    /// Scores the validation split with the weights the run would keep (the averaged ones under NT-ASGD) and, when
    /// they beat the best so far, keeps them as the best model (in memory, and in <see cref="TrainingOptions.Save"/>).
    /// </summary>
    /// <exception cref="TrainingDivergedException">The validation loss is no longer usable.</exception>
    public EpochInfo Validate(int epoch)
    {
        _averaged?.SwapAverage(); // evaluate NT-ASGD with the averaged weights
        var valid = Evaluation.Evaluate(Model, Data.Valid, EvalBatchSize, EvalBptt);
        // The step check sees each loss before its update; the last update can still leave NaN or infinite
        // weights, which only validation reveals.
        if (Divergence.Check(valid.Loss, Config.VocabSize) is string invalid)
        {
            throw new TrainingDivergedException($"{HeadKinds.Name(Config.Head)}: training diverged: after epoch {epoch} (step {Step}) the validation {invalid}; " +
                                                $"try a lower learning rate than --lr {ActiveOptimizer.LearningRate}{LastGoodModel()}");
        }
        bool improved = valid.Loss < BestValidLoss;
        if (improved)
        {
            BestValidLoss = valid.Loss;
            _best = Model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
            if (Options.Save is not null) WordLMCheckpoint.Save(Options.Save, Model, Data.Vocabulary);
        }
        _averaged?.SwapAverage();
        return new EpochInfo(epoch, Step, valid.Loss, valid.Perplexity, improved);
    }

    /// <summary>
    /// The end-of-epoch rules, after <see cref="Validate"/>: report the epoch, switch NT-ASGD to averaging when
    /// validation has not improved on the epochs more than <see cref="TrainingOptions.NonMono"/> back, divide the
    /// learning rate by 10 on the <see cref="TrainingOptions.When"/> schedule, and stop early once
    /// <see cref="TrainingOptions.Patience"/> epochs passed without a new best.
    /// </summary>
    public void EndEpoch(EpochInfo valid)
    {
        ArgumentNullException.ThrowIfNull(valid);
        int epoch = valid.Epoch;
        Epoch = epoch;
        _callbacks.OnEpochEnd(valid);
        // AWD-LSTM's order: compare with the epochs before this one, then record it (NtAsgd).
        if (Options.Optimizer == "asgd" && _averaged is null && NtAsgd.ShouldSwitch(_validHistory, valid.ValidLoss, Options.NonMono))
        {
            _callbacks.OnSwitchToAveraging(epoch, Options.NonMono);
            _averaged = NewAveraged();
        }
        _validHistory.Add(valid.ValidLoss);
        if (Options.Schedule.Contains(epoch))
        {
            // AWD-LSTM's --when: a tenth of the rate from the next epoch on (kept in the saved state).
            ActiveOptimizer.LearningRate /= 10f;
            _callbacks.OnLearningRateChanged(epoch, ActiveOptimizer.LearningRate);
        }
        int sinceBest = _validHistory.Count - 1 - _validHistory.IndexOf(_validHistory.Min());
        if (Options.Patience > 0 && sinceBest >= Options.Patience && epoch < Options.Epochs)
        {
            _callbacks.OnEarlyStop(epoch, sinceBest, Options.Patience);
            StopRequested = true;
        }
    }

    /// <summary>
    /// Writes everything a run needs to continue after <see cref="Epoch"/> (<see cref="TrainingState"/>) to
    /// <paramref name="path"/>, atomically: a crash mid-write leaves the previous state.
    /// </summary>
    public void SaveState(string path) =>
        new TrainingState(Epoch, Step, TrainTokens, _trainNllSum, _trainNllCount, BestValidLoss, [.. _validHistory], _averaged is not null,
            _generator.GetState(), _rng.GetState(), Seconds, Model.StateDict(), BestTensors(), ActiveOptimizer.GetState())
        {
            Run = _run,
        }.Save(path);

    // Loads the best weights, makes sure the saved model holds them, scores the test split and reports.
    private TrainingResult Finish(double bestAtStart)
    {
        double seconds = Seconds;
        if (BestTensors() is { } best) Model.LoadStateDict(best);
        // No epoch of this (resumed) run improved, so it wrote no model: write the best one from the state, so the file
        // the result names holds it even if it was removed or the earlier run saved elsewhere.
        if (Options.Save is not null && _best is not null && !(BestValidLoss < bestAtStart)) WordLMCheckpoint.Save(Options.Save, Model, Data.Vocabulary);
        var test = Evaluation.Evaluate(Model, Data.Test, Options.TestBatchSize, EvalBptt);
        Model.Eval(); // the caller analyses or samples from it; dropout stays off until someone calls Train()
        var result = new TrainingResult(Model, Step, seconds, TrainTokens, _trainNllSum / Math.Max(1, _trainNllCount), BestValidLoss, test,
            [.. _validHistory], Options.Save is not null && _best is not null ? Options.Save : null);
        _callbacks.OnFitEnd(result);
        return result;
    }

    // Reads the queued losses and gradient norms in one transfer, stops a diverged run, and reports each step.
    private void ReadLosses()
    {
        if (_pending.Count == 0) return;
        float[] values;
        using (Autograd.NoGrad())
            values = Tensor.Stack([.. _pending.SelectMany(p => new[] { p.Nll.Reshape(1), (p.Norm ?? p.Nll).Reshape(1) })]).ToArray(); // one read
        for (int k = 0; k < _pending.Count; k++)
        {
            var p = _pending[k];
            float value = values[2 * k], norm = p.Norm is null ? 0f : values[2 * k + 1];
            if (Divergence.Check(value, Config.VocabSize, norm) is string why)
            {
                _pending.Clear();
                throw new TrainingDivergedException($"{HeadKinds.Name(Config.Head)}: training diverged at step {p.Step} ({why}; gradient norm {norm}); " +
                                                    $"try a lower learning rate than --lr {p.Lr}{LastGoodModel()}");
            }
            _trainNllSum += value * p.Len * Options.BatchSize;
            _trainNllCount += (long)p.Len * Options.BatchSize;
            _callbacks.OnStep(new StepInfo(p.Epoch, p.Step, p.Lr, value, norm, p.Len * Options.BatchSize));
        }
        _pending.Clear();
    }

    // AWD-LSTM: mostly bptt, sometimes half, jittered; the step size scales with the window.
    private int SampleWindowLength()
    {
        double center = _rng.NextDouble() < 0.95 ? Options.Bptt : Options.Bptt / 2.0;
        return Math.Max(5, (int)(center + 5 * _rng.NextGaussian()));
    }

    private Asgd NewAveraged() => new(_parameters, _optimizer.LearningRate, lambd: 0f, t0: 0f, weightDecay: Options.WDecay);

    // Only a model saved at an earlier epoch (this run's or the resumed run's) is a "last good model".
    private string LastGoodModel() => Options.Save is null || _best is null ? "" : $"; the last good model stays in {Options.Save}";

    private Dictionary<string, Tensor>? BestTensors()
    {
        if (_best is null) return null;
        var shapes = Model.StateDict();
        return _best.ToDictionary(p => p.Key, p => Tensor.FromArray(p.Value, shapes[p.Key].Shape, null));
    }

    // One step's loss and gradient norm, still on the device.
    private sealed record PendingLoss(int Epoch, long Step, float Lr, Tensor Nll, Tensor? Norm, int Len);
}
