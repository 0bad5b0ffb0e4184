namespace TinyGrad.Tests.NN;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.NN;
using TinyGrad.Tests.Backends;

public abstract class LstmTests(Device device) : OnDevice(device)
{
    [SkippableFact]
    public void Gradient_check_passes_on_a_tiny_lstm()
    {
        var g = new Generator(3);
        var x = Tensor.Randn([3, 2, 3], g).RequireGrad();
        var h0 = Tensor.Randn([2, 4], g).Mul(0.5f).Detach().RequireGrad();
        var c0 = Tensor.Randn([2, 4], g).Mul(0.5f).Detach().RequireGrad();
        var wih = Tensor.Uniform([16, 3], -0.5f, 0.5f, g).RequireGrad();
        var whh = Tensor.Uniform([16, 4], -0.5f, 0.5f, g).RequireGrad();
        var bih = Tensor.Uniform([16], -0.5f, 0.5f, g).RequireGrad();
        var bhh = Tensor.Uniform([16], -0.5f, 0.5f, g).RequireGrad();
        // All three outputs in one vector, so the check covers the gradient entering through each.
        var result = GradCheck.Check(t =>
        {
            var (output, h, c) = Tensor.LstmLayer(t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
            return Tensor.Cat([output.Flatten(), h.Flatten(), c.Flatten()]);
        }, [x, h0, c0, wih, whh, bih, bhh]);
        Assert.True(result.Passed, result.Report);
    }

    [SkippableFact]
    public void One_tape_node_per_layer()
    {
        Autograd.ClearTape();
        var lstm = new LSTM(4, [5, 6, 4], new Generator(1));
        var (output, _) = lstm.Forward(Tensor.Randn([7, 2, 4], new Generator(2)));
        Assert.Equal(3, Autograd.TapeLength);
        Assert.Equal(new[] { 7, 2, 4 }, output.Shape);
        Autograd.ClearTape();
    }

    [SkippableFact]
    public void Parameters_have_pytorch_names_shapes_and_init_bounds()
    {
        var lstm = new LSTM(10, [8, 3], new Generator(0));
        var named = lstm.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"], named.Keys);
        Assert.Equal(new[] { 32, 10 }, named["weight_ih_l0"].Shape);
        Assert.Equal(new[] { 12, 8 }, named["weight_ih_l1"].Shape);
        Assert.All(named["weight_hh_l0"].ToArray(), v => Assert.InRange(v, -1 / MathF.Sqrt(8), 1 / MathF.Sqrt(8)));
        Assert.All(named["bias_hh_l1"].ToArray(), v => Assert.InRange(v, -1 / MathF.Sqrt(3), 1 / MathF.Sqrt(3)));
        Assert.Equal(32 * 10 + 32 * 8 + 64 + 12 * 8 + 12 * 3 + 24, lstm.ParameterCount());
    }

    [SkippableFact]
    public void Wrong_shapes_name_the_op_and_shapes()
    {
        var lstm = new LSTM(4, 5, 1, new Generator(0));
        var e1 = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(3, 2, 6)));
        Assert.Contains("[3, 2, 6]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Tensor.LstmLayer(Tensor.Zeros(3, 2, 4), Tensor.Zeros(3, 5), Tensor.Zeros(2, 5),
            Tensor.Zeros(20, 4), Tensor.Zeros(20, 5), null, null));
        Assert.Contains("lstm", e2.Message);
        Assert.Contains("h0 [3, 5]", e2.Message);
    }

    [SkippableFact]
    public void Weight_drop_draws_a_new_mask_each_forward_and_the_gradient_reaches_the_raw_weight()
    {
        var lstm = new LSTM(3, 4, 1, new Generator(0)) { WeightDropout = 0.5f };
        var x = Tensor.Randn([2, 1, 3], new Generator(1));
        var (a, _) = lstm.Forward(x);
        var (b, _) = lstm.Forward(x);
        Assert.NotEqual(a.ToArray(), b.ToArray());
        (a.Sum() + b.Sum()).Backward();
        var raw = lstm.NamedParameters().Single(p => p.Key == "weight_hh_l0").Value;
        Assert.NotNull(raw.Grad);
        Assert.Contains(raw.Grad!.ToArray(), v => v == 0f); // dropped connections get no gradient (per mask)
        lstm.Eval();
        var (c, _) = lstm.Forward(x);
        var (d, _) = lstm.Forward(x);
        Assert.Equal(c.ToArray(), d.ToArray());
        Autograd.ClearTape();
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class LstmTestsCpu() : LstmTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class LstmTestsCuda() : LstmTests(Device.Cuda);
