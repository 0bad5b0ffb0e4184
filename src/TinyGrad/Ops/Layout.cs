namespace TinyGrad;

// Ops that change how elements are arranged: reshape (a free view), permute/transpose (materialised).
public sealed partial class Tensor
{
    /// <summary>The same elements with another shape; one axis may be −1 (inferred). Free: shares storage.</summary>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var target = (int[])shape.Clone();
        int minusOnes = 0;
        bool negative = false;
        foreach (int d in target)
        {
            minusOnes += d == -1 ? 1 : 0;
            negative |= d < -1;
        }
        if (minusOnes > 1 || negative)
            throw new ArgumentException($"reshape: shape {Shapes.Format(_shape)} cannot become {Shapes.Format(shape)} (sizes are ≥ 0, with at most one -1 to infer)");
        if (target.Length > Shapes.MaxRank)
            throw new ArgumentException($"reshape: shape {Shapes.Format(_shape)} cannot become {Shapes.Format(shape)}, which has rank {target.Length}; tensors have rank 0 to {Shapes.MaxRank}");
        int infer = Array.IndexOf(target, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int k = 0; k < target.Length; k++) if (k != infer) known *= target[k];
            if (known == 0 || Numel % known != 0)
                throw new ArgumentException($"reshape: cannot infer the -1 in {Shapes.Format(shape)} for shape {Shapes.Format(_shape)} ({Numel} elements)");
            target[infer] = Numel / known;
        }
        Shapes.Validate(target, "reshape");
        if (Shapes.Numel(target) != Numel)
            throw new ArgumentException($"reshape: shape {Shapes.Format(_shape)} ({Numel} elements) cannot become {Shapes.Format(shape)} ({Shapes.Numel(target)} elements)");
        var y = new Tensor(Storage, target);
        return Autograd.Record("reshape", y, [this], gy => AccumulateGrad(gy.Reshape(_shape)));
    }

    /// <summary>Flattens to one axis.</summary>
    public Tensor Flatten() => Reshape(Numel);

    /// <summary>Inserts a size-1 axis at <paramref name="axis"/>.</summary>
    public Tensor Unsqueeze(int axis)
    {
        int a = axis < 0 ? axis + Rank + 1 : axis;
        if (a < 0 || a > Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"unsqueeze: axis {axis} is out of range for shape {Shapes.Format(_shape)}");
        if (Rank == Shapes.MaxRank) throw new ArgumentException($"unsqueeze: shape {Shapes.Format(_shape)} already has the largest rank, {Shapes.MaxRank}");
        return Reshape([.. _shape[..a], 1, .. _shape[a..]]);
    }

    /// <summary>Removes a size-1 axis.</summary>
    public Tensor Squeeze(int axis)
    {
        int a = Shapes.Axis(axis, _shape, "squeeze");
        if (_shape[a] != 1) throw new ArgumentException($"squeeze: axis {axis} of shape {Shapes.Format(_shape)} has size {_shape[a]}, not 1");
        return Reshape([.. _shape[..a], .. _shape[(a + 1)..]]);
    }

    /// <summary>Reorders the axes: result axis k is input axis perm[k]. Materialises. d/dx = permute back by the inverse.</summary>
    public Tensor Permute(params int[] perm)
    {
        ArgumentNullException.ThrowIfNull(perm);
        if (perm.Length != Rank)
            throw new ArgumentException($"permute: {Shapes.Format(perm)} has {perm.Length} axes for shape {Shapes.Format(_shape)}");
        var inverse = new int[Rank];
        var seen = new bool[Rank];
        for (int k = 0; k < Rank; k++)
        {
            int p = Shapes.Axis(perm[k], _shape, "permute");
            if (seen[p]) throw new ArgumentException($"permute: {Shapes.Format(perm)} repeats axis {p} for shape {Shapes.Format(_shape)}");
            seen[p] = true;
            inverse[p] = k;
        }
        var resolved = new int[Rank];
        for (int k = 0; k < Rank; k++) resolved[inverse[k]] = k;
        var outShape = new int[Rank];
        for (int k = 0; k < Rank; k++) outShape[k] = _shape[resolved[k]];
        var y = Empty(outShape, Backend);
        Backend.Permute(Storage, _shape, resolved, y.Storage);
        return Autograd.Record("permute", y, [this], gy => AccumulateGrad(gy.Permute(inverse)));
    }

    /// <summary>Swaps two axes (materialises).</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        int a = Shapes.Axis(axis0, _shape, "transpose"), b = Shapes.Axis(axis1, _shape, "transpose");
        var perm = Enumerable.Range(0, Rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>The transpose of a 2-D tensor (materialises; MatMul takes transposed operands without copying).</summary>
    public Tensor T => Rank == 2 ? Transpose(0, 1) : throw new InvalidOperationException($"T: needs a 2-D tensor, got shape {Shapes.Format(_shape)}");

    /// <summary>A copy with its own storage. d/dx = 1.</summary>
    public Tensor Clone()
    {
        var y = Empty(_shape, Backend);
        Backend.Unary(Backends.UnaryOp.Identity, Storage, y.Storage, Numel);
        return Autograd.Record("clone", y, [this], gy => AccumulateGrad(gy));
    }
}
