namespace TinyGrad.Backends.Cuda;

// Unary and broadcasting binary maps (elementwise.cu).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, Storage x, Storage y, int n, float s = 0f)
    {
        if (!Enum.IsDefined(op)) throw new NotSupportedException($"cuda backend: unary op {op}");
        Enter();
        Launch(KernelNames.Unary, Grid(n), (int)op, P(x), P(y), n, s);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Storage a, int[] aStrides, Storage b, int[] bStrides, Storage y, int[] shape)
    {
        if (!Enum.IsDefined(op)) throw new NotSupportedException($"cuda backend: binary op {op}");
        // Packed (and the rank checked) before any CUDA call.
        var (dims, sa, sb) = Rank4.Binary($"binary op {op}", shape, aStrides, bStrides);
        int n = Shapes.Numel(shape);
        if (n == 0) return;
        Enter();
        Launch(KernelNames.Binary, Grid(n), (int)op, P(a), P(b), P(y), dims[0], dims[1], dims[2], dims[3],
            sa[0], sa[1], sa[2], sa[3], sb[0], sb[1], sb[2], sb[3], n);
    }
}
