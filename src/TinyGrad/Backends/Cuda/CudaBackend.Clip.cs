namespace TinyGrad.Backends.Cuda;

// The gradient-clipping family (IClipKernels), in optim.cu: the norm and the factor never leave the GPU.
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void AddSumOfSquares(Storage x, int n, Storage total)
    {
        Enter();
        Launch(KernelNames.SumOfSquares, Grid(n), P(x), n, P(total));
    }

    /// <inheritdoc/>
    public void ClipCoefficient(Storage sumOfSquares, float maxNorm, Storage result)
    {
        Enter();
        Launch(KernelNames.ClipCoefficient, 1, P(sumOfSquares), maxNorm, P(result));
    }
}
