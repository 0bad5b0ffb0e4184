using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public double SumOfSquares(Storage x)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Optimizer);
        // Accumulate in double: a 6.5M-element embedding gradient would lose digits in float.
        float[] d = Data(x);
        double total = 0;
        const int Chunk = 4096;
        for (int i = 0; i < d.Length; i += Chunk)
        {
            var span = d.AsSpan(i, Math.Min(Chunk, d.Length - i));
            total += TensorPrimitives.SumOfSquares(span);
        }
        return total;
    }

    /// <inheritdoc/>
    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, float lr, float momentum,
        float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Optimizer);
        float[] p = Data(param), g = Data(grad);
        float[]? buf = momentumBuffer is null ? null : Data(momentumBuffer);
        for (int i = 0; i < n; i++)
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
    }

    /// <inheritdoc/>
    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, float lr, float beta1, float beta2,
        float eps, float weightDecay, bool decoupled, int step)
    {
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
}
