using TinyGrad.Backends;
using TinyGrad.NN;
using TinyGrad.NN.Heads;

namespace TinyGrad.Models;

/// <summary>
/// The word-level LSTM language model of wordlm_reference.py (AWD-LSTM's shape, Merity et al. 2018) with one of
/// four output heads: <c>encoder</c> (an <see cref="Embedding"/>), <c>rnns.{l}</c> (one single-layer
/// <see cref="LSTM"/> per layer, emsize → nhid → … → nhidlast), and the head's layers at the top level
/// (<c>decoder</c>; plus <c>prior</c> and <c>latent</c> for the mixtures), so the state dict carries the
/// reference's PyTorch names. AWD-LSTM's regularisers are properties, active in training mode only.
/// </summary>
/// <remarks>
/// A training step: <c>var (loss, nll, state) = model.TrainingLoss(inputs, targets, steps, batch, state, alpha, beta);
/// loss.Backward();</c>. Evaluation: <see cref="Evaluation.Evaluate(WordLM, int[], int, int)"/>. Sampling and rank
/// analysis: <see cref="Forward"/> then <see cref="LogProbs"/>. Looking inside: <see cref="ForwardLayers"/> keeps every
/// layer's output; forward hooks on <see cref="Encoder"/> and each of <see cref="Rnns"/> see (and may replace) those
/// outputs (<see cref="Inspection.UnitMask.Ablate"/> silences units); <c>LSTMCell.UnrollLayer(model.Rnns[l], 0, x)</c>
/// replays layer l step by step with its gates and cell states readable.
/// </remarks>
public sealed class WordLM : Module
{
    private readonly Generator _generator;
    private readonly LSTM[] _rnns;

