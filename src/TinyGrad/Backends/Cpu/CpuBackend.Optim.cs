using System.Numerics;
using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, SgdHyper h, bool firstStep)
    {
        var (lr, momentum, dampening, weightDecay, nesterov) = h;
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Optimizer);
        float[] p = Data(param), g = Data(grad);
        float[]? buf = momentumBuffer is null ? null : Data(momentumBuffer);
        ForChunks(n, (start, length) =>
        {
            if (buf is null && weightDecay == 0f)
            {
                // Plain SGD, p −= lr·g, as one SIMD pass (two roundings, like the scalar form below).
                var ps = p.AsSpan(start, length);
                TensorPrimitives.MultiplyAdd(g.AsSpan(start, length), -lr, ps, ps);
                return;
            }
            for (int i = start; i < start + length; i++)
            {
                float d = g[i];
                if (weightDecay != 0f) d += weightDecay * p[i];
                if (buf is not null)
                {
                    buf[i] = firstStep ? d : momentum * buf[i] + (1f - dampening) * d;
                    d = nesterov ? d + momentum * buf[i] : buf[i];
                }
                p[i] -= lr * d;
            }
        });
    }

    /// <inheritdoc/>
    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, AdamHyper h, int step)
    {
        var (lr, beta1, beta2, eps, weightDecay, decoupled) = h;
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Optimizer);
        float[] p = Data(param), g = Data(grad), ms = Data(m), vs = Data(v);
        // PyTorch folds the bias corrections into the step size and the denominator.
        float bias1 = 1f - MathF.Pow(beta1, step);
        float bias2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, step));
        float stepSize = lr / bias1;
        for (int i = 0; i < n; i++)
        {
            float d = g[i];
            if (decoupled) p[i] *= 1f - lr * weightDecay;
            else if (weightDecay != 0f) d += weightDecay * p[i];
            ms[i] = beta1 * ms[i] + (1f - beta1) * d;
            vs[i] = beta2 * vs[i] + (1f - beta2) * d * d;
            float denom = MathF.Sqrt(vs[i]) / bias2Sqrt + eps;
            p[i] -= stepSize * ms[i] / denom;
        }
    }

    /// <inheritdoc/>
    public void Lerp(Storage avg, Storage x, int n, float w)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Optimizer);
        float[] a = Data(avg), s = Data(x);
        if (w == 1f)
        {
            s.AsSpan(0, n).CopyTo(a);
            return;
        }
        for (int i = 0; i < n; i++) a[i] += (s[i] - a[i]) * w;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One pass that reads five arrays and writes one; the composed form it replaces made seven temporaries the size
    /// of the model per window. Vector and scalar lanes do the same float32 operations in the same order as
    /// <see cref="ReferenceOptimizerKernels.DynamicEvaluationStep"/> (no fused multiply-add), so the results agree bit
    /// for bit.
    /// </remarks>
    public void DynamicEvaluationStep(Storage param, Storage grad, Storage trained, Storage pull, Storage denom, int n, float lr)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Optimizer);
        float[] p = Data(param), g = Data(grad), p0 = Data(trained), a = Data(pull), r = Data(denom);
        ForChunks(n, (start, length) =>
        {
            int i = start, end = start + length;
            var lrv = new Vector<float>(lr);
            for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = new Vector<float>(p, i);
                var step = new Vector<float>(a, i) * (new Vector<float>(p0, i) - pv) - new Vector<float>(g, i) * lrv / new Vector<float>(r, i);
                (pv + step).CopyTo(p, i);
            }
            for (; i < end; i++) p[i] += a[i] * (p0[i] - p[i]) - g[i] * lr / r[i];
        });
    }
}
