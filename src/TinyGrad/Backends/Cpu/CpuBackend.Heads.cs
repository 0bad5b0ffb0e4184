using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TinyGrad.Backends.Cpu;

// The output heads' row kernels (see Backends/Kernels/IHeadKernels.cs for the conventions). Their definition is the plain
// double-precision NormalizerReference in Ops/Sigsoftmax.cs; the tests hold every kernel here to it. Each row is one or two SIMD
// passes with the transcendental functions inlined, because on an N×V matrix (700 × 10,000 = 28 MB) the
// time goes into memory passes and exponentials, not arithmetic. Rows are split across the thread pool.
//
// The sigsoftmax, w = z + log σ(z), is evaluated without the "subtract the max, multiply by σ" shortcut
// (e^(z − max)·σ(z) is 0 for a whole row when every z ≤ −1e4, and the normaliser becomes 0/0). Instead:
//   e^w = eᶻ·σ(z) = e^(z + min(z, 0)) / (1 + e^−|z|),
// where z + min(z, 0) is exact (z or 2z) and e^−|z| ≤ 1 never overflows. w rises with z (dw/dz = 2 − σ(z) > 0),
// so maxⱼ wⱼ = w(maxⱼ zⱼ), and every exponent e^(w − m) is ≤ ln 2 once m is subtracted.
// The derivative is w' = 1 + (1 − σ(z)) = 1 + σ(−z) = 1 + (z ≥ 0 ? e^−|z| : 1) / (1 + e^−|z|).
public sealed partial class CpuBackend
{
    private static readonly int Lanes = Vector256<float>.Count;

