namespace TinyGrad.Backends.Cuda;

// The optimizer family (IOptimizerKernels), in optim.cu.
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, SgdHyper h, bool firstStep)
    {
        Enter();
        Launch(KernelNames.SgdStep, Grid(n), P(param), P(grad), momentumBuffer is null ? 0UL : P(momentumBuffer), n, h.Lr, h.Momentum,
            h.Dampening, h.WeightDecay, h.Nesterov, firstStep);
    }

    /// <inheritdoc/>
    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, AdamHyper h, int step)
    {
        Enter();
        var (lr, beta1, beta2, eps, weightDecay, decoupled) = h;
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

    /// <inheritdoc/>
    public void DynamicEvaluationStep(Storage param, Storage grad, Storage trained, Storage pull, Storage denom, int n, float lr)
    {
        Enter();
        Launch(KernelNames.DynamicEvaluationStep, Grid(n), P(param), P(grad), P(trained), P(pull), P(denom), n, lr);
    }
}