    /// <summary>
    /// Builds the model. Initialisation is AWD-LSTM's <c>init_weights</c>: encoder (and a tied decoder)
    /// U(−0.1, 0.1), decoder bias 0, an untied decoder weight U(−0.1, 0.1); LSTM, prior and latent keep PyTorch's
    /// defaults. (PyTorch's default N(0, 1) embedding, shared with the decoder, would make the first logits
    /// of size √emsize·|h| and the first predictions needlessly sharp.) <paramref name="generator"/> draws the
    /// initial weights and, later, every dropout mask.
    /// </summary>
    public WordLM(WordLMConfig config, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(generator);
        Config = config;
        _generator = generator;
        Encoder = RegisterModule("encoder", new Embedding(config.VocabSize, config.EmSize, generator));
        var rnns = RegisterModule("rnns", new LayerList());
        _rnns = [.. config.LayerSizes().Select(s => new LSTM(s.Input, s.Hidden, 1, generator))];
        for (int l = 0; l < _rnns.Length; l++) rnns.Add(l.ToString(System.Globalization.CultureInfo.InvariantCulture), _rnns[l]);
        Head = OutputHead.Create(config.Head, config.NHidLast, config.VocabSize, generator, config.EmSize, config.Experts);
        // The head's layers become this model's children, so their names are decoder.weight, not head.decoder.weight.
        foreach (var (name, child) in Head.NamedChildren()) RegisterModule(name, child);

        var init = new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = Tensor.Uniform([config.VocabSize, config.EmSize], -0.1f, 0.1f, generator),
            ["decoder.bias"] = Tensor.Zeros([config.VocabSize], null),
        };
        if (!config.Tied) init["decoder.weight"] = Tensor.Uniform(Head.Decoder.Weight.Shape, -0.1f, 0.1f, generator);
        LoadStateDict(init, strict: false);
        if (config.Tied) Head.Decoder.Weight = Encoder.Weight;
    }

    /// <summary>The model's shape, as a checkpoint stores it.</summary>
    public WordLMConfig Config { get; }

    /// <summary>The word embedding (<c>encoder</c>).</summary>
    public Embedding Encoder { get; }

    /// <summary>The LSTM layers (<c>rnns.0</c>, <c>rnns.1</c>, …), each a single-layer LSTM.</summary>
    public IReadOnlyList<LSTM> Rnns => _rnns;

    /// <summary>The output head; its layers are registered on this model, not under it.</summary>
    public OutputHead Head { get; }

    /// <summary>Locked dropout on the last LSTM layer's output, the head's input (AWD-LSTM's <c>dropout</c>).</summary>
    public float Dropout { get; set => field = CheckProbability(value, nameof(Dropout)); }

    /// <summary>Locked dropout between LSTM layers (AWD-LSTM's <c>dropouth</c>).</summary>
    public float DropoutH { get; set => field = CheckProbability(value, nameof(DropoutH)); }

    /// <summary>
    /// MoS's <c>dropoutl</c>: locked dropout on the mixture experts' latent contexts (see
    /// <see cref="MixtureHead.LatentDropout"/>); 0 and ignored for the softmax and sigsoftmax heads.
    /// </summary>
    public float DropoutL
    {
        get => (Head as MixtureHead)?.LatentDropout ?? 0f;
        set
        {
            CheckProbability(value, nameof(DropoutL));
            if (Head is MixtureHead mixture) mixture.LatentDropout = value;
        }
    }

    /// <summary>Locked dropout on the embeddings fed to the first layer (AWD-LSTM's <c>dropouti</c>).</summary>
    public float DropoutI { get; set => field = CheckProbability(value, nameof(DropoutI)); }

    /// <summary>Embedding (word) dropout: whole rows of the table dropped per forward pass (AWD-LSTM's <c>dropoute</c>).</summary>
    public float DropoutE
    {
        get => Encoder.WordDropout;
        set => Encoder.WordDropout = CheckProbability(value, nameof(DropoutE));
    }

    /// <summary>DropConnect on every layer's recurrent matrix W_hh (AWD-LSTM's <c>wdrop</c>).</summary>
    public float WeightDrop
    {
        get => _rnns[0].WeightDropout;
        set
        {
            CheckProbability(value, nameof(WeightDrop));
            foreach (var rnn in _rnns) rnn.WeightDropout = value;
        }
    }

    /// <summary>A zero state for <paramref name="batch"/> streams: one single-layer state per LSTM layer.</summary>
    public LstmState[] ZeroState(int batch, Device? device = null) => [.. _rnns.Select(r => r.ZeroState(batch, device))];

    /// <summary>
    /// Runs the encoder and the LSTM layers over <paramref name="tokens"/>, laid out [steps, batch] row-major
    /// (token of stream b at step t at index t·batch + b, as <see cref="Data.Batches.Window"/> gives them).
    /// </summary>
    /// <param name="tokens">Word ids, <paramref name="steps"/>·<paramref name="batch"/> of them.</param>
    /// <param name="steps">Time steps T.</param>
    /// <param name="batch">Parallel streams B.</param>
    /// <param name="state">The state carried from the previous window (detach it first), or null for zeros.</param>
    /// <returns>
    /// <c>Hidden</c>: the head's input [T·B, nhidlast] (after output dropout); <c>State</c>: the new state, still on
    /// the tape; <c>RawLastOutput</c>: the last layer's output [T, B, nhidlast] before dropout (for TAR);
    /// <c>DroppedLastOutput</c>: the same after dropout (for AR).
    /// </returns>
    public (Tensor Hidden, LstmState[] State, Tensor RawLastOutput, Tensor DroppedLastOutput) Forward(int[] tokens, int steps, int batch, LstmState[]? state = null)
    {
        var run = Run(tokens, steps, batch, state, layerOutputs: null);
        return (run.Hidden, run.State, run.Raw, run.Dropped);
    }

    /// <summary>
    /// The same pass as <see cref="Forward"/>, keeping every layer's output for inspection: the embedding output
    /// [T, B, emsize] (after embedding dropout, before <see cref="DropoutI"/>) and each LSTM layer's raw output
    /// [T, B, H_l] (before dropout; in eval mode, exactly what the next layer reads). All stay on the tape, so
    /// <see cref="Tensor.RetainGrad"/> on them before Backward() gives each layer's gradient. Forward hooks on
    /// <see cref="Encoder"/> and <see cref="Rnns"/> fire as in Forward, and their replacements are what is kept.
    /// </summary>
    public WordLMLayerOutputs ForwardLayers(int[] tokens, int steps, int batch, LstmState[]? state = null)
    {
        var layers = new Tensor[_rnns.Length];
        var run = Run(tokens, steps, batch, state, layers);
        return new WordLMLayerOutputs(run.Embedding, layers, run.Hidden, run.State);
    }

    private (Tensor Embedding, Tensor Hidden, LstmState[] State, Tensor Raw, Tensor Dropped) Run(int[] tokens, int steps, int batch, LstmState[]? state, Tensor[]? layerOutputs)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (steps <= 0 || batch <= 0 || tokens.Length != steps * batch)
            throw new ArgumentException($"WordLM.Forward: {tokens.Length} tokens do not fill [steps={steps}, batch={batch}]");
        if (state is not null && state.Length != _rnns.Length)
            throw new ArgumentException($"WordLM.Forward: state has {state.Length} layers, the model {_rnns.Length}");
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)Config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"WordLM.Forward: token {tokens[i]} at position {i} is out of range [0, {Config.VocabSize})");
        }

        var embedded = Encoder.Forward(tokens, steps, batch);
        var x = Locked(embedded, DropoutI);
        var next = new LstmState[_rnns.Length];
        Tensor raw = x;
        for (int l = 0; l < _rnns.Length; l++)
        {
            (raw, next[l]) = _rnns[l].Forward(x, state?[l]);
            if (layerOutputs is not null) layerOutputs[l] = raw;
            x = l < _rnns.Length - 1 ? Locked(raw, DropoutH) : raw;
        }
        var dropped = Locked(raw, Dropout);
        if (Head is MixtureHead mixture) mixture.LatentDropoutStreams = batch; // its dropoutl mask is locked per stream
        return (embedded, dropped.Reshape(steps * batch, Config.NHidLast), next, raw, dropped);
    }

    /// <summary>The head's fused negative log-likelihood of <paramref name="targets"/> (one per row of <paramref name="hidden"/>).</summary>
    public Tensor Nll(Tensor hidden, int[] targets, Reduction reduction = Reduction.Mean) => Head.Nll(hidden, targets, reduction);

    /// <summary>Log-probabilities [N, V] of every word for hidden states [N, nhidlast] (for sampling and rank analysis).</summary>
    public Tensor LogProbs(Tensor hidden) => Head.LogProbs(hidden);

    /// <summary>
    /// One training window's loss, as AWD-LSTM's train(): the mean NLL of <paramref name="targets"/> plus
    /// AR (α·mean of the dropped last-layer output squared) and TAR (β·mean squared step of the raw output).
    /// </summary>
    /// <returns>
    /// <c>Loss</c> to call Backward() on; <c>Nll</c>, the mean NLL alone (its Item() is the loss to report, and
    /// exp of it the perplexity); <c>State</c>, the final state detached, ready to carry into the next window.
    /// </returns>
    public (Tensor Loss, Tensor Nll, LstmState[] State) TrainingLoss(int[] inputs, int[] targets, int steps, int batch, LstmState[]? state,
        float alpha = 0f, float beta = 0f)
    {
        if (alpha < 0f || beta < 0f || !float.IsFinite(alpha) || !float.IsFinite(beta))
            throw new ArgumentOutOfRangeException(nameof(alpha), $"WordLM.TrainingLoss: alpha = {alpha} and beta = {beta} must be finite and non-negative");
        var (hidden, next, raw, dropped) = Forward(inputs, steps, batch, state);
        var nll = Head.Nll(hidden, targets, Reduction.Mean);
        var loss = nll;
        if (alpha > 0f) loss = loss + Regularization.ActivationRegularization(dropped, alpha);
        if (beta > 0f && steps > 1) loss = loss + Regularization.TemporalActivationRegularization(raw, beta);
        return (loss, nll, [.. next.Select(s => s.Detach())]);
    }

    /// <summary>
    /// Sets the decoder bias so that, with the decoder weight at zero, every head predicts the unigram
    /// distribution of <paramref name="trainTokens"/> (add-<paramref name="smoothing"/> counts, so unseen words
    /// stay finite). Without it MoS collapsed to rank 2 under Adam (FIELD-NOTES); with it all heads start at the
    /// unigram perplexity instead of V.
    /// </summary>
    /// <remarks>
    /// Softmax and MoS: b = log f. Sigsoftmax and MoSS normalise w = z + log σ(z) instead of z, so b solves
    /// b + log σ(b) = log f: with u = e^b that is u²/(u + 1) = f, u = (f + √(f² + 4f))/2. (Plain log f there
    /// would give p ∝ f·σ(log f) ≈ f², far too sharp.)
    /// </remarks>
    public void InitDecoderBiasFromUnigram(int[] trainTokens, double smoothing = 1.0)
    {
        ArgumentNullException.ThrowIfNull(trainTokens);
        if (!(smoothing > 0) || !double.IsFinite(smoothing))
            throw new ArgumentOutOfRangeException(nameof(smoothing), $"WordLM.InitDecoderBiasFromUnigram: smoothing {smoothing} must be positive");
        int v = Config.VocabSize;
        var counts = new double[v];
        for (int i = 0; i < trainTokens.Length; i++)
        {
            if ((uint)trainTokens[i] >= (uint)v)
                throw new ArgumentOutOfRangeException(nameof(trainTokens), $"WordLM.InitDecoderBiasFromUnigram: token {trainTokens[i]} at position {i} is out of range [0, {v})");
            counts[trainTokens[i]]++;
        }
        double total = trainTokens.Length + smoothing * v;
        bool sig = Head.Normalizer == Normalizer.Sigsoftmax;
        var bias = new float[v];
        for (int j = 0; j < v; j++)
        {
            double f = (counts[j] + smoothing) / total;
            bias[j] = (float)(sig ? Math.Log((f + Math.Sqrt(f * f + 4 * f)) / 2) : Math.Log(f));
        }
        LoadStateDict(new Dictionary<string, Tensor> { ["decoder.bias"] = Tensor.FromArray(bias, [v], null) }, strict: false);
    }

    private Tensor Locked(Tensor x, float p) => Training && p > 0f ? new LockedDropout(p, _generator).Forward(x) : x;

    private static float CheckProbability(float p, string name) =>
        p is >= 0f and < 1f ? p : throw new ArgumentOutOfRangeException(nameof(p), $"WordLM.{name}: probability {p} must lie in [0, 1)");

    /// <summary>An ordered container of submodules named "0", "1", … (PyTorch's ModuleList), for <c>rnns</c>.</summary>
    private sealed class LayerList : Module
    {
        public void Add(string name, Module module) => RegisterModule(name, module);
    }
}

/// <summary>Every layer's output of one <see cref="WordLM.ForwardLayers"/> pass.</summary>
/// <param name="Embedding">The encoder's output [T, B, emsize].</param>
/// <param name="Layers">Each LSTM layer's raw output [T, B, H_l], layer 0 first (the last is nhidlast wide).</param>
/// <param name="Hidden">The head's input [T·B, nhidlast] (the last layer's output after output dropout), as Forward returns it.</param>
/// <param name="State">The new state, still on the tape.</param>
public sealed record WordLMLayerOutputs(Tensor Embedding, IReadOnlyList<Tensor> Layers, Tensor Hidden, LstmState[] State);
