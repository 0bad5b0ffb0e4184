namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cuda;

// The rank-4 argument packing of the CUDA binary-map and permute kernels, checked without a GPU.
public class Rank4Tests
{
    [Fact]
    public void Binary_pads_on_the_left_with_size_one_axes_of_stride_zero()
    {
        var (dims, sa, sb) = Rank4.Binary("binary op Add", [2, 3], [3, 1], [0, 1]);
        Assert.Equal([1, 1, 2, 3], dims);
        Assert.Equal([0, 0, 3, 1], sa);
        Assert.Equal([0, 0, 0, 1], sb);
        var (full, _, _) = Rank4.Binary("binary op Add", [2, 3, 4, 5], [60, 20, 5, 1], [60, 20, 5, 1]);
        Assert.Equal([2, 3, 4, 5], full);
        Assert.Equal([1, 1, 1, 1], Rank4.Binary("binary op Add", [], [], []).Dims); // a scalar
    }

    [Fact]
    public void Permute_walks_the_input_strides_in_output_order()
    {
        // x[2,3,4] (strides 12, 4, 1) permuted by (2, 0, 1) is y[4,2,3]: y's axes walk x's strides 1, 12, 4.
        var (outShape, walk) = Rank4.Permute([2, 3, 4], [2, 0, 1]);
        Assert.Equal([1, 4, 2, 3], outShape);
        Assert.Equal([0, 1, 12, 4], walk);
    }

    [Fact]
    public void Rank_five_is_a_clear_argument_error_naming_the_op_and_the_limit()
    {
        int[] shape5 = [1, 2, 1, 2, 2], strides5 = [8, 4, 4, 2, 1];
        var binary = Assert.Throws<ArgumentException>(() => Rank4.Binary("binary op Mul", shape5, strides5, strides5));
        Assert.Contains("binary op Mul", binary.Message, StringComparison.Ordinal);
        Assert.Contains("rank at most 4, got rank 5", binary.Message, StringComparison.Ordinal);
        var permute = Assert.Throws<ArgumentException>(() => Rank4.Permute(shape5, [4, 3, 2, 1, 0]));
        Assert.Contains("permute", permute.Message, StringComparison.Ordinal);
        Assert.Contains("rank at most 4, got rank 5", permute.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mismatched_stride_or_permutation_lengths_are_argument_errors()
    {
        Assert.Throws<ArgumentException>(() => Rank4.Binary("binary op Add", [2, 3], [1], [3, 1]));
        Assert.Throws<ArgumentException>(() => Rank4.Permute([2, 3], [0]));
    }
}
