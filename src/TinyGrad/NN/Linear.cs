namespace TinyGrad.NN;

/// <summary>y = x·Wᵀ + b with W [out, in] (PyTorch's layout and names: <c>weight</c>, <c>bias</c>).</summary>
public sealed class Linear : Module
{
    private readonly ParameterSlot _weight;
    private readonly ParameterSlot? _bias;

    /// <summary>
    /// Creates the layer with PyTorch's default initialisation: W and b uniform in ±1/√in
    /// (kaiming_uniform with a = √5 reduces to that bound).
    /// </summary>
    public Linear(int inFeatures, int outFeatures, Generator generator, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear: sizes in={inFeatures}, out={outFeatures} must be positive");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        float bound = 1f / MathF.Sqrt(inFeatures);
        _weight = RegisterParameter("weight", Tensor.Uniform([outFeatures, inFeatures], -bound, bound, generator));
        if (bias) _bias = RegisterParameter("bias", Tensor.Uniform([outFeatures], -bound, bound, generator));
    }

    /// <summary>Input size.</summary>
    public int InFeatures { get; }

    /// <summary>Output size.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight [out, in]. Setting it ties this layer to another tensor of the same shape (e.g. an embedding).</summary>
    public Tensor Weight
    {
        get => _weight.Value;
        set => ReplaceParameter(_weight, value);
    }

    /// <summary>The bias [out], or null.</summary>
    public Tensor? Bias => _bias?.Value;

    /// <summary>Applies the layer to x [..., in] (rank 2 or 3); the weight goes to the GEMM untransposed. Forward hooks see y.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank is < 2 or > 3 || x.Size(-1) != InFeatures)
            throw new ArgumentException($"Linear({InFeatures}→{OutFeatures}): input shape {Shapes.Format(x.ShapeRef)} must be [N, {InFeatures}] or [T, B, {InFeatures}]");
        var y = Tensor.MatMul(x, Weight, transposeB: true);
        return RunForwardHooks(Bias is Tensor b ? y + b : y);
    }
}
