using System.Runtime.InteropServices;

namespace TinyGrad.Backends;

/// <summary>
/// The definition of <see cref="IClipKernels"/>, on the host through the core's copies, in double precision: what a
/// backend without the family runs (a round trip per tensor, so a GPU waits), and what the fast kernels match.
/// </summary>
public sealed class ReferenceClipKernels(IBackend core) : IClipKernels
{
    /// <inheritdoc/>
    public void AddSumOfSquares(Storage x, int n, Storage total)
    {
        double sum = 0;
        foreach (float v in HostCopy.Read(core, x, 0, n)) sum += (double)v * v;
        var raw = HostCopy.Read(core, total, 0, 2);
        MemoryMarshal.Cast<float, double>(raw.AsSpan())[0] += sum;
        HostCopy.Write(core, total, 0, raw);
    }

    /// <inheritdoc/>
    public void ClipCoefficient(Storage sumOfSquares, float maxNorm, Storage result)
    {
        var raw = HostCopy.Read(core, sumOfSquares, 0, 2);
        double norm = Math.Sqrt(MemoryMarshal.Cast<float, double>(raw.AsSpan())[0]);
        double coef = maxNorm / (norm + 1e-6);
        HostCopy.Write(core, result, 0, [double.IsFinite(norm) && coef < 1 ? (float)coef : 1f, (float)norm]);
    }
}
