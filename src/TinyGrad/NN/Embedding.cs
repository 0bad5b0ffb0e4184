namespace TinyGrad.NN;

/// <summary>A lookup table of word vectors: <c>weight</c> [num, dim], initialised N(0, 1) as in PyTorch.</summary>
public sealed class Embedding : Module
{
    private readonly Generator _generator;
    private readonly ParameterSlot _weight;

    /// <summary>Creates the table; <paramref name="generator"/> also draws the embedding-dropout masks.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), $"Embedding: sizes num={numEmbeddings}, dim={embeddingDim} must be positive");
        _generator = generator;
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        _weight = RegisterParameter("weight", Tensor.Randn([numEmbeddings, embeddingDim], generator));
    }

    /// <summary>Vocabulary size.</summary>
    public int NumEmbeddings { get; }

    /// <summary>Vector size.</summary>
    public int EmbeddingDim { get; }

    /// <summary>The table [num, dim] (shared with a decoder when weights are tied).</summary>
    public Tensor Weight => _weight.Value;

    /// <summary>
    /// Embedding dropout (AWD-LSTM's embedded_dropout): in training, whole words — rows of the table — are
    /// dropped with this probability for the forward pass and the rest scaled by 1/(1 − p). Off in eval mode.
    /// </summary>
    public float WordDropout
    {
        get;
        set => field = Dropout.CheckProbability(value, "Embedding.WordDropout");
    }

    /// <summary>
    /// Looks up <paramref name="ids"/> laid out as <paramref name="shape"/> (e.g. [T, B]); returns [..shape, dim].
    /// The backward scatter-adds into the looked-up rows only. Forward hooks see the looked-up vectors.
    /// </summary>
    public Tensor Forward(int[] ids, params int[] shape)
    {
        var table = Weight;
        if (Training && WordDropout > 0f)
            table = table * Dropout.Mask([NumEmbeddings, 1], WordDropout, _generator, table.Device); // one draw per word
        return RunForwardHooks(Lookup(table, ids, shape));
    }

    /// <summary>The lookup with an explicit table (embedding dropout passes a row-masked copy).</summary>
    public static Tensor Lookup(Tensor table, int[] ids, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(ids);
        shape = shape is null || shape.Length == 0 ? [ids.Length] : shape;
        if (Shapes.Numel(shape) != ids.Length)
            throw new ArgumentException($"embedding: {ids.Length} ids do not fill shape {Shapes.Format(shape)}");
        if (table.Rank != 2) throw new ArgumentException($"embedding: the table must be [num, dim], got shape {Shapes.Format(table.ShapeRef)}");
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)table.ShapeRef[0])
                throw new ArgumentOutOfRangeException(nameof(ids), $"embedding: id {ids[i]} at position {i} is out of range [0, {table.ShapeRef[0]}) for table {Shapes.Format(table.ShapeRef)}");
        }
        return table.IndexSelect(ids).Reshape([.. shape, table.Size(1)]);
    }
}
