using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

// Optimizer updates (optim.cu).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    /// <remarks>Reads the result back, so it waits for the GPU; training clips with <see cref="AddSumOfSquares"/> instead.</remarks>
    public unsafe double SumOfSquares(Storage x)
    {
        Enter();
        ulong total = Allocator.Rent(sizeof(double), out long block);
        try
        {
            Launch(KernelNames.Fill, 1, total, 0f, 2); // two zero floats are the double 0.0
            Launch(KernelNames.SumOfSquares, Grid(x.Length), P(x), x.Length, total);
            double result;
            Driver.Check(Driver.cuMemcpyDtoHAsync_v2(&result, total, sizeof(double), _context.Stream), "cuMemcpyDtoHAsync_v2");
            _context.Synchronize();
            return result;
        }
        finally
        {
            Allocator.Return(total, block);
        }
    }

    /// <inheritdoc/>
    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, float lr, float momentum,
        float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        Enter();
        Launch(KernelNames.SgdStep, Grid(n), P(param), P(grad), momentumBuffer is null ? 0UL : P(momentumBuffer), n, lr, momentum,
            dampening, weightDecay, nesterov, firstStep);
    }

    /// <inheritdoc/>
    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, float lr, float beta1, float beta2,
        float eps, float weightDecay, bool decoupled, int step)
    {
        Enter();
        // The bias corrections, folded into the step size and the denominator on the host exactly as the CPU does.
        float bias1 = 1f - MathF.Pow(beta1, step);
        float bias2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        Launch(KernelNames.AdamStep, Grid(n), P(param), P(grad), P(m), P(v), n, lr, beta1, beta2, eps, weightDecay, decoupled,
            lr / bias1, bias2Sqrt);
    }

    /// <inheritdoc/>
    public void Lerp(Storage avg, Storage x, int n, float w)
    {
        Enter();
        Launch(KernelNames.Lerp, Grid(n), P(avg), P(x), n, w);
    }
}
