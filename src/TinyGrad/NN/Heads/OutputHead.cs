using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// An output layer of a language model: hidden states g [N, d] → log-probabilities over V words. Four
/// kinds, as in the paper the project reproduces (Kanai et al., 2018): <see cref="SoftmaxHead"/>,
/// <see cref="SigsoftmaxHead"/>, and the mixtures <see cref="MosHead"/> and <see cref="MossHead"/>.
/// </summary>
/// <remarks>
/// <para>Each head offers two fused paths, each one tape node with a hand-derived backward:
/// <see cref="Nll"/>, the training loss, which never builds the log-probability matrix, and
/// <see cref="LogProbs"/>, the full matrix for evaluation, sampling and rank analysis. The same math composed
/// from primitive ops (<see cref="LogProbsComposed"/>, <see cref="NllComposed"/>) is kept beside them as the
/// reference the tests hold the fused code to, and as the benchmark's baseline.</para>
/// <para>Parameter names match <c>wordlm_reference.py</c>: <c>decoder.weight</c> [V, d] and <c>decoder.bias</c>
/// for softmax and sigsoftmax; <c>prior.weight</c> [K, d], <c>latent.weight</c> [K·E, d], <c>latent.bias</c>,
/// <c>decoder.weight</c> [V, E] and <c>decoder.bias</c> for the mixtures.</para>
/// <para>In a model those names sit at the top level (<c>decoder.weight</c>, not <c>head.decoder.weight</c>).
/// To get that, the model registers the head's children as its own submodules instead of the head:
/// <c>foreach (var (name, child) in head.NamedChildren()) RegisterModule(name, child);</c> and keeps a plain
/// reference to the head to call it. Both then hold the same <see cref="Linear"/> modules, so state dicts,
/// optimizers and weight tying see one set of tensors.</para>
/// <para>Weight tying: <c>head.Decoder.Weight = embedding.Weight</c> (the decoder's input size must equal the
/// embedding size); the gradient of the shared tensor then sums both uses.</para>
/// </remarks>
public abstract class OutputHead : Module
{
    /// <summary>Sets the kind, its normaliser and the sizes; subclasses register their layers.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or <paramref name="kind"/> is not a head kind.</exception>
    protected OutputHead(HeadKind kind, int inputSize, int vocabSize)
    {
        Normalizer = HeadKinds.NormalizerOf(kind); // first: it refuses an undefined kind before the name is used
        KindName = HeadKinds.Name(kind);
        if (inputSize <= 0 || vocabSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"{KindName} head: sizes input={inputSize}, vocab={vocabSize} must be positive");
        Kind = kind;
        InputSize = inputSize;
        VocabSize = vocabSize;
    }

    /// <summary>Which of the four heads this is.</summary>
    public HeadKind Kind { get; }

    /// <summary>The reference's name of <see cref="Kind"/> (<see cref="HeadKinds.Name"/>), which starts the fused ops' names
    /// in messages: "sigsoftmax_nll", "mos_log_probs".</summary>
    protected string KindName { get; }

    /// <summary>The normaliser turning logits into log-probabilities (per expert, for the mixtures).</summary>
    public Normalizer Normalizer { get; }

    /// <summary>The size d of the hidden states the head reads.</summary>
    public int InputSize { get; }

    /// <summary>The number of words V.</summary>
    public int VocabSize { get; }

    /// <summary>The decoder [V, in] (in = d, or E for the mixtures), whose weight may be tied to an embedding.</summary>
    public abstract Linear Decoder { get; }

    /// <summary>Log-probabilities [N, V] of every word for hidden states [N, d] (fused; differentiable). Forward hooks on the head see them.</summary>
    public abstract Tensor LogProbs(Tensor hidden);

    /// <summary>
    /// The negative log-likelihood of <paramref name="targets"/> (one word id per row of <paramref name="hidden"/>),
    /// summed or averaged over rows: a scalar. Fused: the log-probability matrix is never built.
    /// </summary>
    public abstract Tensor Nll(Tensor hidden, int[] targets, Reduction reduction = Reduction.Mean);

    /// <summary>The same log-probabilities as <see cref="LogProbs"/>, composed from primitive tensor ops on the tape. Forward hooks on the head see them.</summary>
    public abstract Tensor LogProbsComposed(Tensor hidden);

    /// <summary>The same loss as <see cref="Nll"/>, composed from primitive ops (−log-probabilities gathered at the targets).</summary>
    public Tensor NllComposed(Tensor hidden, int[] targets, Reduction reduction = Reduction.Mean) =>
        Tensor.NllLoss(LogProbsComposed(hidden), targets, reduction);

    /// <summary>
    /// A head of the given kind: softmax or sigsoftmax (decoder [V, d]), or mos or moss with
    /// <paramref name="experts"/> experts whose latent contexts have <paramref name="embeddingSize"/> units.
    /// Parameters get PyTorch's default initialisation.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="kind"/> is not one of the four heads.</exception>
    public static OutputHead Create(HeadKind kind, int inputSize, int vocabSize, Generator generator, int embeddingSize = 0, int experts = 1) => kind switch
    {
        HeadKind.Softmax => new SoftmaxHead(inputSize, vocabSize, generator),
        HeadKind.Sigsoftmax => new SigsoftmaxHead(inputSize, vocabSize, generator),
        HeadKind.Mos => new MosHead(inputSize, vocabSize, embeddingSize, experts, generator),
        HeadKind.Moss => new MossHead(inputSize, vocabSize, embeddingSize, experts, generator),
        _ => throw new ArgumentException($"output head: unknown kind {kind} (expected {HeadKinds.ValidNames})", nameof(kind)),
    };

    /// <summary>The normaliser from primitive ops: log_softmax(z), or log_softmax(z + log σ(z)) (<see cref="Tensor.LogNormalize"/>).</summary>
    protected static Tensor NormalizeComposed(Tensor logits, Normalizer normalizer)
    {
        ArgumentNullException.ThrowIfNull(logits);
        return logits.LogNormalize(normalizer);
    }

    /// <summary>Throws unless <paramref name="hidden"/> is [N, d] with N ≥ 1, naming the op and the layer it feeds.</summary>
    protected void CheckHidden(string op, Tensor hidden, Linear layer)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(layer);
        if (hidden.Rank != 2 || hidden.Size(1) != InputSize)
            throw new ArgumentException($"{op}: hidden {Shapes.Format(hidden.ShapeRef)} does not match {LayerName(layer)} {Shapes.Format(layer.Weight.ShapeRef)}");
        if (hidden.Size(0) == 0)
            throw new ArgumentException($"{op}: hidden {Shapes.Format(hidden.ShapeRef)} has no rows");
    }

    private string LayerName(Linear layer) => NamedChildren().FirstOrDefault(c => ReferenceEquals(c.Value, layer)).Key ?? "layer";
}
