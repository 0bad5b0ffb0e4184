using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace TinyGrad.Backends.Cpu;

// The clipping family (IClipKernels). On the CPU "device side" is the host; ClipGrad.ClipGradNorm and
// ClipGradNormOnDevice both come here, so they give identical bits.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void AddSumOfSquares(Storage x, int n, Storage total)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Optimizer);
        // Accumulate in double: a 6.5M-element embedding gradient would lose digits in float. Each chunk's sum
        // lands in its own slot and the slots are added in order, so the total does not depend on the threads.
        float[] d = Data(x);
        var partial = new double[(n + ChunkLength - 1) / ChunkLength];
        ForChunks(n, (start, length) =>
        {
            double sum = 0;
            const int Block = 4096;
            for (int i = start; i < start + length; i += Block)
                sum += TensorPrimitives.SumOfSquares(d.AsSpan(i, Math.Min(Block, start + length - i)));
            partial[start / ChunkLength] = sum;
        });
        double total2 = 0;
        foreach (double p in partial) total2 += p;
        MemoryMarshal.Cast<float, double>(Data(total).AsSpan(0, 2))[0] += total2;
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
