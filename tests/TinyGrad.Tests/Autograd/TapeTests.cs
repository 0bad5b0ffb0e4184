namespace TinyGrad.Tests;

using TinyGrad;
using TinyGrad.Optim;

public class TapeTests
{
    private static Tensor Param(float[] data, params int[] shape) => Tensor.FromArray(data, shape).RequireGrad();

    [Fact]
    public void Backward_of_a_scalar_fills_leaf_gradients()
    {
        var x = Param([1f, 2f, 3f], 3);
        var y = (x * x).Sum(); // dy/dx = 2x
        y.Backward();
        Assert.Equal([2f, 4f, 6f], x.Grad!.ToArray());
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_ZeroGrad()
    {
        var x = Param([1f, -2f], 2);
        (x * 3f).Sum().Backward();
        (x * 3f).Sum().Backward();
        Assert.Equal([6f, 6f], x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Fused_ops_that_hand_over_their_gradient_buffers_still_accumulate_separately()
    {
        // The LSTM gives its bias gradient buffer to bias_ih (no copy) and a copy to bias_hh, and later passes add
        // in place: two passes must give each exactly twice one pass, and the two must not share a buffer.
        var lstm = new TinyGrad.NN.LSTM(3, 4, 1, new Generator(1));
        var x = Tensor.Randn([2, 2, 3], new Generator(2));
        float[] Once(string name) => lstm.NamedParameters().First(p => p.Key == name).Value.Grad!.ToArray();
        lstm.Forward(x).Output.Sum().Backward();
        var ih1 = Once("weight_ih_l0");
        var bih1 = Once("bias_ih_l0");
        lstm.Forward(x).Output.Sum().Backward();
        var p = lstm.NamedParameters().ToDictionary(e => e.Key, e => e.Value);
        Assert.NotSame(p["bias_ih_l0"].Grad, p["bias_hh_l0"].Grad);
        Assert.Equal(bih1.Select(v => 2 * v), Once("bias_ih_l0"));
        Assert.Equal(bih1.Select(v => 2 * v), Once("bias_hh_l0"));
        Assert.Equal(ih1.Select(v => 2 * v), Once("weight_ih_l0"));
    }

    [Fact]
    public void An_lstm_bias_gradient_handed_to_a_leaf_is_not_shared_with_a_non_leaf_bias()
    {
        // Regression (review): bias_ih a leaf, bias_hh computed from another leaf. Both receive the same db; if
        // bias_ih kept db as its own gradient while bias_hh passed the same buffer upstream, a later in-place add
        // into bias_ih's gradient (from `extra`) leaked into src's gradient.
        const int h = 3;
        float[] SrcGrad(bool nonLeaf)
        {
            var g = new Generator(4);
            var x = Tensor.Randn([2, 2, 2], g);
            var h0 = Tensor.Zeros(2, h);
            var c0 = Tensor.Zeros(2, h);
            var wih = Tensor.Randn([4 * h, 2], g);
            var whh = Tensor.Randn([4 * h, h], g);
            var bIh = Tensor.Randn([4 * h], g).RequireGrad();
            var src = Tensor.Randn([4 * h], g).RequireGrad();
            var bHh = nonLeaf ? src * 1f : src;
            var extra = bIh * 3f;
            var (o, _, _) = Tensor.LstmLayer(x, h0, c0, wih, whh, bIh, bHh);
            (o.Sum() + extra.Sum()).Backward();
            return src.Grad!.ToArray();
        }
        Assert.Equal(SrcGrad(nonLeaf: false), SrcGrad(nonLeaf: true));
    }

    [Fact]
    public void A_tensor_used_twice_gets_both_contributions()
    {
        var x = Param([2f], 1);
        var y = x * x + x; // 2x + 1 = 5
        y.Sum().Backward();
        Assert.Equal(5f, x.Grad!.Item());
    }

    [Fact]
    public void Second_backward_over_a_released_graph_is_a_clear_error()
    {
        var x = Param([1f, 2f], 2);
        var loss = (x * x).Sum();
        loss.Backward();
        var error = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("already released", error.Message);
    }

    [Fact]
    public void A_graph_built_on_a_released_intermediate_is_a_clear_error()
    {
        var x = Param([1f, 2f], 2);
        var h = x.Exp();
        h.Sum().Backward();
        var again = (h * 2f).Sum(); // h's own graph is gone
        var error = Assert.Throws<InvalidOperationException>(() => again.Backward());
        Assert.Contains("released", error.Message);
    }

    [Fact]
    public void The_tape_is_empty_after_backward()
    {
        Autograd.ClearTape();
        var x = Param([1f, 2f, 3f], 3);
        var loss = (x.Tanh() * x).Mean();
        Assert.True(Autograd.TapeLength >= 3);
        loss.Backward();
        Assert.Equal(0, Autograd.TapeLength);
    }

    [Fact]
    public void NoGrad_records_nothing_and_outputs_need_no_gradient()
    {
        Autograd.ClearTape();
        var x = Param([1f, 2f], 2);
        Tensor y;
        using (Autograd.NoGrad()) y = (x * x).Sum();
        Assert.False(y.RequiresGrad);
        Assert.Equal(0, Autograd.TapeLength);
        Assert.True(Autograd.IsGradEnabled);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
    }

    [Fact]
    public void NoGrad_is_per_thread()
    {
        using var _ = Autograd.NoGrad();
        bool enabledElsewhere = false;
        var thread = new Thread(() => enabledElsewhere = Autograd.IsGradEnabled);
        thread.Start();
        thread.Join();
        Assert.True(enabledElsewhere);
        Assert.False(Autograd.IsGradEnabled);
    }

    [Fact]
    public void Detach_cuts_the_history()
    {
        var x = Param([1f, 2f], 2);
        var d = (x * 2f).Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        var loss = (x * d).Sum(); // only the direct use of x counts: d/dx = d = 2x
        loss.Backward();
        Assert.Equal([2f, 4f], x.Grad!.ToArray());
    }

    [Fact]
    public void Explicit_upstream_gradient_for_non_scalar_outputs()
    {
        var x = Param([1f, 2f, 3f], 3);
        var y = x * 2f;
        Assert.Throws<ArgumentException>(() => y.Backward());
        y.Backward(Tensor.FromArray([1f, 0f, -1f], 3));
        Assert.Equal([2f, 0f, -2f], x.Grad!.ToArray());
    }

    [Fact]
    public void Broadcast_gradients_are_summed_back_to_the_input_shape()
    {
        var a = Param([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var bias = Param([10f, 20f, 30f], 3);
        var scale = Param([2f], 1);
        ((a + bias) * scale).Sum().Backward();
        Assert.Equal([4f, 4f, 4f], bias.Grad!.ToArray());   // 2 rows, each contributing scale = 2
        Assert.Equal(new[] { 2, 3 }, a.Grad!.Shape);
        Assert.Equal(21f + 2 * 60f, scale.Grad!.Item());    // Σ (a + bias) = 21 + 2·60
    }

    [Fact]
    public void Leaf_gradients_do_not_alias_each_other()
    {
        var a = Param([1f, 1f], 2);
        var b = Param([1f, 1f], 2);
        (a + b).Sum().Backward(); // both receive the same upstream tensor
        using (Autograd.NoGrad())
            ClipGrad.ClipGradNorm([a], 0.5f); // scales a.Grad in place
        Assert.Equal([1f, 1f], b.Grad!.ToArray());
    }

    [Fact]
    public void Custom_function_joins_the_tape()
    {
        var x = Param([1f, 2f], 2);
        var cube = Autograd.Function("cube", [x], () => x * x * x, gy => [gy * 3f * x * x]);
        cube.Sum().Backward();
        Assert.Equal([3f, 12f], x.Grad!.ToArray());
    }

    [Fact]
    public void RequiresGrad_cannot_be_switched_off_on_an_op_output()
    {
        var x = Param([1f], 1);
        var y = x * 2f;
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
    }
}

public class TapeMemoryTests
{
    [Fact]
    public void Tensors_saved_for_backward_are_freed_after_it()
    {
        var x = Tensor.Ones(256, 256).RequireGrad();
        var (loss, saved) = Build(x);
        loss.Backward();
        for (int i = 0; i < 3 && saved.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(saved.IsAlive, "an intermediate saved by the tape outlived Backward()");
        Assert.NotNull(x.Grad);
    }

    // In its own method so that no local of the test keeps the intermediate alive.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (Tensor Loss, WeakReference Saved) Build(Tensor x)
    {
        var h = x.Exp();        // exp saves its output for the backward
        return ((h * 2f).Sum(), new WeakReference(h.Storage));
    }
}

public class TapeGraphTests
{
    [Fact]
    public void Independent_graphs_on_one_thread_are_differentiated_separately()
    {
        var w = Tensor.FromArray([1f, 2f], 2).RequireGrad();
        var loss1 = (w * 3f).Sum();
        var loss2 = (w * 5f).Sum();
        loss2.Backward();                      // must not release loss1's graph
        Assert.Equal([5f, 5f], w.Grad!.ToArray());
        loss1.Backward();
        Assert.Equal([8f, 8f], w.Grad!.ToArray());
    }

    [Fact]
    public void Mixing_a_graph_from_another_thread_is_a_clear_error()
    {
        var w = Tensor.FromArray([1f, 2f], 2).RequireGrad();
        Tensor? part = null;
        var thread = new Thread(() => part = (w * 3f).Sum());
        thread.Start();
        thread.Join();
        var error = Assert.Throws<InvalidOperationException>(() => part! + (w * 5f).Sum());
        Assert.Contains("another thread", error.Message);
        Assert.Throws<InvalidOperationException>(() => part!.Backward());
        var fine = part!.Detach() + (w * 5f).Sum(); // a detached value crosses threads freely
        fine.Backward();
        Assert.Equal([5f, 5f], w.Grad!.ToArray());
    }
}
