namespace TinyGrad.Tests.Core;

using TinyGrad;

public class TensorTests
{
    [Fact]
    public void Creation_and_reading()
    {
        Assert.Equal(new float[6], Tensor.Zeros(2, 3).ToArray());
        Assert.Equal([1f, 1f], Tensor.Ones(2).ToArray());
        Assert.Equal([7f, 7f, 7f, 7f], Tensor.Full([2, 2], 7f).ToArray());
        Assert.Equal(3.5f, Tensor.Scalar(3.5f).Item());
        Assert.Empty(Tensor.Scalar(1f).Shape);
        var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(2, t.Rank);
        Assert.Equal(6, t.Numel);
        Assert.Equal(3, t.Size(-1));
    }

    [Fact]
    public void Shapes_of_rank_above_four_are_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 1, 1, 1, 1));
        Assert.Contains("[1, 1, 1, 1, 1]", error.Message);
    }

    [Fact]
    public void FromArray_checks_the_element_count()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f, 3f], 2, 2));
        Assert.Contains("[2, 2]", error.Message);
    }

    [Fact]
    public void Item_needs_one_element()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(2).Item());
        Assert.Contains("[2]", error.Message);
    }

    [Fact]
    public void ToString_is_readable_and_summarises_large_axes()
    {
        Assert.Equal("tensor([[1.0000, 2.0000], [3.0000, 4.0000]], shape=[2, 2])", Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2).ToString());
        var big = Tensor.FromArray(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), 10);
        Assert.Equal("tensor([0.0000, 1.0000, 2.0000, ..., 7.0000, 8.0000, 9.0000], shape=[10])", big.ToString());
        Assert.Contains("requires_grad=True", Tensor.Zeros(1).RequireGrad().ToString());
    }

    [Fact]
    public void Same_seed_gives_the_same_random_tensors()
    {
        var a = Tensor.Randn([4, 5], new Generator(42)).ToArray();
        var b = Tensor.Randn([4, 5], new Generator(42)).ToArray();
        var c = Tensor.Randn([4, 5], new Generator(43)).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Random_tensors_have_the_requested_distribution()
    {
        var g = new Generator(7);
        var u = Tensor.Uniform([20000], -2f, 3f, g).ToArray();
        Assert.All(u, v => Assert.InRange(v, -2f, 3f));
        Assert.InRange(u.Average(), 0.4, 0.6);
        var n = Tensor.Normal([20000], 1f, 2f, g).ToArray();
        double mean = n.Average(), std = Math.Sqrt(n.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, 0.95, 1.05);
        Assert.InRange(std, 1.95, 2.05);
    }

    [Fact]
    public void Reshape_is_a_free_view_with_one_inferred_axis()
    {
        var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var r = t.Reshape(3, -1);
        Assert.Equal(new[] { 3, 2 }, r.Shape);
        Assert.Same(t.Storage, r.Storage);
        var error = Assert.Throws<ArgumentException>(() => t.Reshape(4, 2));
        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[4, 2]", error.Message);
    }

    [Fact]
    public void CheckFinite_names_the_tensor()
    {
        var t = Tensor.FromArray([1f, float.NaN], 2);
        var error = Assert.Throws<ArithmeticException>(() => t.CheckFinite("logits"));
        Assert.Contains("logits", error.Message);
        Assert.Contains("index 1", error.Message);
        Tensor.FromArray([1f, 2f], 2).CheckFinite("fine");
    }
}

public class GeneratorTests
{
    [Fact]
    public void A_restored_state_continues_the_same_stream()
    {
        var a = new Generator(5);
        a.NextGaussian(); // leaves a cached second Gaussian in the state
        var saved = a.GetState();
        var expected = Enumerable.Range(0, 8).Select(_ => a.NextGaussian()).ToArray();
        var b = new Generator(99);
        b.SetState(saved);
        Assert.Equal(expected, Enumerable.Range(0, 8).Select(_ => b.NextGaussian()).ToArray());
        Assert.Throws<ArgumentException>(() => b.SetState([1, 2]));
    }
}
