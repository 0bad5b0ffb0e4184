namespace TinyGrad;

/// <summary>Shape arithmetic: element counts, strides, broadcasting, and the text of shapes in errors.</summary>
public static class Shapes
{
    /// <summary>The largest rank a tensor may have.</summary>
    public const int MaxRank = 4;

    /// <summary>The number of elements of a shape (1 for a scalar).</summary>
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return checked((int)n);
    }

    /// <summary>Row-major strides of a contiguous tensor of this shape.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            strides[k] = s;
            s *= shape[k];
        }
        return strides;
    }

    /// <summary>"[2, 3]" — how shapes appear in every error message.</summary>
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>Checks a shape for a new tensor: rank 0 to 4, no negative sizes.</summary>
    public static int[] Validate(ReadOnlySpan<int> shape, string op)
    {
        if (shape.Length > MaxRank)
            throw new ArgumentException($"{op}: shape {Format(shape)} has rank {shape.Length}; tensors have rank 0 to {MaxRank}");
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"{op}: shape {Format(shape)} has a negative size");
        return shape.ToArray();
    }

    /// <summary>The NumPy broadcast of two shapes, or an <see cref="ArgumentException"/> naming the op and both shapes.</summary>
    public static int[] Broadcast(int[] a, int[] b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int k = 0; k < rank; k++)
        {
            int da = k - (rank - a.Length) >= 0 ? a[k - (rank - a.Length)] : 1;
            int db = k - (rank - b.Length) >= 0 ? b[k - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together (axis {k}: {da} vs {db})");
            result[k] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Strides that read a tensor of <paramref name="shape"/> as if it had the broadcast shape <paramref name="target"/> (0 on broadcast axes).</summary>
    public static int[] BroadcastStrides(int[] shape, int[] target)
    {
        var own = Strides(shape);
        var strides = new int[target.Length];
        int offset = target.Length - shape.Length;
        for (int k = 0; k < target.Length; k++)
        {
            int j = k - offset;
            strides[k] = j < 0 || shape[j] == 1 ? 0 : own[j];
        }
        return strides;
    }

    /// <summary>Resolves a possibly negative axis against a rank, with an error naming the op and shape.</summary>
    public static int Axis(int axis, int[] shape, string op)
    {
        int rank = shape.Length;
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"{op}: axis {axis} is out of range for shape {Format(shape)}");
        return a;
    }

    /// <summary>Views <paramref name="shape"/> as [outer, shape[axis], inner] around one axis.</summary>
    public static (int Outer, int Axis, int Inner) Around(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int k = 0; k < axis; k++) outer *= shape[k];
        for (int k = axis + 1; k < shape.Length; k++) inner *= shape[k];
        return (outer, shape[axis], inner);
    }

    internal static bool Equal(int[] a, int[] b) => a.AsSpan().SequenceEqual(b);
}
