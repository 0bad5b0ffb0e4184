namespace TinyGrad.Tests.Inspection;

using TinyGrad;
using TinyGrad.NN;

public class GradientHookTests
{
    private static Tensor Param(float[] data) => Tensor.FromArray(data).RequireGrad();

    [Fact]
    public void An_intermediate_hook_sees_its_complete_gradient_once()
    {
        var x = Param([1f, 2f]);
        var y = x * x;
        var seen = new List<float[]>();
        y.RegisterHook(g => { seen.Add(g.ToArray()); return null; });
        ((y * 3f).Sum() + (y * 4f).Sum()).Backward(); // two uses of y: the hook sees 3 + 4, once
        Assert.Equal(new[] { new[] { 7f, 7f } }, seen);
        Assert.Equal([14f, 28f], x.Grad!.ToArray()); // 7·2x
    }

    [Fact]
    public void An_intermediate_hook_may_replace_the_gradient_that_flows_upstream()
    {
        var x = Param([1f, 2f]);
        var y = x * x;
        y.RegisterHook(g => g * 10f);
        y.Sum().Backward();
        Assert.Equal([20f, 40f], x.Grad!.ToArray());
    }

    [Fact]
    public void A_leaf_hook_sees_each_pass_gradient_summed_over_uses_before_it_is_accumulated()
    {
        var w = Param([1f, 2f]);
        var seen = new List<float[]>();
        w.RegisterHook(g => { seen.Add(g.ToArray()); return null; });
        ((w * 2f).Sum() + (w * 3f).Sum()).Backward();
        ((w * 2f).Sum() + (w * 3f).Sum()).Backward();
        Assert.Equal(new[] { new[] { 5f, 5f }, new[] { 5f, 5f } }, seen); // this pass's gradient, not the running sum
        Assert.Equal([10f, 10f], w.Grad!.ToArray());
    }

    [Fact]
    public void A_leaf_hook_may_replace_what_is_added_into_Grad()
    {
        var w = Param([1f, 2f]);
        var replacement = Tensor.FromArray([7f, 8f]);
        w.RegisterHook(_ => replacement);
        (w * 2f).Sum().Backward();
        Assert.Equal([7f, 8f], w.Grad!.ToArray());
        Assert.NotSame(replacement, w.Grad); // the leaf keeps its own copy, so an optimizer's in-place update cannot reach the hook's tensor
        (w * 2f).Sum().Backward();
        Assert.Equal([14f, 16f], w.Grad!.ToArray());
    }

    [Fact]
    public void A_hook_on_an_embedding_table_sees_the_dense_gradient_of_the_looked_up_rows()
    {
        var embedding = new Embedding(4, 2, new Generator(1));
        float[]? seen = null;
        embedding.Weight.RegisterHook(g => { seen = g.ToArray(); return null; });
        embedding.Forward([1, 1, 3], 3).Sum().Backward();
        Assert.Equal([0f, 0f, 2f, 2f, 0f, 0f, 1f, 1f], seen!);
        Assert.Equal(seen, embedding.Weight.Grad!.ToArray());
    }

    [Fact]
    public void A_hook_on_a_leaf_root_fires_too()
    {
        var w = Param([1f, 2f]);
        float[]? seen = null;
        w.RegisterHook(g => { seen = g.ToArray(); return g * 2f; });
        w.Backward(Tensor.FromArray([3f, 4f]));
        Assert.Equal([3f, 4f], seen!);
        Assert.Equal([6f, 8f], w.Grad!.ToArray());
    }

    [Fact]
    public void Hooks_run_in_order_and_a_removed_hook_does_not_run()
    {
        var x = Param([1f]);
        var calls = new List<string>();
        var first = x.RegisterHook(g => { calls.Add("first"); return g * 2f; });
        x.RegisterHook(g => { calls.Add($"second sees {g.Item()}"); return null; });
        (x * 3f).Sum().Backward();
        first.Remove();
        x.ZeroGrad();
        (x * 3f).Sum().Backward();
        Assert.Equal(["first", "second sees 6", "second sees 3"], calls);
        Assert.Equal(3f, x.Grad!.Item());
    }

    [Fact]
    public void A_hook_returning_another_shape_is_refused()
    {
        var x = Param([1f, 2f]);
        var y = x * 2f;
        y.RegisterHook(g => g.Sum());
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("[2]", e.Message);
        Autograd.ClearTape();
    }

    [Fact]
    public void RegisterHook_and_RetainGrad_refuse_a_tensor_that_needs_no_gradient()
    {
        var c = Tensor.Ones(2);
        Assert.Throws<InvalidOperationException>(() => c.RegisterHook(g => g));
        Assert.Throws<InvalidOperationException>(() => c.RetainGrad());
    }

    [Fact]
    public void RetainGrad_keeps_an_intermediate_gradient_after_Backward()
    {
        var x = Param([1f, 2f]);
        var kept = (x * x).RetainGrad();
        var dropped = x * x;
        var z = (kept * 3f).Sum() + (dropped * 5f).Sum();
        z.RetainGrad();
        z.Backward();
        Assert.True(kept.RetainsGrad);
        Assert.Equal([3f, 3f], kept.Grad!.ToArray());
        Assert.Null(dropped.Grad);
        Assert.Equal(1f, z.Grad!.Item());
        Assert.Equal([16f, 32f], x.Grad!.ToArray());
    }

    [Fact]
    public void RetainGrad_keeps_the_gradient_after_hooks_and_is_a_no_op_on_leaves()
    {
        var x = Param([1f, 2f]).RetainGrad();
        Assert.False(x.RetainsGrad);
        var y = (x * 2f).RetainGrad();
        y.RegisterHook(g => g * 0.5f);
        y.Sum().Backward();
        Assert.Equal([0.5f, 0.5f], y.Grad!.ToArray());
        Assert.Equal([1f, 1f], x.Grad!.ToArray());
    }

    [Fact]
    public void RetainGrad_gives_each_LSTM_output_its_gradient()
    {
        var lstm = new LSTM(2, 3, 1, new Generator(1));
        var x = Tensor.Randn([4, 1, 2], new Generator(2)).RequireGrad();
        var (output, state) = lstm.Forward(x);
        output.RetainGrad();
        state.H[0].RetainGrad();
        (output.Sum() + state.H[0].Sum() * 2f).Backward();
        Assert.Equal(Enumerable.Repeat(1f, 12), output.Grad!.ToArray());
        Assert.Equal(Enumerable.Repeat(2f, 3), state.H[0].Grad!.ToArray());
    }
}
