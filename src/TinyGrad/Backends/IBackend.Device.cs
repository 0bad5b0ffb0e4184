using System.Runtime.InteropServices;

namespace TinyGrad.Backends;

// Kernels that keep a training step on the device: gradient-norm clipping without reading the norm back.
// (SumOfSquares returns a double to the host, which on a GPU means waiting for it every step.)
//
// The running Σ g² is a double held in a storage of two floats (elements 0 and 1 are the double's 8 bytes), so the
// sum over a 6.5M-element embedding gradient keeps its digits on any device, as SumOfSquares does.
public partial interface IBackend
{
    /// <summary>
    /// Adds Σ x² over the first <paramref name="n"/> elements of <paramref name="x"/>, accumulated in double, to the
    /// double held in <paramref name="total"/> (a storage of at least two floats, zeroed before the first call).
    /// </summary>
    void AddSumOfSquares(Storage x, int n, Storage total)
    {
        // A portable fallback through the host, for backends that do not override it.
        var data = new float[n];
        ToHost(x, data);
        double sum = 0;
        foreach (var v in data) sum += (double)v * v;
        UpdateDouble(total, d => d + sum);
    }

    /// <summary>
    /// The clipping factor from the double Σ g² in <paramref name="sumOfSquares"/>, as ClipGradNorm computes it:
    /// result[0] = maxNorm / (norm + 1e−6) when that is below 1 and the norm is finite, else 1 (so that multiplying
    /// by it leaves the gradients unchanged); result[1] = the norm √Σ g².
    /// </summary>
    void ClipCoefficient(Storage sumOfSquares, float maxNorm, Storage result)
    {
        var raw = new float[2];
        ToHost(sumOfSquares, raw);
        double norm = Math.Sqrt(MemoryMarshal.Cast<float, double>(raw)[0]);
        double coef = maxNorm / (norm + 1e-6);
        var values = FromHost([double.IsFinite(norm) && coef < 1 ? (float)coef : 1f, (float)norm]);
        CopyBlocks(values, 0, 2, result, 0, 2, 2, 1);
    }

    private void UpdateDouble(Storage storage, Func<double, double> update)
    {
        var raw = new float[2];
        ToHost(storage, raw);
        var d = MemoryMarshal.Cast<float, double>(raw.AsSpan());
        d[0] = update(d[0]);
        CopyBlocks(FromHost(raw), 0, 2, storage, 0, 2, 2, 1);
    }
}
