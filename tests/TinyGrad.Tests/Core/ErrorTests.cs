namespace TinyGrad.Tests.Core;

using TinyGrad;

// Bad input gets an ArgumentException that names the op and the shapes involved.
public class ErrorTests
{
    public static TheoryData<string, Action, string[]> ShapeErrors() => new()
    {
        { "add", () => _ = Tensor.Zeros(2, 3) + Tensor.Zeros(4), ["add", "[2, 3]", "[4]"] },
        { "mul", () => _ = Tensor.Zeros(2, 3) * Tensor.Zeros(3, 2), ["mul", "[2, 3]", "[3, 2]"] },
        { "matmul", () => _ = Tensor.Zeros(2, 3).MatMul(Tensor.Zeros(4, 5)), ["matmul", "[2, 3]", "[4, 5]"] },
        { "matmul batch", () => _ = Tensor.MatMul(Tensor.Zeros(2, 3, 4), Tensor.Zeros(3, 4, 5)), ["matmul", "[2, 3, 4]", "[3, 4, 5]"] },
        { "matmul rank", () => _ = Tensor.Zeros(3).MatMul(Tensor.Zeros(3, 2)), ["matmul", "[3]", "[3, 2]"] },
        { "cat", () => _ = Tensor.Cat([Tensor.Zeros(2, 3), Tensor.Zeros(2, 4)], 0), ["cat", "[2, 3]", "[2, 4]"] },
        { "stack", () => _ = Tensor.Stack([Tensor.Zeros(2), Tensor.Zeros(3)]), ["stack", "[2]", "[3]"] },
        { "cross_entropy", () => _ = Tensor.CrossEntropy(Tensor.Zeros(2, 3), [0]), ["cross_entropy", "[2, 3]"] },
        { "permute", () => _ = Tensor.Zeros(2, 3).Permute(0), ["permute", "[2, 3]"] },
        { "reshape", () => _ = Tensor.Zeros(2, 3).Reshape(5), ["reshape", "[2, 3]", "[5]"] },
        { "gather", () => _ = Tensor.Zeros(2, 3).Gather([0]), ["gather", "[2, 3]"] },
        { "split", () => _ = Tensor.Zeros(4, 3).Split([1, 2]), ["split", "[4, 3]"] },
    };

    [Theory]
    [MemberData(nameof(ShapeErrors))]
    public void Shape_errors_name_the_op_and_the_shapes(string _, Action act, string[] mentions)
    {
        var error = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var m in mentions) Assert.Contains(m, error.Message);
    }

    public static TheoryData<string, Action, string[]> IndexErrors() => new()
    {
        { "index_select", () => _ = Tensor.Zeros(3, 2).IndexSelect([0, 3]), ["index_select", "3", "position 1", "[3, 2]"] },
        { "gather", () => _ = Tensor.Zeros(2, 3).Gather([0, -1]), ["gather", "-1", "[2, 3]"] },
        { "cross_entropy", () => _ = Tensor.CrossEntropy(Tensor.Zeros(2, 3), [0, 5]), ["cross_entropy", "5", "[2, 3]"] },
        { "narrow", () => _ = Tensor.Zeros(2, 3).Narrow(1, 2, 2), ["narrow", "[2, 3]"] },
        { "axis", () => _ = Tensor.Zeros(2, 3).Sum(2), ["sum", "axis 2", "[2, 3]"] },
    };

    [Theory]
    [MemberData(nameof(IndexErrors))]
    public void Index_errors_name_the_op_the_index_and_the_shape(string _, Action act, string[] mentions)
    {
        var error = Assert.ThrowsAny<ArgumentException>(act);
        foreach (var m in mentions) Assert.Contains(m, error.Message);
    }
}

public class EdgeCaseTests
{
    [Fact]
    public void Narrow_with_a_huge_start_names_the_op_and_shape()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(4, 3).Narrow(0, int.MaxValue, 1));
        Assert.Contains("narrow", error.Message);
        Assert.Contains("[4, 3]", error.Message);
    }

    [Fact]
    public void A_nan_maximum_receives_the_gradient()
    {
        var x = Tensor.FromArray([1f, float.NaN, 3f], 3).RequireGrad();
        x.Max(0).Backward();
        Assert.Equal([0f, 1f, 0f], x.Grad!.ToArray());
    }

    [Fact]
    public void Transposed_3d_times_2d_gets_its_own_message()
    {
        var error = Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(2, 3, 4), Tensor.Zeros(3, 5), transposeA: true));
        Assert.Contains("transposed 3-D operand", error.Message);
    }

    [Fact]
    public void A_non_positive_window_length_is_named()
    {
        var batches = new TinyGrad.Data.Batches(Enumerable.Range(0, 20).ToArray(), 2);
        Assert.Contains("window length", Assert.Throws<ArgumentOutOfRangeException>(() => batches.Window(0, -3)).Message);
    }
}
