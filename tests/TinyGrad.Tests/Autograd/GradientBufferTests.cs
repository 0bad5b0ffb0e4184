namespace TinyGrad.Tests;

using TinyGrad;

// The owned-gradient rule is a type: a fresh buffer goes to one tensor, without a copy, and never to a second.
public class GradientBufferTests
{
    [Fact]
    public void A_leaf_keeps_a_handed_over_buffer_and_a_second_hand_over_throws()
    {
        var leaf = Tensor.Zeros(3).RequireGrad();
        var other = Tensor.Zeros(3).RequireGrad();
        var fresh = Tensor.FromArray([1f, 2f, 3f], 3);
        var buffer = new GradientBuffer(fresh);
        leaf.AccumulateGrad(buffer);
        Assert.Same(fresh, leaf.Grad); // kept, not copied
        var e = Assert.Throws<InvalidOperationException>(() => other.AccumulateGrad(buffer));
        Assert.Contains("second tensor", e.Message);
        Assert.Null(other.Grad);
    }

    [Fact]
    public void A_plain_gradient_is_copied_so_two_leaves_never_share_it()
    {
        var a = Tensor.Zeros(2).RequireGrad();
        var b = Tensor.Zeros(2).RequireGrad();
        var g = Tensor.FromArray([1f, 1f], 2);
        a.AccumulateGrad(g);
        b.AccumulateGrad(g);
        a.AccumulateGrad(g); // in place into a's own buffer
        Assert.NotSame(a.Grad, b.Grad);
        Assert.Equal([2f, 2f], a.Grad!.ToArray());
        Assert.Equal([1f, 1f], b.Grad!.ToArray());
    }
}
