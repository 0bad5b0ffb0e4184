namespace TinyGrad.NN;

/// <summary>The carried state of a multi-layer LSTM: per layer, h and c of shape [B, H_layer].</summary>
public sealed class LstmState
{
    /// <summary>Wraps per-layer hidden and cell states.</summary>
    public LstmState(Tensor[] h, Tensor[] c)
    {
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(c);
        if (h.Length != c.Length) throw new ArgumentException($"LstmState: {h.Length} hidden states but {c.Length} cell states");
        H = h;
        C = c;
    }

    /// <summary>Hidden state per layer.</summary>
    public Tensor[] H { get; }

    /// <summary>Cell state per layer.</summary>
    public Tensor[] C { get; }

    /// <summary>The same values cut from the tape: carry this into the next window (truncated BPTT).</summary>
    public LstmState Detach() => new([.. H.Select(t => t.Detach())], [.. C.Select(t => t.Detach())]);
}

/// <summary>
/// A multi-layer LSTM over sequence-first input [T, B, I], PyTorch's nn.LSTM in names
/// (<c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>), gate order (i, f, g, o)
/// and initialisation U(−1/√H, 1/√H). Layers may have different hidden sizes (AWD-LSTM's last layer matches
/// the embedding size). Each layer is one fused tape node (<see cref="Tensor.LstmLayer"/>).
/// </summary>
public sealed class LSTM : Module
{
    private readonly Generator _generator;
    private readonly Layer[] _layers;

    // One layer's parameter slots, in PyTorch's order and names (biases absent without bias).
    private sealed record Layer(ParameterSlot WeightIh, ParameterSlot WeightHh, ParameterSlot? BiasIh, ParameterSlot? BiasHh);

    /// <summary>An LSTM whose layers all have <paramref name="hiddenSize"/> units.</summary>
    public LSTM(int inputSize, int hiddenSize, int numLayers, Generator generator, bool bias = true)
        : this(inputSize, Enumerable.Repeat(hiddenSize, Math.Max(numLayers, 0)).ToArray(), generator, bias)
    {
    }

    /// <summary>An LSTM with one entry of <paramref name="hiddenSizes"/> per layer.</summary>
    public LSTM(int inputSize, int[] hiddenSizes, Generator generator, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        ArgumentNullException.ThrowIfNull(generator);
        if (inputSize <= 0 || hiddenSizes.Length == 0 || hiddenSizes.Any(h => h <= 0))
            throw new ArgumentOutOfRangeException(nameof(hiddenSizes), $"LSTM: input size {inputSize} and hidden sizes {Shapes.Format(hiddenSizes)} must be positive, with at least one layer");
        InputSize = inputSize;
        HiddenSizes = (int[])hiddenSizes.Clone();
        _generator = generator;
        _layers = new Layer[hiddenSizes.Length];
        int input = inputSize;
        for (int k = 0; k < hiddenSizes.Length; k++)
        {
            int h = hiddenSizes[k];
            float bound = 1f / MathF.Sqrt(h);
            var wih = RegisterParameter($"weight_ih_l{k}", Tensor.Uniform([4 * h, input], -bound, bound, generator));
            var whh = RegisterParameter($"weight_hh_l{k}", Tensor.Uniform([4 * h, h], -bound, bound, generator));
            var bih = bias ? RegisterParameter($"bias_ih_l{k}", Tensor.Uniform([4 * h], -bound, bound, generator)) : null;
            var bhh = bias ? RegisterParameter($"bias_hh_l{k}", Tensor.Uniform([4 * h], -bound, bound, generator)) : null;
            _layers[k] = new Layer(wih, whh, bih, bhh);
            input = h;
        }
    }

    /// <summary>Input features.</summary>
    public int InputSize { get; }

    /// <summary>Hidden size of each layer.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Number of layers.</summary>
    public int NumLayers => HiddenSizes.Count;

    /// <summary>
    /// DropConnect probability on every recurrent matrix W_hh (AWD-LSTM's WeightDrop): in training, each
    /// forward pass draws a new mask, and the gradient flows through it to the raw weight. Off in eval mode.
    /// </summary>
    public float WeightDropout
    {
        get;
        set => field = value is >= 0f and < 1f ? value : throw new ArgumentOutOfRangeException(nameof(value), $"LSTM: weight dropout {value} must lie in [0, 1)");
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s parameters as they are now (the live tensors, not copies), rows of the
    /// 4H-sized ones in gate order i, f, g, o; the biases are null without bias. <see cref="LSTMCell.FromLayer"/> uses them.
    /// </summary>
    public (Tensor WeightIh, Tensor WeightHh, Tensor? BiasIh, Tensor? BiasHh) LayerWeights(int layer)
    {
        if ((uint)layer >= (uint)_layers.Length)
            throw new ArgumentOutOfRangeException(nameof(layer), $"LSTM: layer {layer} is out of range [0, {_layers.Length})");
        var l = _layers[layer];
        return (l.WeightIh.Value, l.WeightHh.Value, l.BiasIh?.Value, l.BiasHh?.Value);
    }

    /// <summary>A zero state for batch size <paramref name="batch"/>.</summary>
    public LstmState ZeroState(int batch, Backends.Device? device = null) => new(
        [.. HiddenSizes.Select(h => Tensor.Zeros([batch, h], device))],
        [.. HiddenSizes.Select(h => Tensor.Zeros([batch, h], device))]);

    /// <summary>
    /// Runs all layers over x [T, B, I] from <paramref name="state"/> (zeros when null). Forward hooks see the last
    /// layer's output [T, B, H]; a replacement changes the returned output, not the returned state.
    /// </summary>
    public (Tensor Output, LstmState State) Forward(Tensor x, LstmState? state = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || x.Size(2) != InputSize)
            throw new ArgumentException($"LSTM: input shape {Shapes.Format(x.ShapeRef)} must be [T, B, {InputSize}]");
        int batch = x.Size(1);
        state ??= ZeroState(batch, x.Device);
        if (state.H.Length != NumLayers)
            throw new ArgumentException($"LSTM: state has {state.H.Length} layers, the LSTM {NumLayers}");
        var h = new Tensor[NumLayers];
        var c = new Tensor[NumLayers];
        var output = x;
        for (int k = 0; k < NumLayers; k++)
        {
            var layer = _layers[k];
            var whh = layer.WeightHh.Value;
            if (Training && WeightDropout > 0f) whh = whh * Dropout.Mask(whh.ShapeRef, WeightDropout, _generator, whh.Device);
            (output, h[k], c[k]) = Tensor.LstmLayer(output, state.H[k], state.C[k], layer.WeightIh.Value, whh,
                layer.BiasIh?.Value, layer.BiasHh?.Value);
        }
        return (RunForwardHooks(output), new LstmState(h, c));
    }
}
