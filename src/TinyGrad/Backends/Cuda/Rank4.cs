namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The argument packing of the kernels with a fixed rank-4 layout (broadcasting binary maps and permute): shapes
/// and strides are padded on the left with size-1 axes of stride 0. Pure, so the packing and its rank limit are
/// unit-tested without a GPU, and a tensor of rank 5 or more gets an <see cref="ArgumentException"/> naming the op
/// before any CUDA call (padding into four slots used to fail with an IndexOutOfRangeException).
/// </summary>
internal static class Rank4
{
    /// <summary>The highest rank the rank-4 kernels take.</summary>
    public const int MaxRank = 4;

    /// <summary>Throws unless <paramref name="rank"/> is at most <see cref="MaxRank"/>.</summary>
    /// <exception cref="ArgumentException">The rank is above the kernels' limit (the message names <paramref name="op"/>).</exception>
    public static void CheckRank(string op, int rank)
    {
        if (rank > MaxRank)
            throw new ArgumentException($"cuda backend: {op} supports tensors of rank at most {MaxRank}, got rank {rank}; reshape to merge axes first");
    }

    /// <summary>
    /// The broadcasting binary map's arguments: the output shape and both inputs' strides, each padded to rank 4
    /// (leading size 1, stride 0).
    /// </summary>
    public static (int[] Dims, int[] AStrides, int[] BStrides) Binary(string op, int[] shape, int[] aStrides, int[] bStrides)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(aStrides);
        ArgumentNullException.ThrowIfNull(bStrides);
        CheckRank(op, shape.Length);
        if (aStrides.Length != shape.Length || bStrides.Length != shape.Length)
            throw new ArgumentException($"cuda backend: {op}: {shape.Length} axes but {aStrides.Length} and {bStrides.Length} strides");
        return (Pad(shape, 1), Pad(aStrides, 0), Pad(bStrides, 0));
    }

    /// <summary>
    /// The permute kernel's arguments: the output shape (<c>shape[perm[k]]</c>) and, for each output axis, the
    /// input stride to walk (<c>strides[perm[k]]</c>), each padded to rank 4.
    /// </summary>
    public static (int[] OutShape, int[] Walk) Permute(int[] shape, int[] perm)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(perm);
        CheckRank("permute", shape.Length);
        if (perm.Length != shape.Length)
            throw new ArgumentException($"cuda backend: permute: {shape.Length} axes but a permutation of {perm.Length}");
        var strides = Shapes.Strides(shape);
        return (Pad(perm.Select(p => shape[p]).ToArray(), 1), Pad(perm.Select(p => strides[p]).ToArray(), 0));
    }

    private static int[] Pad(int[] values, int fill)
    {
        var padded = new int[MaxRank];
        Array.Fill(padded, fill, 0, MaxRank - values.Length);
        values.CopyTo(padded, MaxRank - values.Length);
        return padded;
    }
}
