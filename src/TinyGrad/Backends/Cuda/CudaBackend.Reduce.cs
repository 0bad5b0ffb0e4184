namespace TinyGrad.Backends.Cuda;

// Axis reductions and the max's backward (reduce.cu).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Storage x, Storage y, int outer, int axis, int inner)
    {
        if (!Enum.IsDefined(op)) throw new NotSupportedException($"cuda backend: reduce op {op}");
        long outputs = (long)outer * inner;
        if (outputs == 0) return;
        Enter();
        // Reducing the last axis (or a middle one with few columns): a block per output shares the axis among
        // its threads. Many columns: a thread per output, so neighbouring threads read neighbouring elements.
        if (inner < 32) Launch(KernelNames.ReduceRows, RowGrid(outputs), (int)op, P(x), P(y), outer, axis, inner);
        else Launch(KernelNames.ReduceColumns, Grid(outputs), (int)op, P(x), P(y), outer, axis, inner);
    }

    /// <inheritdoc/>
    public void MaxBackward(Storage x, Storage y, Storage gy, Storage gx, int outer, int axis, int inner)
    {
        Enter();
        Launch(KernelNames.MaxBackward, Grid((long)outer * inner), P(x), P(y), P(gy), P(gx), outer, axis, inner);
    }
}
