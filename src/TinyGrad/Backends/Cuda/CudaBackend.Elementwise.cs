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
        int n = Shapes.Numel(shape), rank = shape.Length;
        if (n == 0) return;
        Enter();
        // Pad to rank 4 with leading size-1 axes (stride 0), the kernel's fixed shape.
        Span<int> dims = [1, 1, 1, 1];
        Span<int> sa = [0, 0, 0, 0];
        Span<int> sb = [0, 0, 0, 0];
        for (int k = 0; k < rank; k++)
        {
            dims[4 - rank + k] = shape[k];
            sa[4 - rank + k] = aStrides[k];
            sb[4 - rank + k] = bStrides[k];
        }
        Launch(KernelNames.Binary, Grid(n), (int)op, P(a), P(b), P(y), dims[0], dims[1], dims[2], dims[3],
            sa[0], sa[1], sa[2], sa[3], sb[0], sb[1], sb[2], sb[3], n);
    }
}
