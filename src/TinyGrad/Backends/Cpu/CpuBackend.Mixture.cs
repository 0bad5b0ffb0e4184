using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TinyGrad.Backends.Cpu;

// The mixture heads' row kernels (MoS, MoSS; see IHeadKernels.cs for the conventions): a position's K experts are
// K rows of the single-normaliser kernels in CpuBackend.Heads.cs, combined over k. The definition is
// NormalizerReference.MixtureLogProbs / MixtureNll in Ops/Sigsoftmax.cs.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void MixtureNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage logPrior, Storage loss,
        Storage weights, float scale, Storage dBias, int firstRow, int rows, int experts, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] zs = Data(z), bs = Data(bias), lp = Data(logPrior), ls = Data(loss), ws = Data(weights), db = Data(dBias);
        ForRowRangesSummed(rows, cols, db, accumulate: true, (r0, r1, part) =>
        {
            Span<float> sums = stackalloc float[experts];
            Span<float> dwt = stackalloc float[experts];
            Span<float> c = stackalloc float[experts];
            for (int r = r0; r < r1; r++)
            {
                int n = firstRow + r, t = targets[n];
                // Sweeps 1 and 2 for each expert row: its loss −log q_nk(t) lands in c as log π − ℓ.
                for (int k = 0; k < experts; k++)
                {
                    var row = zs.AsSpan((r * experts + k) * cols, cols);
                    float ell = UnnormalizedGradientRow(kind, row, bs, t, out sums[k], out dwt[k]);
                    c[k] = lp[n * experts + k] - ell;
                }
                var w = ws.AsSpan(n * experts, experts);
                ls[n] = PosteriorRow(c, scale, w);
                // Sweep 3: dz = scale·r_k·u·w' / Σu, then the target's −scale·r_k·w'ₜ.
                for (int k = 0; k < experts; k++)
                    FinishGradientRow(zs.AsSpan((r * experts + k) * cols, cols), w[k] / sums[k], t, w[k] * dwt[k], part);
            }
        });
    }

    /// <inheritdoc/>
    public void MixturePosterior(Storage logPrior, Storage compLoss, Storage nll, Storage weights, float scale, int firstRow, int rows, int experts)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] lp = Data(logPrior), cl = Data(compLoss), ls = Data(nll), ws = Data(weights);
        Span<float> c = stackalloc float[experts];
        for (int n = firstRow; n < firstRow + rows; n++)
        {
            int at = n * experts;
            for (int k = 0; k < experts; k++) c[k] = lp[at + k] - cl[at + k];
            ls[n] = PosteriorRow(c, scale, ws.AsSpan(at, experts));
        }
    }

    /// <summary>
    /// One position's posterior over its K experts from cₖ = log πₖ − ℓₖ: writes weightsₖ = scale·e^(cₖ − L′) with
    /// L′ = logsumexp(c), and returns the position's loss −L′. K is small (a few to 15): a scalar logsumexp,
    /// shifted by the maximum.
    /// </summary>
    private static float PosteriorRow(ReadOnlySpan<float> c, float scale, Span<float> weights)
    {
        float m = float.NegativeInfinity;
        for (int k = 0; k < c.Length; k++) m = MathF.Max(m, c[k]);
        if (!float.IsFinite(m)) m = 0f;
        float sum = 0f;
        for (int k = 0; k < c.Length; k++) sum += MathF.Exp(c[k] - m);
        float logSum = MathF.Log(sum);
        // (c − m) − log Σ, not c − (m + log Σ): the sum rounded at |m| ≈ 2e4 would cost 1e−3 of each weight.
        for (int k = 0; k < c.Length; k++) weights[k] = scale * MathF.Exp(c[k] - m - logSum);
        return -(m + logSum);
    }

    /// <inheritdoc/>
    public void MixtureLogSumExp(Storage comp, Storage logPrior, Storage y, int firstRow, int rows, int experts, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] cs = Data(comp), lp = Data(logPrior), ys = Data(y);
        ForRows(rows, experts * cols, n =>
        {
            int g = firstRow + n, k0 = n * experts * cols;
            var prior = lp.AsSpan(g * experts, experts);
            var yr = ys.AsSpan(g * cols, cols);
            ref float c = ref MemoryMarshal.GetArrayDataReference(cs);
            int j = 0;
            for (; j <= cols - Lanes; j += Lanes)
            {
                // Two sweeps over the K experts for these lanes: the maximum, then the shifted sum.
                var m = Vector256.Create(float.NegativeInfinity);
                for (int k = 0; k < experts; k++)
                    m = Vector256.Max(m, Vector256.Create(prior[k]) + Vector256.LoadUnsafe(ref c, (nuint)(k0 + k * cols + j)));
                m = Vector256.ConditionalSelect(Vector256.Equals(m, Vector256.Create(float.NegativeInfinity)), Vector256<float>.Zero, m);
                var s = Vector256<float>.Zero;
                for (int k = 0; k < experts; k++)
                    s += Vector256.Exp(Vector256.Create(prior[k]) + Vector256.LoadUnsafe(ref c, (nuint)(k0 + k * cols + j)) - m);
                (m + Vector256.Log(s)).StoreUnsafe(ref yr[j]);
            }
            for (; j < cols; j++)
            {
                float m = float.NegativeInfinity;
                for (int k = 0; k < experts; k++) m = MathF.Max(m, prior[k] + cs[k0 + k * cols + j]);
                if (float.IsNegativeInfinity(m)) m = 0f;
                float s = 0f;
                for (int k = 0; k < experts; k++) s += MathF.Exp(prior[k] + cs[k0 + k * cols + j] - m);
                yr[j] = m + MathF.Log(s);
            }
        });
    }

    /// <inheritdoc/>
    public void MixtureLogSumExpBackward(Storage comp, Storage logPrior, Storage y, Storage gy, Storage dComp, Storage dLogPrior,
        int firstRow, int rows, int experts, int cols)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] cs = Data(comp), lp = Data(logPrior), ys = Data(y), gs = Data(gy), dcs = Data(dComp), dlp = Data(dLogPrior);
        ForRows(rows, experts * cols, n =>
        {
            // y = log Σₖ e^(aₖ), aₖ = log πₖ + compₖ: ∂y/∂aₖ = e^(aₖ − y), the posterior of expert k given word j.
            // (comp − y) first: both are near each other (≈ −2e4 for an improbable word), so the difference is exact.
            int g = firstRow + n;
            var yr = ys.AsSpan(g * cols, cols);
            var gr = gs.AsSpan(g * cols, cols);
            for (int k = 0; k < experts; k++)
            {
                int at = (n * experts + k) * cols;
                var cr = cs.AsSpan(at, cols);
                var dr = dcs.AsSpan(at, cols);
                float prior = lp[g * experts + k];
                var vp = Vector256.Create(prior);
                var acc = Vector256<float>.Zero;
                int j = 0;
                for (; j <= cols - Lanes; j += Lanes)
                {
                    var d = Vector256.Create(gr.Slice(j, Lanes)) * Vector256.Exp(Vector256.Create(cr.Slice(j, Lanes)) - Vector256.Create(yr.Slice(j, Lanes)) + vp);
                    d.CopyTo(dr.Slice(j, Lanes));
                    acc += d;
                }
                float sum = Vector256.Sum(acc);
                for (; j < cols; j++)
                {
                    float d = gr[j] * MathF.Exp(cr[j] - yr[j] + prior);
                    dr[j] = d;
                    sum += d;
                }
                dlp[g * experts + k] = sum;
            }
        });
    }
}