    /// <inheritdoc/>
    public void HeadLogNormalize(Normalizer kind, Storage z, Storage y, Storage stats, int firstRow, int rows, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] zs = Data(z), ys = Data(y), st = Data(stats);
        ForRows(rows, cols, r =>
        {
            var zr = zs.AsSpan(r * cols, cols);
            var yr = ys.AsSpan(r * cols, cols);
            float m = RowMax(kind, zr);
            // y = w − m while summing e^(w − m); then subtract the log of the sum (y may be z: same index).
            float logSum = MathF.Log(ShiftedLogits(kind, zr, m, yr));
            TensorPrimitives.Subtract(yr, logSum, yr);
            st[2 * (firstRow + r)] = m;
            st[2 * (firstRow + r) + 1] = logSum;
        });
    }

    /// <inheritdoc/>
    public void HeadLogNormalizeBackward(Normalizer kind, Storage z, Storage stats, Storage gy, Storage dz, int firstRow, int rows, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] zs = Data(z), st = Data(stats), gs = Data(gy), ds = Data(dz);
        ForRows(rows, cols, r =>
        {
            // log pⱼ = wⱼ − logsumexp(w): ∂/∂wᵢ Σⱼ gyⱼ log pⱼ = gyᵢ − pᵢ Σⱼ gyⱼ; then the chain rule through w(z).
            int g = firstRow + r;
            var gr = gs.AsSpan(r * cols, cols);
            float sum = TensorPrimitives.Sum(gr);
            Gradient(kind, zs.AsSpan(r * cols, cols), st[2 * g], st[2 * g + 1], gr, -sum, 1f, ds.AsSpan(r * cols, cols));
        });
    }

    /// <inheritdoc/>
    public void HeadNll(Normalizer kind, Storage z, int[] targets, Storage loss, Storage stats, int firstRow, int rows, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] zs = Data(z), ls = Data(loss), st = Data(stats);
        ForRows(rows, cols, r =>
        {
            int g = firstRow + r;
            var zr = zs.AsSpan(r * cols, cols);
            float m = RowMax(kind, zr);
            float logSum = MathF.Log(ShiftedLogits(kind, zr, m, default));
            st[2 * g] = m;
            st[2 * g + 1] = logSum;
            // −log p_t = log Σ e^(w − m) − (w_t − m), with m kept out of the sum: when t is a likely word, w_t − m is
            // a difference of two nearby numbers (exact), so a small loss keeps its digits even at |m| ≈ 1e4.
            ls[g] = logSum - (W(kind, zr[targets[g]]) - m);
        });
    }

    /// <inheritdoc/>
    public void HeadNllBackward(Normalizer kind, Storage z, int[] targets, Storage stats, Storage rowGrad, Storage dz, int firstRow, int rows, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] zs = Data(z), st = Data(stats), rg = Data(rowGrad), ds = Data(dz);
        ForRows(rows, cols, r =>
        {
            // L = −log p_t = −w_t + logsumexp(w): ∂L/∂wⱼ = pⱼ − [j = t], and ∂L/∂zⱼ = (pⱼ − [j = t])·w'ⱼ
            // (for the sigsoftmax (pⱼ − [j = t])(2 − σ(zⱼ))). Written as scale·pⱼ·w'ⱼ, then the target fixed up.
            int g = firstRow + r, t = targets[g];
            float m = st[2 * g], logSum = st[2 * g + 1], scale = rg[g];
            var zr = zs.AsSpan(r * cols, cols);
            float zt = zr[t]; // read before dz (which may be z) overwrites it
            Gradient(kind, zr, m, logSum, default, 0f, scale, ds.AsSpan(r * cols, cols));
            float pt = P(kind, zt, m, logSum, out float wt);
            ds[r * cols + t] = scale * (pt - 1f) * wt;
        });
    }

    /// <inheritdoc/>
    public void HeadNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage loss, float scale, Storage dBias, int rows, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] zs = Data(z), bs = Data(bias), ls = Data(loss), db = Data(dBias);
        // Each row adds its dz into its range's bias-gradient partial while the row is still in cache.
        ForRowRangesSummed(rows, cols, db, accumulate: false, (r0, r1, part) =>
        {
            for (int r = r0; r < r1; r++)
                ls[r] = NllWithGradientRow(kind, zs.AsSpan(r * cols, cols), bs, targets[r], scale, part);
        });
    }

    /// <summary>
    /// One row of <see cref="HeadNllWithGradient"/>: the first two sweeps (<see cref="UnnormalizedGradientRow"/>),
    /// then the third (<see cref="FinishGradientRow"/>). Returns the row's loss.
    /// </summary>
    private static float NllWithGradientRow(Normalizer kind, Span<float> z, ReadOnlySpan<float> b, int target, float scale, Span<float> part)
    {
        float loss = UnnormalizedGradientRow(kind, z, b, target, out float sum, out float dwt);
        FinishGradientRow(z, scale / sum, target, scale * dwt, part);
        return loss;
    }

    /// <summary>
    /// Sweeps 1 and 2 of a fused NLL row; only the first reads memory (the row, 40 KB at V = 10k, then sits in
    /// L2): (1) the maximum m of z + b; (2) uⱼ = e^(wⱼ − m) with w from z + b, summed into <paramref name="sum"/>,
    /// with uⱼ·w'ⱼ stored over z. Returns the row's loss log Σu − (wₜ − m) (the same split as <see cref="HeadNll"/>) and w'ₜ.
    /// </summary>
    private static float UnnormalizedGradientRow(Normalizer kind, Span<float> z, ReadOnlySpan<float> b, int target, out float sum, out float dwt)
    {
        int n = z.Length, j;
        var vmax = Vector256.Create(float.NegativeInfinity);
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float br = ref MemoryMarshal.GetReference(b);
        for (j = 0; j <= n - Lanes; j += Lanes)
            vmax = Vector256.Max(vmax, Vector256.LoadUnsafe(ref zr, (nuint)j) + Vector256.LoadUnsafe(ref br, (nuint)j));
        float zmax = MaxOfLanes(vmax);
        for (int i = j; i < n; i++) zmax = MathF.Max(zmax, z[i] + b[i]);
        float m = float.IsFinite(zmax) ? W(kind, zmax) : 0f;
        float zt = z[target] + b[target];

        var vm = Vector256.Create(m);
        var one = Vector256<float>.One;
        var acc = Vector256<float>.Zero;
        for (j = 0; j <= n - Lanes; j += Lanes)
        {
            var zv = Vector256.LoadUnsafe(ref zr, (nuint)j) + Vector256.LoadUnsafe(ref br, (nuint)j);
            if (kind == Normalizer.Softmax)
            {
                var u = Vector256.Exp(zv - vm);
                acc += u;
                u.StoreUnsafe(ref zr, (nuint)j);
            }
            else
            {
                var t = SigTail(zv);
                var inv = Vector256<float>.One / (Vector256<float>.One + t);
                var dw = SigSlope(zv, t, inv);
                var u = Vector256.Exp(SigLead(zv) - vm) * inv;
                acc += u;
                (u * dw).StoreUnsafe(ref zr, (nuint)j);
            }
        }
        sum = Vector256.Sum(acc);
        for (; j < n; j++)
        {
            float u = P(kind, z[j] + b[j], m, 0f, out float dw);
            sum += u;
            z[j] = u * dw;
        }
        _ = P(kind, zt, m, 0f, out dwt);
        return MathF.Log(sum) - (W(kind, zt) - m);
    }

    /// <summary>
    /// Sweep 3: dzⱼ = <paramref name="factor"/>·uⱼ·w'ⱼ (factor = scale / Σu, so scale·pⱼ·w'ⱼ), then dzₜ −=
    /// <paramref name="targetTerm"/> (scale·w'ₜ, making it scale·(pₜ − 1)·w'ₜ); dz is added into <paramref name="part"/>.
    /// </summary>
    private static void FinishGradientRow(Span<float> z, float factor, int target, float targetTerm, Span<float> part)
    {
        int n = z.Length, j;
        var vk = Vector256.Create(factor);
        for (j = 0; j <= n - Lanes; j += Lanes)
        {
            var d = Vector256.Create(z.Slice(j, Lanes)) * vk;
            d.CopyTo(z.Slice(j, Lanes));
            (Vector256.Create(part.Slice(j, Lanes)) + d).CopyTo(part.Slice(j, Lanes));
        }
        for (; j < n; j++)
        {
            z[j] *= factor;
            part[j] += z[j];
        }
        z[target] -= targetTerm;
        part[target] -= targetTerm;
    }

    private static float MaxOfLanes(Vector256<float> v)
    {
        float m = v.GetElement(0);
        for (int i = 1; i < Vector256<float>.Count; i++) m = MathF.Max(m, v.GetElement(i));
        return m;
    }

    // ---- row helpers -----------------------------------------------------------------------------

    // The sigsoftmax's vector pieces, each written once here (the definition is NormalizerReference.W and .DW in
    // Ops/Sigsoftmax.cs): e^w = e^lead / (1 + t) with lead = z + min(z, 0) (exact: z or 2z) and t = e^−|z| ≤ 1, which
    // never overflows; w' = 2 − σ(z) = 1 + (z ≥ 0 ? t : 1)·inv with inv = 1 / (1 + t). Single-value helpers (no out
    // parameters), so the JIT keeps every piece in a register once they are inlined.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SigLead(Vector256<float> z) => z + Vector256.Min(z, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SigTail(Vector256<float> z) => Vector256.Exp(-Vector256.Abs(z));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SigSlope(Vector256<float> z, Vector256<float> t, Vector256<float> inv) =>
        Vector256<float>.One + Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(z, Vector256<float>.Zero), t, Vector256<float>.One) * inv;

    /// <summary>w(z) for one element: z, or z + log σ(z) = z + min(z, 0) − log1p(e^−|z|) (<see cref="NormalizerReference.W"/>).</summary>
    private static float W(Normalizer kind, float z) =>
        kind == Normalizer.Softmax ? z : z + MathF.Min(z, 0f) - Log1p(MathF.Exp(-MathF.Abs(z)));

    /// <summary>maxⱼ wⱼ = w(maxⱼ zⱼ), since w rises with z. A non-finite maximum becomes 0 so that w − m is never ∞ − ∞.</summary>
    private static float RowMax(Normalizer kind, ReadOnlySpan<float> z)
    {
        float zmax = TensorPrimitives.Max(z);
        return float.IsFinite(zmax) ? W(kind, zmax) : 0f;
    }

    /// <summary>pⱼ = e^((wⱼ − m) − logSum) for one element, and w'(z) in <paramref name="dw"/> (the scalar form of SigLead, SigTail and SigSlope).</summary>
    private static float P(Normalizer kind, float z, float m, float logSum, out float dw)
    {
        if (kind == Normalizer.Softmax)
        {
            dw = 1f;
            return MathF.Exp(z - m - logSum);
        }
        float t = MathF.Exp(-MathF.Abs(z)), inv = 1f / (1f + t);
        dw = 1f + (z >= 0f ? t : 1f) * inv;
        return MathF.Exp(z + MathF.Min(z, 0f) - m - logSum) * inv;
    }

    /// <summary>
    /// Σⱼ e^(wⱼ − m), and (when <paramref name="y"/> is not empty) yⱼ = wⱼ − m. The sum alone needs no logarithm
    /// (e^w = e^(z + min(z,0)) / (1 + e^−|z|)); writing w does: w − m = (z + min(z, 0) − m) − log(1 + e^−|z|).
    /// </summary>
    private static float ShiftedLogits(Normalizer kind, ReadOnlySpan<float> z, float m, Span<float> y)
    {
        bool write = !y.IsEmpty;
        var vm = Vector256.Create(m);
        var acc = Vector256<float>.Zero;
        int j = 0;
        for (; j <= z.Length - Lanes; j += Lanes)
        {
            var zv = Vector256.Create(z.Slice(j, Lanes));
            if (kind == Normalizer.Softmax)
            {
                var a = zv - vm;
                if (write) a.CopyTo(y.Slice(j, Lanes));
                acc += Vector256.Exp(a);
            }
            else
            {
                var t = SigTail(zv);
                var lead = SigLead(zv) - vm;
                if (write)
                {
                    var a = lead - Vector256.Log(Vector256<float>.One + t);
                    a.CopyTo(y.Slice(j, Lanes));
                    acc += Vector256.Exp(a);
                }
                else
                {
                    acc += Vector256.Exp(lead) / (Vector256<float>.One + t);
                }
            }
        }
        float sum = Vector256.Sum(acc);
        for (; j < z.Length; j++)
        {
            float a = W(kind, z[j]) - m;
            if (write) y[j] = a;
            sum += MathF.Exp(a);
        }
        return sum;
    }

    /// <summary>
    /// dzⱼ = (gyⱼ + c·pⱼ)·w'ⱼ when <paramref name="gy"/> is given (the log-normalise backward, c = −Σ gy), else
    /// dzⱼ = scale·pⱼ·w'ⱼ (the NLL backward before its target fix-up). dz may alias z or gy: each element is
    /// read before it is written.
    /// </summary>
    private static void Gradient(Normalizer kind, ReadOnlySpan<float> z, float m, float logSum, ReadOnlySpan<float> gy,
        float c, float scale, Span<float> dz)
    {
        bool withGy = !gy.IsEmpty;
        var vm = Vector256.Create(m);
        var vl = Vector256.Create(logSum);
        var vc = Vector256.Create(withGy ? c : scale);
        var one = Vector256<float>.One;
        int j = 0;
        for (; j <= z.Length - Lanes; j += Lanes)
        {
            var zv = Vector256.Create(z.Slice(j, Lanes));
            Vector256<float> p, dw;
            if (kind == Normalizer.Softmax)
            {
                p = Vector256.Exp(zv - vm - vl);
                dw = one;
            }
            else
            {
                var t = SigTail(zv);
                var inv = one / (one + t);
                p = Vector256.Exp(SigLead(zv) - vm - vl) * inv;
                dw = SigSlope(zv, t, inv);
            }
            var d = withGy ? (Vector256.Create(gy.Slice(j, Lanes)) + vc * p) * dw : vc * p * dw;
            d.CopyTo(dz.Slice(j, Lanes));
        }
        for (; j < z.Length; j++)
        {
            float p = P(kind, z[j], m, logSum, out float dw);
            dz[j] = withGy ? (gy[j] + c * p) * dw : scale * p * dw;
        }
    }
}
