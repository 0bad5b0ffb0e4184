using TinyGrad.Backends.Cpu;
using System.Diagnostics;
using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Backends.Cuda;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.Optim;

namespace WordLM;

/// <summary>
/// The training loop of AWD-LSTM (Merity et al. 2018) on our engine: BPTT windows over B parallel streams
/// with the state carried and detached, AR/TAR, gradient clipping, optional variable window length, and
/// NT-ASGD (plain SGD until validation stalls for <c>--nonmono</c> epochs, then averaged SGD evaluated with
/// the averaged weights). Validation after each epoch keeps the best model; the test split is scored with it.
/// </summary>
public static class Trainer
{
    private const int EvalBatchSize = 10, EvalBptt = 35; // the reference evaluation protocol
    private const int MaxExperts = 1024;

    /// <summary>
    /// The model shape the options ask for: <c>--experts</c> only with a mixture head (default 4 there), and
    /// <c>--nhidlast</c> 0 meaning the reference's default (emsize, or nhid for the mixtures).
    /// </summary>
    /// <exception cref="ArgumentException">The options do not make a valid model.</exception>
    public static WordLMConfig ConfigFor(TrainOptions o, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(o);
        bool mixture = o.Head is "mos" or "moss";
        if (!mixture && o.Experts > 1) throw new ArgumentException($"--experts {o.Experts} needs a mixture head (mos or moss), not --head {o.Head}");
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
    /// keeping the best model by validation perplexity (also in <c>o.Save</c> when given). Both <c>train</c> and
    /// <c>compare</c> run this; writing metrics is the caller's business.
    /// </summary>
    /// <param name="o">The options.</param>
    /// <param name="splits">The data, when the caller has already loaded it (compare trains several heads on one load);
    /// null to resolve it from <paramref name="o"/>.</param>
    /// <exception cref="ArgumentException">The options contradict each other.</exception>
    /// <exception cref="TrainingDivergedException">The loss, the gradient norm or the validation loss is no longer usable (<see cref="Divergence"/>).</exception>
    public static TrainResult Train(TrainOptions o, Splits? splits = null)
    {
        ArgumentNullException.ThrowIfNull(o);
        var device = Device.Named(o.Device);
        if (o.Device == "cuda" && CudaBackend.UnavailableReason is string why)
            throw new ArgumentException($"--device cuda: {why}; use --device cpu");
        if (o.Threads > 0) CpuThreads.Count = o.Threads;
        splits ??= DataSource.Resolve(o);
        var config = ConfigFor(o, splits.Vocabulary.Count);
        DataSource.CheckLengths(splits, o.BatchSize, EvalBatchSize); // a short split fails now, not after the epochs
        var run = RunIdentity.Of(o, config, splits); // kept in the state, compared on resume
        bool mixture = config.IsMixture;
        int experts = config.Experts;
        var generator = new Generator(o.Seed); // initialisation, then every dropout mask
        var model = new TinyGrad.Models.WordLM(config, generator)
        {
            Dropout = o.Dropout, DropoutH = o.DropoutH, DropoutI = o.DropoutI, DropoutE = o.DropoutE, WeightDrop = o.WDrop,
        };
        model.InitDecoderBiasFromUnigram(splits.Train);
        model.To(device); // before the optimizers are made, so they update the device copies
        var parameters = model.Parameters().ToList();
        Console.WriteLine($"data: {splits.Description}");
        Console.WriteLine($"      {splits.Train.Length:N0} / {splits.Valid.Length:N0} / {splits.Test.Length:N0} tokens, vocabulary {splits.Vocabulary.Count:N0}");
        Console.WriteLine($"model: {o.Head} head{(mixture ? $" (K={experts})" : "")}, emsize {config.EmSize}, nhid {config.NHid}, nhidlast {config.NHidLast}, " +
                          $"{config.NLayers} layers, {(config.Tied ? "tied" : "untied")}, {model.ParameterCount():N0} parameters; " +
                          (device == Device.Cpu ? $"{CpuThreads.Count} threads" : device == Device.Cuda ? $"cuda: {CudaBackend.Instance.Describe()}" : $"device {device.Name}"));

        Optimizer optimizer = o.Optimizer == "adam"
            ? new Adam(parameters, o.Lr, weightDecay: o.WDecay)
            : new Sgd(parameters, o.Lr, weightDecay: o.WDecay);
        Asgd? averaged = null;

        var batches = new Batches(splits.Train, o.BatchSize, "training split");
        var rng = new Generator(o.Seed ^ 0x5EED);
        var progress = new Progress(o.LogInterval, (long)o.Epochs * ((batches.Rows - 1 + o.Bptt - 1) / o.Bptt), o.MaxSteps);
        var validHistory = new List<double>();
        double bestValid = double.PositiveInfinity;
        Dictionary<string, float[]>? best = null;
        long step = 0, trainTokens = 0;
        double trainNllSum = 0;
        long trainNllCount = 0;
        var clock = Stopwatch.StartNew();
        double secondsBefore = 0;
        bool stop = false;
        int firstEpoch = 1;

        // Each step's loss and gradient norm stay on the device until they are read: every step on the CPU (reading is
        // free there, and a divergence stops the run before its update), every --log-interval steps on a GPU, where a
        // read waits for the queued work; in between, the host only queues work.
        int readEvery = device == Device.Cpu ? 1 : Math.Max(1, o.LogInterval);
        var pending = new List<(int Epoch, long Step, float Lr, Tensor Nll, Tensor? Norm, int Len)>();
        void ReadPending()
        {
            if (pending.Count == 0) return;
            float[] values;
            using (Autograd.NoGrad())
                values = Tensor.Stack([.. pending.SelectMany(p => new[] { p.Nll.Reshape(1), (p.Norm ?? p.Nll).Reshape(1) })]).ToArray(); // one read
            for (int k = 0; k < pending.Count; k++)
            {
                var p = pending[k];
                float value = values[2 * k], norm = p.Norm is null ? 0f : values[2 * k + 1];
                if (Divergence.Check(value, config.VocabSize, norm) is string why)
                {
                    progress.EndLine(); // the message starts a line of its own, not the end of the progress line
                    // Only a model saved at an earlier epoch (this run's or the resumed run's) is a "last good model".
                    throw new TrainingDivergedException($"{o.Head}: training diverged at step {p.Step} ({why}; gradient norm {norm}); " +
                                                        $"try a lower learning rate than --lr {p.Lr}{(o.Save is null || best is null ? "" : $"; the last good model stays in {o.Save}")}");
                }
                trainNllSum += value * p.Len * o.BatchSize;
                trainNllCount += (long)p.Len * o.BatchSize;
                progress.Step(p.Epoch, p.Step, p.Lr, value, p.Len * o.BatchSize);
            }
            pending.Clear();
        }

        if (o.Resume is not null)
        {
            // Continue exactly where the saved run finished an epoch: weights, optimizer, counters, RNG streams.
            var saved = TrainingState.Load(o.Resume);
            run = RunIdentity.CheckResume(o.Resume, saved.Run, run);
            try
            {
                model.LoadStateDict(saved.Weights);
            }
            catch (StateDictException e) // a state written before identities were kept, by another model
            {
                throw new ArgumentException($"--resume {o.Resume}: the state does not fit this model ({Program.OneLine(e.Message)})", e);
            }
            if (saved.Averaged)
            {
                averaged = new Asgd(parameters, optimizer.LearningRate, lambd: 0f, t0: 0f, weightDecay: o.WDecay);
                averaged.LoadState(saved.Optimizer);
            }
            else optimizer.LoadState(saved.Optimizer);
            generator.SetState(saved.ModelRng);
            rng.SetState(saved.TrainerRng);
            (firstEpoch, step, trainTokens, trainNllSum, trainNllCount, bestValid, secondsBefore) =
                (saved.Epoch + 1, saved.Step, saved.TrainTokens, saved.TrainNllSum, saved.TrainNllCount, saved.BestValid, saved.Seconds);
            validHistory.AddRange(saved.ValidHistory);
            best = saved.Best?.ToDictionary(p => p.Key, p => p.Value.ToArray());
            Console.WriteLine($"resumed from {o.Resume} after epoch {saved.Epoch} (step {step:N0})");
        }
        double bestAtStart = bestValid; // a resumed run's best model was saved by the run it continues

        for (int epoch = firstEpoch; epoch <= o.Epochs && !stop; epoch++)
        {
            model.Train();
            LstmState[]? state = null;
            for (int i = 0; i < batches.Rows - 1 && !stop;)
            {
                int length = o.Bptt;
                float lr = averaged?.LearningRate ?? optimizer.LearningRate;
                var active = (Optimizer?)averaged ?? optimizer;
                if (o.VariableBptt)
                {
                    // AWD-LSTM: mostly bptt, sometimes half, jittered; the step size scales with the window.
                    double center = rng.NextDouble() < 0.95 ? o.Bptt : o.Bptt / 2.0;
                    length = Math.Max(5, (int)(center + 5 * rng.NextGaussian()));
                }
                var (inputs, targets, len) = batches.Window(i, length);
                var (loss, nll, next) = model.TrainingLoss(inputs, targets, len, o.BatchSize, state, o.Alpha, o.Beta);
                state = next;
                active.ZeroGrad();
                loss.Backward();
                var norm = o.Clip > 0 ? ClipGrad.ClipGradNormOnDevice(parameters, o.Clip) : null;
                pending.Add((epoch, step + 1, lr, nll, norm, len));
                if (pending.Count >= readEvery) ReadPending();
                if (o.VariableBptt) active.LearningRate = lr * len / o.Bptt;
                active.Step();
                active.LearningRate = lr;
                step++;
                i += len;
                trainTokens += (long)len * o.BatchSize;
                if (o.MaxSteps > 0 && step >= o.MaxSteps) stop = true;
            }
            ReadPending();
            progress.EndLine();

            averaged?.SwapAverage(); // evaluate NT-ASGD with the averaged weights
            var valid = Evaluation.Evaluate(model, splits.Valid, EvalBatchSize, EvalBptt);
            // The step check above sees each loss before its update; the last update can still leave NaN or
            // infinite weights, which only validation reveals.
            if (Divergence.Check(valid.Loss, config.VocabSize) is string invalid)
            {
                throw new TrainingDivergedException($"{o.Head}: training diverged: after epoch {epoch} (step {step}) the validation {invalid}; " +
                                                    $"try a lower learning rate than --lr {averaged?.LearningRate ?? optimizer.LearningRate}{(o.Save is null || best is null ? "" : $"; the last good model stays in {o.Save}")}");
            }
            bool improved = valid.Loss < bestValid;
            if (improved)
            {
                bestValid = valid.Loss;
                best = model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
                if (o.Save is not null) WordLMCheckpoint.Save(o.Save, model, splits.Vocabulary);
            }
            averaged?.SwapAverage();
            Console.WriteLine($"epoch {epoch} | valid loss {valid.Loss:F4} | valid ppl {valid.Perplexity:F2}" +
                              (splits.OptimumPerplexity is double opt ? $" | optimum ppl {opt:F2}" : "") +
                              (improved ? " | best so far" : ""));
            validHistory.Add(valid.Loss);
            if (o.Optimizer == "asgd" && averaged is null && validHistory.Count > o.NonMono &&
                valid.Loss > validHistory.Take(validHistory.Count - o.NonMono).Min())
            {
                Console.WriteLine($"switching to averaged SGD (no improvement for {o.NonMono} epochs)");
                averaged = new Asgd(parameters, optimizer.LearningRate, lambd: 0f, t0: 0f, weightDecay: o.WDecay);
            }
            if (o.Schedule.Contains(epoch))
            {
                // AWD-LSTM's --when: a tenth of the rate from the next epoch on (kept in the saved state).
                var current = (Optimizer?)averaged ?? optimizer;
                current.LearningRate /= 10f;
                Console.WriteLine($"learning rate divided by 10 after epoch {epoch}: now {current.LearningRate:G3}");
            }
            int sinceBest = validHistory.Count - 1 - validHistory.IndexOf(validHistory.Min());
            if (o.Patience > 0 && sinceBest >= o.Patience && epoch < o.Epochs)
            {
                Console.WriteLine($"stopping early: validation has not improved for {sinceBest} epochs (--patience {o.Patience})");
                stop = true;
            }
            if (o.Save is not null)
            {
                new TrainingState(epoch, step, trainTokens, trainNllSum, trainNllCount, bestValid, [.. validHistory], averaged is not null,
                    generator.GetState(), rng.GetState(), secondsBefore + clock.Elapsed.TotalSeconds,
                    model.StateDict(), best?.ToDictionary(p => p.Key, p => Tensor.FromArray(p.Value, model.StateDict()[p.Key].Shape, null)),
                    ((Optimizer?)averaged ?? optimizer).GetState())
                {
                    Run = run,
                }.Save(TrainingState.PathFor(o.Save));
            }
        }
        double seconds = secondsBefore + clock.Elapsed.TotalSeconds;

        // Score the test split with the best model seen (by validation perplexity).
        if (best is not null)
            model.LoadStateDict(best.ToDictionary(p => p.Key, p => Tensor.FromArray(p.Value, model.StateDict()[p.Key].Shape, null)));
        // No epoch of this (resumed) run improved, so it wrote no model: write the best one from the state, so the file
        // the summary names holds it even if it was removed or the earlier run saved elsewhere.
        if (o.Save is not null && best is not null && !(bestValid < bestAtStart)) WordLMCheckpoint.Save(o.Save, model, splits.Vocabulary);
        var test = Evaluation.Evaluate(model, splits.Test, EvalBatchSize, EvalBptt);
        double trainPpl = Math.Exp(trainNllSum / Math.Max(1, trainNllCount));
        double tokensPerSecond = trainTokens / Math.Max(1e-9, seconds);

        Console.WriteLine();
        Console.WriteLine($"summary: {o.Head} head, {model.ParameterCount():N0} parameters, {step:N0} steps in {seconds:F1} s ({tokensPerSecond:N0} tokens/s)");
        Console.WriteLine($"  train ppl {trainPpl:F2} | best valid ppl {Math.Exp(bestValid):F2} | test ppl {test.Perplexity:F2}");
        if (splits.OptimumPerplexity is double optimum)
            Console.WriteLine($"  optimum ppl {optimum:F2} (the exact entropy rate of the built-in source: no model can do better)");
        if (o.Save is not null && best is not null)
        {
            Console.WriteLine($"  best model saved to {o.Save}");
            Console.WriteLine($"  next: generate --checkpoint {o.Save} --words 30, or rank --checkpoint {o.Save}{(o.Data is not null ? $" --data {o.Data}" : o.Test is not null ? $" --test {o.Test}" : "")}");
        }

        model.Eval(); // the caller analyses or samples from it; dropout stays off until someone calls Train()
        var metrics = new TrainMetrics(o.Head, model.ParameterCount(), step, seconds, tokensPerSecond, trainPpl, Math.Exp(bestValid),
            test.Perplexity, splits.OptimumPerplexity, [.. validHistory.Select(Math.Exp)]);
        return new TrainResult(metrics, model, splits);
    }
}
