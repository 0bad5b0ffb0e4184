namespace TinyGrad.Backends;

/// <summary>
/// The definition of <see cref="IOptimizerKernels"/>: PyTorch's update rules (and dynamic evaluation's), element by
/// element on the host (through the core's copies), in float32 in PyTorch's order of operations. What a backend without
/// the family runs, and what the fast kernels are tested against.
/// </summary>
public sealed class ReferenceOptimizerKernels(IBackend core) : IOptimizerKernels
{
    /// <inheritdoc/>
    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, SgdHyper h, bool firstStep)
    {
        float[] p = HostCopy.Read(core, param, 0, n), g = HostCopy.Read(core, grad, 0, n);
        float[]? buf = momentumBuffer is null ? null : HostCopy.Read(core, momentumBuffer, 0, n);
        for (int i = 0; i < n; i++)
        {
            float d = g[i];
            if (h.WeightDecay != 0f) d += h.WeightDecay * p[i];
            if (buf is not null)
            {
                buf[i] = firstStep ? d : h.Momentum * buf[i] + (1f - h.Dampening) * d;
                d = h.Nesterov ? d + h.Momentum * buf[i] : buf[i];
            }
            p[i] -= h.Lr * d;
        }
        HostCopy.Write(core, param, 0, p);
        if (buf is not null) HostCopy.Write(core, momentumBuffer!, 0, buf);
    }

    /// <inheritdoc/>
    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, AdamHyper h, int step)
    {
        float[] p = HostCopy.Read(core, param, 0, n), g = HostCopy.Read(core, grad, 0, n);
        float[] ms = HostCopy.Read(core, m, 0, n), vs = HostCopy.Read(core, v, 0, n);
        // PyTorch folds the bias corrections into the step size and the denominator.
        float bias1 = 1f - MathF.Pow(h.Beta1, step);
        float bias2Sqrt = MathF.Sqrt(1f - MathF.Pow(h.Beta2, step));
        float stepSize = h.Lr / bias1;
        for (int i = 0; i < n; i++)
        {
            float d = g[i];
            if (h.Decoupled) p[i] *= 1f - h.Lr * h.WeightDecay;
            else if (h.WeightDecay != 0f) d += h.WeightDecay * p[i];
            ms[i] = h.Beta1 * ms[i] + (1f - h.Beta1) * d;
            vs[i] = h.Beta2 * vs[i] + (1f - h.Beta2) * d * d;
            float denom = MathF.Sqrt(vs[i]) / bias2Sqrt + h.Eps;
            p[i] -= stepSize * ms[i] / denom;
        }
        HostCopy.Write(core, param, 0, p);
        HostCopy.Write(core, m, 0, ms);
        HostCopy.Write(core, v, 0, vs);
    }

    /// <inheritdoc/>
    public void Lerp(Storage avg, Storage x, int n, float w)
    {
        float[] a = HostCopy.Read(core, avg, 0, n), s = HostCopy.Read(core, x, 0, n);
        for (int i = 0; i < n; i++) a[i] = w == 1f ? s[i] : a[i] + (s[i] - a[i]) * w;
        HostCopy.Write(core, avg, 0, a);
    }

    /// <inheritdoc/>
    public void DynamicEvaluationStep(Storage param, Storage grad, Storage trained, Storage pull, Storage denom, int n, float lr)
    {
        float[] p = HostCopy.Read(core, param, 0, n), g = HostCopy.Read(core, grad, 0, n), p0 = HostCopy.Read(core, trained, 0, n);
        float[] a = HostCopy.Read(core, pull, 0, n), r = HostCopy.Read(core, denom, 0, n);
        for (int i = 0; i < n; i++) p[i] += a[i] * (p0[i] - p[i]) - g[i] * lr / r[i];
        HostCopy.Write(core, param, 0, p);
    }
}
