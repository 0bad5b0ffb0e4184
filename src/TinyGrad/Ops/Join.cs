namespace TinyGrad;

// Concatenation and slicing along an axis. Each is one strided block copy: a tensor viewed as
// [outer, axis, inner] holds `outer` contiguous blocks of axis·inner elements.
public sealed partial class Tensor
{
    /// <summary>Joins tensors along an existing axis. d/dxᵢ = the matching slice of the gradient.</summary>
    public static Tensor Cat(Tensor[] tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("cat: needs at least one tensor");
        var first = tensors[0];
        int a = Shapes.Axis(axis, first._shape, "cat");
        int total = 0;
        foreach (var t in tensors)
        {
            SameDevice("cat", first, t);
            bool ok = t.Rank == first.Rank;
            for (int k = 0; ok && k < t.Rank; k++) ok = k == a || t._shape[k] == first._shape[k];
            if (!ok)
                throw new ArgumentException($"cat: shapes {Shapes.Format(first._shape)} and {Shapes.Format(t._shape)} differ outside axis {axis}");
            total += t._shape[a];
        }
        var shape = (int[])first._shape.Clone();
        shape[a] = total;
        var y = Empty(shape, first.Backend);
        var (outer, _, inner) = Shapes.Around(shape, a);
        var starts = new int[tensors.Length];
        for (int i = 0, start = 0; i < tensors.Length; start += tensors[i]._shape[a], i++)
        {
            starts[i] = start;
            int block = tensors[i]._shape[a] * inner;
            first.Backend.CopyBlocks(tensors[i].Storage, 0, block, y.Storage, start * inner, total * inner, block, outer);
        }
        return Autograd.Record("cat", y, tensors, gy =>
        {
            for (int i = 0; i < tensors.Length; i++)
                if (tensors[i].RequiresGrad) tensors[i].AccumulateGrad(gy.Narrow(a, starts[i], tensors[i]._shape[a]));
        });
    }

    /// <summary>Joins same-shaped tensors along a new axis.</summary>
    public static Tensor Stack(Tensor[] tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("stack: needs at least one tensor");
        foreach (var t in tensors)
            if (!Shapes.Equal(t._shape, tensors[0]._shape))
                throw new ArgumentException($"stack: shapes {Shapes.Format(tensors[0]._shape)} and {Shapes.Format(t._shape)} differ");
        int rank = tensors[0].Rank;
        if (axis < -(rank + 1) || axis > rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"stack: axis {axis} is out of range for tensors of shape {Shapes.Format(tensors[0]._shape)}");
        return Cat([.. tensors.Select(t => t.Unsqueeze(axis))], axis);
    }

    /// <summary>
    /// The slice [start, start + length) along an axis (a copy). d/dx = the gradient placed back into
    /// that slice of zeros.
    /// </summary>
    public Tensor Narrow(int axis, int start, int length)
    {
        int a = Shapes.Axis(axis, _shape, "narrow");
        if (start < 0 || length < 0 || start > _shape[a] - length)
            throw new ArgumentOutOfRangeException(nameof(start), $"narrow: [{start}, {start + length}) is outside axis {axis} of shape {Shapes.Format(_shape)}");
        var shape = (int[])_shape.Clone();
        shape[a] = length;
        var y = Empty(shape, Backend);
        var (outer, len, inner) = Shapes.Around(_shape, a);
        Backend.CopyBlocks(Storage, start * inner, len * inner, y.Storage, 0, length * inner, length * inner, outer);
        return Autograd.Record("narrow", y, [this], gy =>
        {
            var gx = Zeros(_shape, Device);
            Backend.CopyBlocks(gy.Storage, 0, length * inner, gx.Storage, start * inner, len * inner, length * inner, outer);
            AccumulateGrad(gx);
        });
    }

    /// <summary>Splits along an axis into pieces of <paramref name="size"/> (the last may be smaller).</summary>
    public Tensor[] Split(int size, int axis = 0)
    {
        int a = Shapes.Axis(axis, _shape, "split");
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), $"split: size {size} must be positive (shape {Shapes.Format(_shape)})");
        var pieces = new List<Tensor>();
        for (int start = 0; start < _shape[a]; start += size)
            pieces.Add(Narrow(a, start, Math.Min(size, _shape[a] - start)));
        return [.. pieces];
    }

    /// <summary>Splits along an axis into pieces of the given sizes, which must add up to the axis.</summary>
    public Tensor[] Split(int[] sizes, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        int a = Shapes.Axis(axis, _shape, "split");
        if (sizes.Sum() != _shape[a] || sizes.Any(s => s < 0))
            throw new ArgumentException($"split: sizes {Shapes.Format(sizes)} do not add up to axis {axis} of shape {Shapes.Format(_shape)}");
        var pieces = new Tensor[sizes.Length];
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++) pieces[i] = Narrow(a, start, sizes[i]);
        return pieces;
    }

    /// <summary>Splits into <paramref name="chunks"/> equal pieces (PyTorch's chunk, for divisible sizes).</summary>
    public Tensor[] Chunk(int chunks, int axis = 0)
    {
        int a = Shapes.Axis(axis, _shape, "chunk");
        if (chunks <= 0 || _shape[a] % chunks != 0)
            throw new ArgumentException($"chunk: axis {axis} of shape {Shapes.Format(_shape)} does not split into {chunks} equal pieces");
        return Split(_shape[a] / chunks, a);
    }
}
