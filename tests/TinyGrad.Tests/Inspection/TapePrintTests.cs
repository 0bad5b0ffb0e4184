namespace TinyGrad.Tests.Inspection;

using TinyGrad;

public class TapePrintTests
{
    // a·b + a, then tanh: three ops, a leaf that requires a gradient and one that does not.
    private static (Tensor A, Tensor B, Tensor Y) ThreeOps()
    {
        var a = Tensor.FromArray([1f, -2f]).RequireGrad();
        a.Name = "a";
        var b = Tensor.FromArray([0.5f, 3f]);
        b.Name = "b";
        var y = (a * b + a).Tanh();
        return (a, b, y);
    }

    [Fact]
    public void DescribeGraph_lists_ops_shapes_and_gradient_flags_in_execution_order()
    {
        Autograd.ClearTape();
        var (_, _, y) = ThreeOps();
        var unrelated = Tensor.Ones(3).RequireGrad() * 2f; // another graph on the same tape
        Assert.Equal(
            "0: mul(a [2] leaf requires_grad, b [2] leaf) -> %0 [2] requires_grad\n" +
            "1: add(%0 [2] requires_grad, a [2] leaf requires_grad) -> %1 [2] requires_grad\n" +
            "2: tanh(%1 [2] requires_grad) -> %2 [2] requires_grad\n",
            y.DescribeGraph());
        var tape = Autograd.DescribeTape().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, tape.Length);
        Assert.Equal("3: mul(%3 [3] leaf requires_grad) -> %4 [3] requires_grad", tape[3]);
        y.Sum().Backward();
        Assert.Equal("", y.DescribeGraph()); // Backward freed it
        unrelated.Sum().Backward();
        Assert.Equal("", Autograd.DescribeTape());
    }

    [Fact]
    public void Tensors_sharing_a_name_are_told_apart()
    {
        Autograd.ClearTape();
        var w1 = Tensor.Ones(2).RequireGrad();
        var w2 = Tensor.Ones(2).RequireGrad();
        w1.Name = w2.Name = "weight";
        var y = w1 * w2;
        Assert.Equal("0: mul(weight [2] leaf requires_grad, weight#2 [2] leaf requires_grad) -> %0 [2] requires_grad\n", y.DescribeGraph());
        Autograd.ClearTape();
    }

    [Fact]
    public void ToDot_draws_tensors_as_records_and_ops_as_ellipses()
    {
        Autograd.ClearTape();
        var (_, _, y) = ThreeOps();
        y.Name = "y";
        Assert.Equal(
            """
            digraph tape {
              rankdir=LR;
              node [shape=record];
              t0 [label="{ a | [2] | requires_grad }"];
              t1 [label="{ b | [2] | no grad }"];
              op0 [label="mul", shape=ellipse];
              t0 -> op0;
              t1 -> op0;
              t2 [label="{ %0 | [2] | requires_grad }"];
              op0 -> t2;
              op1 [label="add", shape=ellipse];
              t2 -> op1;
              t0 -> op1;
              t3 [label="{ %1 | [2] | requires_grad }"];
              op1 -> t3;
              op2 [label="tanh", shape=ellipse];
              t3 -> op2;
              t4 [label="{ y | [2] | requires_grad }"];
              op2 -> t4;
            }

            """.ReplaceLineEndings("\n"),
            y.ToDot());
        Autograd.ClearTape();
    }

    [Fact]
    public void ToDot_of_a_leaf_is_one_box_and_names_are_escaped()
    {
        var x = Tensor.Ones(2, 3);
        x.Name = "x|{1}";
        Assert.Equal("digraph tape {\n  rankdir=LR;\n  node [shape=record];\n  t0 [label=\"{ x\\|\\{1\\} | [2, 3] | no grad }\"];\n}\n", x.ToDot());
    }
}
