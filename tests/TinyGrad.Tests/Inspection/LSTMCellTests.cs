namespace TinyGrad.Tests.Inspection;

using TinyGrad;
using TinyGrad.NN;

// The cell from plain ops against the fused layer: a learner reading gates from LSTMCell must be reading what the
// fused LSTM computes, values and gradients alike.
public class LSTMCellTests
{
    private const float Tolerance = 1e-5f;

    private static void Close(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= Tolerance * (1 + Math.Abs(want[i])), $"{what}[{i}]: fused {want[i]}, cell {got[i]}");
    }

    [Fact]
    public void Has_PyTorch_LSTMCell_parameter_names_and_shapes()
    {
        var cell = new LSTMCell(3, 5, new Generator(1));
        Assert.Equal(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], cell.NamedParameters().Select(p => p.Key));
        Assert.Equal(new[] { new[] { 20, 3 }, new[] { 20, 5 }, new[] { 20 }, new[] { 20 } }, cell.Parameters().Select(p => p.Shape));
        Assert.Equal(["weight_ih", "weight_hh"], new LSTMCell(3, 5, new Generator(1), bias: false).NamedParameters().Select(p => p.Key));
    }

    [Fact]
    public void Step_by_step_it_gives_the_fused_layers_values_and_gradients()
    {
        var lstm = new LSTM(3, 4, 1, new Generator(1));
        var g = new Generator(2);
        var x = Tensor.Randn([5, 2, 3], g).RequireGrad();
        var h0 = Tensor.Randn([2, 4], g).RequireGrad();
        var c0 = Tensor.Randn([2, 4], g).RequireGrad();
        // Weights on every output so that each one's gradient path is exercised.
        var wOut = Tensor.Randn([5, 2, 4], g);
        var wH = Tensor.Randn([2, 4], g);
        var wC = Tensor.Randn([2, 4], g);
        Tensor[] leaves = [x, h0, c0, .. lstm.Parameters()];

        Dictionary<string, float[]> Run(Func<(Tensor Output, Tensor H, Tensor C)> forward)
        {
            foreach (var t in leaves) t.ZeroGrad();
            var (output, h, c) = forward();
            ((output * wOut).Sum() + (h * wH).Sum() + (c * wC).Sum()).Backward();
            var result = new Dictionary<string, float[]> { ["output"] = output.ToArray(), ["h"] = h.ToArray(), ["c"] = c.ToArray() };
            foreach (var (name, p) in lstm.NamedParameters()) result["d" + name] = p.Grad!.ToArray();
            result["dx"] = x.Grad!.ToArray();
            result["dh0"] = h0.Grad!.ToArray();
            result["dc0"] = c0.Grad!.ToArray();
            return result;
        }

        var fused = Run(() =>
        {
            var (output, state) = lstm.Forward(x, new LstmState([h0], [c0]));
            return (output, state.H[0], state.C[0]);
        });
        var cell = Run(() =>
        {
            var trace = LSTMCell.UnrollLayer(lstm, 0, x, new LstmState([h0], [c0]));
            return (trace.Output, trace.H, trace.C);
        });
        Assert.Equal(fused.Keys, cell.Keys);
        foreach (var key in fused.Keys) Close(fused[key], cell[key], key);
    }

    [Fact]
    public void UnrollLayer_reproduces_every_layer_of_a_stacked_LSTM()
    {
        var lstm = new LSTM(3, [6, 4], new Generator(5));
        var x = Tensor.Randn([4, 3, 3], new Generator(6));
        var state = new LstmState([Tensor.Randn([3, 6], new Generator(7)), Tensor.Randn([3, 4], new Generator(8))],
            [Tensor.Randn([3, 6], new Generator(9)), Tensor.Randn([3, 4], new Generator(10))]);
        using var _ = Autograd.NoGrad();
        var (output, final) = lstm.Forward(x, state);
        var layer0 = LSTMCell.UnrollLayer(lstm, 0, x, state);
        var layer1 = LSTMCell.UnrollLayer(lstm, 1, layer0.Output, state);
        Close(output.ToArray(), layer1.Output.ToArray(), "output");
        Close(final.H[0].ToArray(), layer0.H.ToArray(), "h[0]");
        Close(final.C[1].ToArray(), layer1.C.ToArray(), "c[1]");
    }

    [Fact]
    public void The_gates_follow_PyTorch_order_i_f_g_o_and_the_cell_update()
    {
        // Zero weights, and a bias that is different per gate block: each gate is then a known constant.
        const int hidden = 2;
        var cell = new LSTMCell(1, hidden, new Generator(1));
        float[] bias = [1f, 1f, 2f, 2f, -0.5f, -0.5f, -1f, -1f]; // i, f, g, o blocks
        cell.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["weight_ih"] = Tensor.Zeros(4 * hidden, 1),
            ["weight_hh"] = Tensor.Zeros(4 * hidden, hidden),
            ["bias_ih"] = Tensor.FromArray(bias),
            ["bias_hh"] = Tensor.Zeros(4 * hidden),
        });
        var c0 = Tensor.FromArray([0.5f, -0.5f], 1, hidden);
        var step = cell.Step(Tensor.Ones(1, 1), Tensor.Zeros(1, hidden), c0);
        static float Sigmoid(float z) => 1f / (1f + MathF.Exp(-z));
        Close([Sigmoid(1f), Sigmoid(1f)], step.I.ToArray(), "i");
        Close([Sigmoid(2f), Sigmoid(2f)], step.F.ToArray(), "f");
        Close([MathF.Tanh(-0.5f), MathF.Tanh(-0.5f)], step.G.ToArray(), "g");
        Close([Sigmoid(-1f), Sigmoid(-1f)], step.O.ToArray(), "o");
        float[] c = [Sigmoid(2f) * 0.5f + Sigmoid(1f) * MathF.Tanh(-0.5f), Sigmoid(2f) * -0.5f + Sigmoid(1f) * MathF.Tanh(-0.5f)];
        Close(c, step.C.ToArray(), "c");
        Close([.. c.Select(v => Sigmoid(-1f) * MathF.Tanh(v))], step.H.ToArray(), "h");
        var (h, c2) = cell.Forward(Tensor.Ones(1, 1), (Tensor.Zeros(1, hidden), c0));
        Assert.Equal(step.H.ToArray(), h.ToArray());
        Assert.Equal(step.C.ToArray(), c2.ToArray());
        Autograd.ClearTape();
    }

    [Fact]
    public void A_trace_stacks_any_gate_over_time()
    {
        var lstm = new LSTM(2, 3, 1, new Generator(1));
        using var _ = Autograd.NoGrad();
        var trace = LSTMCell.UnrollLayer(lstm, 0, Tensor.Randn([5, 2, 2], new Generator(2)));
        var forget = trace.Stack(s => s.F);
        Assert.Equal([5, 2, 3], forget.Shape);
        Assert.Equal(trace.Steps[3].F.ToArray(), forget.Narrow(0, 3, 1).ToArray());
        Assert.All(forget.ToArray(), v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void A_cell_shares_its_layers_tensors()
    {
        var lstm = new LSTM(2, 3, 2, new Generator(1));
        var cell = LSTMCell.FromLayer(lstm, 1);
        var (wih, whh, bih, bhh) = lstm.LayerWeights(1);
        Assert.Same(wih, cell.WeightIh);
        Assert.Same(whh, cell.WeightHh);
        Assert.Same(bih, cell.BiasIh);
        Assert.Same(bhh, cell.BiasHh);
        Assert.Equal(3, cell.InputSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => LSTMCell.FromLayer(lstm, 2));
    }
}
