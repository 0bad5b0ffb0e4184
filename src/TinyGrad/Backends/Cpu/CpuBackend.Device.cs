using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace TinyGrad.Backends.Cpu;

// The device-side clipping members (IBackend.Device.cs). On the CPU "device side" is the host, but the arithmetic is
// the same as ClipGrad.ClipGradNorm's (chunked double sums, the coefficient in double), so both give identical bits.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void AddSumOfSquares(Storage x, int n, Storage total)
    {
        float[] d = Data(x);
        double sum = 0;
        const int Chunk = 4096;
        for (int i = 0; i < n; i += Chunk) sum += TensorPrimitives.SumOfSquares(d.AsSpan(i, Math.Min(Chunk, n - i)));
        MemoryMarshal.Cast<float, double>(Data(total).AsSpan(0, 2))[0] += sum;
    }

    /// <inheritdoc/>
    public void ClipCoefficient(Storage sumOfSquares, float maxNorm, Storage result)
    {
        double norm = Math.Sqrt(MemoryMarshal.Cast<float, double>(Data(sumOfSquares).AsSpan(0, 2))[0]);
        double coef = maxNorm / (norm + 1e-6);
        var r = Data(result);
        r[0] = double.IsFinite(norm) && coef < 1 ? (float)coef : 1f;
        r[1] = (float)norm;
    }
}
