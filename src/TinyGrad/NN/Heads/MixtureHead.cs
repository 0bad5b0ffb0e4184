using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// A mixture of K experts over one shared decoder; MoS and MoSS differ only in each expert's normaliser.
/// log π = log_softmax(W_π·g) (<c>prior</c>, no bias); h = tanh(W_l·g + b_l) split into K contexts of E units
/// (<c>latent</c>, [K·E, d]); log p = logsumexp_k(log πₖ + normalise(W·hₖ + b)) (<c>decoder</c>, [V, E]).
/// </summary>
/// <remarks>
/// The prior and the contexts are small ([N, K] and [N, K·E]) and go through ordinary ops on the tape. The
/// decoder's N·K·V logits are the expensive part: the fused ops (<see cref="Nll"/>, <see cref="LogProbs"/>)
/// make them <see cref="ChunkRows"/> rows of g at a time, so the extra memory is O(ChunkRows·K·V).
/// </remarks>
public abstract class MixtureHead : OutputHead
{
    // About 16 MB of float32 logits per chunk: big enough that each chunk's GEMM runs at full speed.
    private const int ChunkElements = 1 << 22;

    private readonly Linear _decoder;
    private readonly Generator _generator;

    /// <summary>Creates the prior, latent and decoder layers with PyTorch's default initialisation.</summary>
    protected MixtureHead(HeadKind kind, int inputSize, int vocabSize, int embeddingSize, int experts, Generator generator)
        : base(kind, inputSize, vocabSize)
    {
        if (experts <= 0 || embeddingSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(experts), $"{KindName} head: experts={experts} and embedding size={embeddingSize} must be positive");
        Experts = experts;
        EmbeddingSize = embeddingSize;
        Prior = RegisterModule("prior", new Linear(inputSize, experts, generator, bias: false));
        Latent = RegisterModule("latent", new Linear(inputSize, experts * embeddingSize, generator));
        _decoder = RegisterModule("decoder", new Linear(embeddingSize, vocabSize, generator));
        _generator = generator;
        ChunkRows = Math.Max(1, ChunkElements / (experts * vocabSize));
    }

    /// <summary>The number of experts K.</summary>
    public int Experts { get; }

    /// <summary>The size E of each expert's latent context (the decoder's input size).</summary>
    public int EmbeddingSize { get; }

    /// <summary>The prior W_π [K, d] (no bias).</summary>
    public Linear Prior { get; }

    /// <summary>The latent layer W_l [K·E, d], b_l [K·E].</summary>
    public Linear Latent { get; }

    /// <inheritdoc/>
    public override Linear Decoder => _decoder;

    /// <summary>
    /// MoS's <c>dropoutl</c>: locked dropout on the experts' contexts tanh(W_l·g + b_l), the only regulariser of the
    /// K·E latent layer. Active while <see cref="Latent"/> is in training mode (the model's Train()/Eval() reach it).
    /// The mask is locked over time, one per stream and unit: rows are t·B + b with B = <see cref="LatentDropoutStreams"/>,
    /// which the model sets for each window (0: every row its own mask).
    /// </summary>
    public float LatentDropout
    {
        get;
        set => field = value is >= 0f and < 1f ? value : throw new ArgumentOutOfRangeException(nameof(value), $"{Kind} head: latent dropout {value} must lie in [0, 1)");
    }

    /// <summary>The number of parallel streams B in the rows the head is given (rows are t·B + b); see <see cref="LatentDropout"/>.</summary>
    public int LatentDropoutStreams { get; set; }

    /// <summary>
    /// Rows of the hidden states per chunk in the fused ops (each makes K rows of V logits). The default keeps a
    /// chunk near 4M floats; smaller saves memory, larger saves nothing but per-chunk overhead.
    /// </summary>
    public int ChunkRows
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"{KindName} head: ChunkRows {value} must be at least 1");
    }

    /// <inheritdoc/>
    public override Tensor Nll(Tensor hidden, int[] targets, Reduction reduction = Reduction.Mean)
    {
        string op = $"{KindName}_nll";
        CheckHidden(op, hidden, Latent);
        HeadNll.CheckTargets(op, targets, hidden.Size(0), VocabSize, $"hidden {Shapes.Format(hidden.ShapeRef)}");
        var (logPrior, contexts) = Mix(hidden);
        return MixtureNll.Nll(op, Normalizer, logPrior, contexts, _decoder.Weight, _decoder.Bias!, targets, reduction, ChunkRows);
    }

    /// <inheritdoc/>
    public override Tensor LogProbs(Tensor hidden)
    {
        string op = $"{KindName}_log_probs";
        CheckHidden(op, hidden, Latent);
        var (logPrior, contexts) = Mix(hidden);
        return RunForwardHooks(MixtureNll.LogProbs(op, Normalizer, logPrior, contexts, _decoder.Weight, _decoder.Bias!, ChunkRows));
    }

    /// <inheritdoc/>
    /// <remarks>Builds the full [N, K, V] component tensor, as the reference does: the naive baseline.</remarks>
    public override Tensor LogProbsComposed(Tensor hidden)
    {
        CheckHidden($"{KindName}_log_probs_composed", hidden, Latent);
        int n = hidden.Size(0);
        var (logPrior, contexts) = Mix(hidden);
        var components = NormalizeComposed(_decoder.Forward(contexts), Normalizer).Reshape(n, Experts, VocabSize);
        return RunForwardHooks((logPrior.Reshape(n, Experts, 1) + components).LogSumExp(1));
    }

    /// <summary>The log prior [N, K] and the latent contexts [N·K, E] (row n·K + k is expert k of row n).</summary>
    internal (Tensor LogPrior, Tensor Contexts) Mix(Tensor hidden)
    {
        var logPrior = Prior.Forward(hidden).LogSoftmax();
        int n = hidden.Size(0);
        var latent = Latent.Forward(hidden).Tanh();
        if (Latent.Training && LatentDropout > 0f)
        {
            // [T, B, K·E] for the locked mask [1, B, K·E]: the same units dropped at every step of a stream.
            int streams = LatentDropoutStreams > 0 && n % LatentDropoutStreams == 0 ? LatentDropoutStreams : n;
            latent = new LockedDropout(LatentDropout, _generator).Forward(latent.Reshape(n / streams, streams, Experts * EmbeddingSize))
                .Reshape(n, Experts * EmbeddingSize);
        }
        var contexts = latent.Reshape(n * Experts, EmbeddingSize);
        return (logPrior, contexts);
    }
}
