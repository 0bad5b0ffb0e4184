namespace TinyGrad.NN;

/// <summary>
/// One step of an LSTM cell, everything [B, H]: the four gates in PyTorch's order (i, f, g, o) after their
/// nonlinearities, and the new cell and hidden states. All are ordinary tensors on the tape.
/// </summary>
/// <param name="I">Input gate i = σ(G_i): how much of the candidate enters the cell.</param>
/// <param name="F">Forget gate f = σ(G_f): how much of the old cell state is kept.</param>
/// <param name="G">Cell candidate g = tanh(G_g): what would be written.</param>
/// <param name="O">Output gate o = σ(G_o): how much of tanh(c) is shown as h.</param>
/// <param name="C">New cell state c = f⊙c_prev + i⊙g.</param>
/// <param name="H">New hidden state h = o⊙tanh(c) (after the cell's forward hooks, if any).</param>
public sealed record LstmCellStep(Tensor I, Tensor F, Tensor G, Tensor O, Tensor C, Tensor H);

/// <summary>A cell run over a whole sequence (<see cref="LSTMCell.Unroll"/>): every step, and the layer's results.</summary>
/// <param name="Steps">Step t's gates and states, t = 0 … T−1.</param>
/// <param name="Output">The hidden states of all steps stacked: [T, B, H], what the fused layer returns.</param>
/// <param name="H">The last hidden state [B, H].</param>
/// <param name="C">The last cell state [B, H].</param>
public sealed record LstmCellTrace(IReadOnlyList<LstmCellStep> Steps, Tensor Output, Tensor H, Tensor C)
{
    /// <summary>
    /// One quantity of every step stacked along time, [T, B, H]: e.g. <c>trace.Stack(s =&gt; s.F)</c> for the forget
    /// gate, <c>trace.Stack(s =&gt; s.C)</c> for the cell state.
    /// </summary>
    public Tensor Stack(Func<LstmCellStep, Tensor> pick)
    {
        ArgumentNullException.ThrowIfNull(pick);
        return Tensor.Stack([.. Steps.Select(pick)]);
    }
}

/// <summary>
/// An LSTM cell written with plain tensor ops (matmul, add, chunk, sigmoid, tanh, mul), PyTorch's nn.LSTMCell in
/// names (<c>weight_ih</c> [4H, I], <c>weight_hh</c> [4H, H], <c>bias_ih</c>, <c>bias_hh</c> [4H]), gate order
/// (i, f, g, o) and initialisation U(−1/√H, 1/√H). It computes what one step of the fused
/// <see cref="Tensor.LstmLayer"/> computes, but every gate is a tensor you can read, hook or differentiate
/// (tests hold the two to the same values and gradients). It is for looking inside, not for speed.
/// </summary>
/// <remarks>
/// To look inside a trained <see cref="LSTM"/>: <c>LSTMCell.UnrollLayer(lstm, 0, x)</c> runs layer 0 step by step
/// with the layer's own weights and returns every step's gates and states. Forward hooks on a cell see each step's
/// new h, and a replacement is what the next step reads: masking a unit there removes it from the recurrence too,
/// unlike a hook on the fused <see cref="LSTM"/>, which only changes what the layer above sees.
/// </remarks>
public sealed class LSTMCell : Module
{
    private readonly ParameterSlot _weightIh, _weightHh;
    private readonly ParameterSlot? _biasIh, _biasHh;

