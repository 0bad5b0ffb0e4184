using TinyGrad.Backends;

namespace TinyGrad;

// Reductions over one axis (keepdim as in PyTorch) and over everything.
public sealed partial class Tensor
{
    private Tensor Reduce(ReduceOp op, string name, int axis, bool keepdim, Func<Tensor, Tensor, Tensor> backward)
    {
        int a = Shapes.Axis(axis, _shape, name);
        var (outer, len, inner) = Shapes.Around(_shape, a);
        if (len == 0 && op != ReduceOp.Sum)
            throw new ArgumentException($"{name}: cannot reduce an empty axis {axis} of shape {Shapes.Format(_shape)}");
        var keepShape = (int[])_shape.Clone();
        keepShape[a] = 1;
        var y = Empty(keepdim ? keepShape : [.. _shape[..a], .. _shape[(a + 1)..]], Backend);
        Backend.Reduce(op, Storage, y.Storage, outer, len, inner);
        // Backward closures see the gradient and output with the reduced axis kept (size 1), so they broadcast.
        return Autograd.Record(name, y, [this], gy => AccumulateGrad(backward(gy.Reshape(keepShape), y.Reshape(keepShape))));
    }

    /// <summary>Σ over one axis. d/dx = 1: the gradient is broadcast back along the axis.</summary>
    public Tensor Sum(int axis, bool keepdim = false) => Reduce(ReduceOp.Sum, "sum", axis, keepdim, (gy, _) => gy.Expand(_shape));

    /// <summary>Σ of all elements, as a rank-0 tensor.</summary>
    public Tensor Sum() => Reshape(Numel).Sum(0);

    /// <summary>Mean over one axis.</summary>
    public Tensor Mean(int axis, bool keepdim = false)
    {
        int a = Shapes.Axis(axis, _shape, "mean"); // before Sum, so that a bad axis is reported as mean's
        return Sum(a, keepdim) * (1f / _shape[a]);
    }

    /// <summary>Mean of all elements, as a rank-0 tensor.</summary>
    public Tensor Mean() => Sum() * (1f / Numel);

    /// <summary>Maximum over one axis. The gradient goes to the first position that attains it.</summary>
    public Tensor Max(int axis, bool keepdim = false)
    {
        int a = Shapes.Axis(axis, _shape, "max");
        return Reduce(ReduceOp.Max, "max", axis, keepdim, (gy, y) =>
        {
            var gx = Zeros(_shape, Device);
            var (outer, len, inner) = Shapes.Around(_shape, a);
            Backend.MaxBackward(Storage, y.Storage, gy.Storage, gx.Storage, outer, len, inner);
            return gx;
        });
    }

    /// <summary>log Σ eˣ over one axis, stable for any logits. d/dx = e^(x − y) = softmax(x).</summary>
    public Tensor LogSumExp(int axis, bool keepdim = false) =>
        Reduce(ReduceOp.LogSumExp, "logsumexp", axis, keepdim, (gy, y) => gy * (this - y).Exp());

    /// <summary>
    /// Sums this tensor down to <paramref name="shape"/>, the inverse of broadcasting: leading axes are summed
    /// away and axes where <paramref name="shape"/> has size 1 are summed with keepdim.
    /// </summary>
    public Tensor SumTo(int[] shape)
    {
        if (Shapes.Equal(_shape, shape)) return this;
        var broadcast = Shapes.Broadcast(shape, _shape, "sum_to");
        if (!Shapes.Equal(broadcast, _shape))
            throw new ArgumentException($"sum_to: shape {Shapes.Format(_shape)} is not a broadcast of {Shapes.Format(shape)}");
        var g = this;
        while (g.Rank > shape.Length) g = g.Sum(0);
        for (int k = 0; k < shape.Length; k++)
            if (shape[k] == 1 && g._shape[k] != 1) g = g.Sum(k, keepdim: true);
        return g;
    }

    /// <summary>Broadcasts to a larger shape by repeating along size-1 (or missing leading) axes; materialises. d/dx = sum back.</summary>
    public Tensor Expand(params int[] shape)
    {
        var target = Shapes.Broadcast(_shape, shape, "expand");
        if (!Shapes.Equal(target, shape))
            throw new ArgumentException($"expand: shape {Shapes.Format(_shape)} cannot be expanded to {Shapes.Format(shape)}");
        if (Shapes.Equal(_shape, shape)) return this;
        var y = Empty((int[])shape.Clone(), Backend);
        var zero = Empty([], Backend);
        Backend.Binary(BinaryOp.Add, Storage, Shapes.BroadcastStrides(_shape, shape), zero.Storage, new int[shape.Length], y.Storage, y._shape);
        return Autograd.Record("expand", y, [this], gy => AccumulateGrad(gy.SumTo(_shape)));
    }
}
