namespace TinyGrad.Backends.Cuda;

// Softmax, log-softmax and the fused cross-entropy (softmax.cu).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void Softmax(Storage x, Storage y, int rows, int cols, bool log)
    {
        Enter();
        Launch(KernelNames.Softmax, RowGrid(rows), P(x), P(y), rows, cols, log);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Storage y, Storage gy, Storage gx, int rows, int cols, bool log)
    {
        Enter();
        Launch(KernelNames.SoftmaxBackward, RowGrid(rows), P(y), P(gy), P(gx), rows, cols, log);
    }

    /// <inheritdoc/>
    public void CrossEntropy(Storage x, int rows, int cols, int[] targets, Storage loss, Storage stats)
    {
        using var t = Upload(targets);
        Launch(KernelNames.CrossEntropy, RowGrid(rows), P(x), rows, cols, t.Pointer, P(loss), P(stats));
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(Storage x, Storage stats, int rows, int cols, int[] targets, Storage gy, float scale, Storage gx)
    {
        using var t = Upload(targets);
        Launch(KernelNames.CrossEntropyBackward, RowGrid(rows), P(x), P(stats), rows, cols, t.Pointer, P(gy), scale, P(gx));
    }
}