    /// <summary>A cell with PyTorch's default initialisation.</summary>
    public LSTMCell(int inputSize, int hiddenSize, Generator generator, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"LSTMCell: sizes input={inputSize}, hidden={hiddenSize} must be positive");
        float bound = 1f / MathF.Sqrt(hiddenSize);
        _weightIh = RegisterParameter("weight_ih", Tensor.Uniform([4 * hiddenSize, inputSize], -bound, bound, generator));
        _weightHh = RegisterParameter("weight_hh", Tensor.Uniform([4 * hiddenSize, hiddenSize], -bound, bound, generator));
        if (bias)
        {
            _biasIh = RegisterParameter("bias_ih", Tensor.Uniform([4 * hiddenSize], -bound, bound, generator));
            _biasHh = RegisterParameter("bias_hh", Tensor.Uniform([4 * hiddenSize], -bound, bound, generator));
        }
        InputSize = inputSize;
        HiddenSize = hiddenSize;
    }

    // A cell whose parameters are another module's tensors (not copies): gradients land in that module's parameters.
    private LSTMCell(Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh)
    {
        _weightIh = RegisterParameter("weight_ih", weightIh);
        _weightHh = RegisterParameter("weight_hh", weightHh);
        if (biasIh is not null) _biasIh = RegisterParameter("bias_ih", biasIh);
        if (biasHh is not null) _biasHh = RegisterParameter("bias_hh", biasHh);
        InputSize = weightIh.Size(1);
        HiddenSize = weightHh.Size(1);
    }

    /// <summary>
    /// A cell that shares layer <paramref name="layer"/>'s weights with <paramref name="lstm"/> (the same tensors, so
    /// gradients computed through the cell land in the LSTM's parameters). Build it after loading a checkpoint or
    /// moving the LSTM to a device: those put new tensors in the LSTM, which a cell made before would not see.
    /// </summary>
    public static LSTMCell FromLayer(LSTM lstm, int layer = 0)
    {
        ArgumentNullException.ThrowIfNull(lstm);
        var (wih, whh, bih, bhh) = lstm.LayerWeights(layer);
        return new LSTMCell(wih, whh, bih, bhh);
    }

    /// <summary>
    /// Runs layer <paramref name="layer"/> of <paramref name="lstm"/> step by step with a cell that shares its
    /// weights (<see cref="FromLayer"/>) over x [T, B, I], from that layer's part of <paramref name="state"/> (zeros
    /// when null). The raw W_hh is used, as in eval mode: weight drop (<see cref="LSTM.WeightDropout"/>) is not applied.
    /// </summary>
    public static LstmCellTrace UnrollLayer(LSTM lstm, int layer, Tensor x, LstmState? state = null)
    {
        ArgumentNullException.ThrowIfNull(lstm);
        return FromLayer(lstm, layer).Unroll(x, state?.H[layer], state?.C[layer]);
    }

    /// <summary>Input features I.</summary>
    public int InputSize { get; }

    /// <summary>Hidden units H.</summary>
    public int HiddenSize { get; }

    /// <summary>W_ih [4H, I], rows in gate order i, f, g, o.</summary>
    public Tensor WeightIh => _weightIh.Value;

    /// <summary>W_hh [4H, H], rows in gate order i, f, g, o.</summary>
    public Tensor WeightHh => _weightHh.Value;

    /// <summary>b_ih [4H], or null without bias.</summary>
    public Tensor? BiasIh => _biasIh?.Value;

    /// <summary>b_hh [4H], or null without bias.</summary>
    public Tensor? BiasHh => _biasHh?.Value;

    /// <summary>
    /// One step, PyTorch's <c>LSTMCell.forward</c>: from x [B, I] and the state (h, c) [B, H] (zeros when null),
    /// the new (h, c). Forward hooks see the new h.
    /// </summary>
    public (Tensor H, Tensor C) Forward(Tensor x, (Tensor H, Tensor C)? state = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 2) throw new ArgumentException($"LSTMCell: input {Shapes.Format(x.ShapeRef)} must be [B, {InputSize}]");
        var (h, c) = state ?? ZeroState(x.Size(0), x);
        var step = Step(x, h, c);
        return (step.H, step.C);
    }

    /// <summary>
    /// One step with every gate kept: G = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, split into four [B, H] blocks;
    /// i, f, o = σ(G_i, G_f, G_o); g = tanh(G_g); c' = f⊙c + i⊙g; h' = o⊙tanh(c'). Forward hooks see h'.
    /// </summary>
    public LstmCellStep Step(Tensor x, Tensor h, Tensor c)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(c);
        if (x.Rank != 2 || x.Size(1) != InputSize || !Shapes.Equal(h.ShapeRef, [x.Size(0), HiddenSize]) || !Shapes.Equal(c.ShapeRef, h.ShapeRef))
            throw new ArgumentException($"LSTMCell({InputSize}→{HiddenSize}): input {Shapes.Format(x.ShapeRef)}, h {Shapes.Format(h.ShapeRef)}, c {Shapes.Format(c.ShapeRef)} must be [B, {InputSize}], [B, {HiddenSize}], [B, {HiddenSize}]");
        // The same sum as the fused layer, grouped as PyTorch writes it; only the rounding order differs.
        var gates = Tensor.MatMul(x, WeightIh, transposeB: true) + Tensor.MatMul(h, WeightHh, transposeB: true);
        if (BiasIh is Tensor bih) gates = gates + bih;
        if (BiasHh is Tensor bhh) gates = gates + bhh;
        var blocks = gates.Chunk(4, 1); // i, f, g, o: rows [0, H), [H, 2H), [2H, 3H), [3H, 4H) of the weights
        var i = blocks[0].Sigmoid();
        var f = blocks[1].Sigmoid();
        var g = blocks[2].Tanh();
        var o = blocks[3].Sigmoid();
        var cNext = f * c + i * g;
        var hNext = RunForwardHooks(o * cNext.Tanh());
        return new LstmCellStep(i, f, g, o, cNext, hNext);
    }

    /// <summary>
    /// Runs the cell over x [T, B, I] from (h0, c0) [B, H] (zeros when null), one <see cref="Step"/> per time step,
    /// each reading the previous step's h (after hooks) and c. The trace's Output matches the fused layer's output.
    /// </summary>
    public LstmCellTrace Unroll(Tensor x, Tensor? h0 = null, Tensor? c0 = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || x.Size(2) != InputSize || x.Size(0) == 0)
            throw new ArgumentException($"LSTMCell({InputSize}→{HiddenSize}): sequence {Shapes.Format(x.ShapeRef)} must be [T ≥ 1, B, {InputSize}]");
        var zero = ZeroState(x.Size(1), x);
        Tensor h = h0 ?? zero.H, c = c0 ?? zero.C;
        var steps = new LstmCellStep[x.Size(0)];
        for (int t = 0; t < steps.Length; t++)
        {
            var step = Step(x.Narrow(0, t, 1).Squeeze(0), h, c);
            steps[t] = step;
            (h, c) = (step.H, step.C);
        }
        return new LstmCellTrace(steps, Tensor.Stack([.. steps.Select(s => s.H)]), h, c);
    }

    private (Tensor H, Tensor C) ZeroState(int batch, Tensor like) =>
        (Tensor.Zeros([batch, HiddenSize], like.Device), Tensor.Zeros([batch, HiddenSize], like.Device));
}
