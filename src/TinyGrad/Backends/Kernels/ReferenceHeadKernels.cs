namespace TinyGrad.Backends;

/// <summary>
/// The definition of <see cref="IHeadKernels"/>: each kernel reads its rows to the host through the core, computes
/// them in double precision with <see cref="NormalizerReference"/>'s plain formulas, and writes the results back.
/// Any backend that lacks the family runs this (slowly, but right); the tests hold every fast implementation to it.
/// </summary>
/// <remarks>The stats it writes are (m, log Σ e^(w − m)) per row, as the interface documents, so a backend's own
/// kernels and these never need to share them: a family is used as a whole.</remarks>
public sealed class ReferenceHeadKernels(IBackend core) : IHeadKernels
{
    private float[] Read(Storage s, int offset, int length) => HostCopy.Read(core, s, offset, length);

    private void Write(Storage s, int offset, ReadOnlySpan<float> data) => HostCopy.Write(core, s, offset, data);

    // p_j and w'_j of one element from its row's stats.
    private static double P(Normalizer kind, float z, float m, float logSum) => Math.Exp(NormalizerReference.W(kind, z) - m - logSum);

    /// <inheritdoc/>
    public void HeadLogNormalize(Normalizer kind, Storage z, Storage y, Storage stats, int firstRow, int rows, int cols)
    {
        var zs = Read(z, 0, rows * cols);
        var ys = new float[rows * cols];
        var st = new float[2 * rows];
        for (int r = 0; r < rows; r++)
        {
            var row = zs.AsSpan(r * cols, cols);
            var (m, logSum) = NormalizerReference.RowStats(kind, row);
            for (int j = 0; j < cols; j++) ys[r * cols + j] = (float)(NormalizerReference.W(kind, row[j]) - m - logSum);
            (st[2 * r], st[2 * r + 1]) = ((float)m, (float)logSum);
        }
        Write(y, 0, ys);
        Write(stats, 2 * firstRow, st);
    }

    /// <inheritdoc/>
    public void HeadLogNormalizeBackward(Normalizer kind, Storage z, Storage stats, Storage gy, Storage dz, int firstRow, int rows, int cols)
    {
        float[] zs = Read(z, 0, rows * cols), st = Read(stats, 2 * firstRow, 2 * rows), gs = Read(gy, 0, rows * cols);
        var ds = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double total = 0;
            for (int j = 0; j < cols; j++) total += gs[r * cols + j];
            for (int j = 0; j < cols; j++)
            {
                float zj = zs[r * cols + j];
                ds[r * cols + j] = (float)((gs[r * cols + j] - P(kind, zj, st[2 * r], st[2 * r + 1]) * total) * NormalizerReference.DW(kind, zj));
            }
        }
        Write(dz, 0, ds);
    }

    /// <inheritdoc/>
    public void HeadNll(Normalizer kind, Storage z, int[] targets, Storage loss, Storage stats, int firstRow, int rows, int cols)
    {
        var zs = Read(z, 0, rows * cols);
        var ls = new float[rows];
        var st = new float[2 * rows];
        for (int r = 0; r < rows; r++)
        {
            var row = zs.AsSpan(r * cols, cols);
            var (m, logSum) = NormalizerReference.RowStats(kind, row);
            ls[r] = (float)(logSum - (NormalizerReference.W(kind, row[targets[firstRow + r]]) - m));
            (st[2 * r], st[2 * r + 1]) = ((float)m, (float)logSum);
        }
        Write(loss, firstRow, ls);
        Write(stats, 2 * firstRow, st);
    }

    /// <inheritdoc/>
    public void HeadNllBackward(Normalizer kind, Storage z, int[] targets, Storage stats, Storage rowGrad, Storage dz, int firstRow, int rows, int cols)
    {
        float[] zs = Read(z, 0, rows * cols), st = Read(stats, 2 * firstRow, 2 * rows), rg = Read(rowGrad, firstRow, rows);
        var ds = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            int t = targets[firstRow + r];
            for (int j = 0; j < cols; j++)
            {
                float zj = zs[r * cols + j];
                double p = P(kind, zj, st[2 * r], st[2 * r + 1]);
                ds[r * cols + j] = (float)(rg[r] * (p - (j == t ? 1 : 0)) * NormalizerReference.DW(kind, zj));
            }
        }
        Write(dz, 0, ds);
    }

    /// <inheritdoc/>
    public void HeadNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage loss, float scale, Storage dBias, int rows, int cols)
    {
        float[] zs = Read(z, 0, rows * cols), bs = Read(bias, 0, cols);
        var ls = new float[rows];
        var db = new double[cols];
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++) row[j] = zs[r * cols + j] + bs[j];
            ls[r] = (float)NormalizerReference.Nll(kind, row, targets[r]);
            var g = NormalizerReference.NllGradient(kind, row, targets[r]);
            for (int j = 0; j < cols; j++)
            {
                zs[r * cols + j] = (float)(scale * g[j]);
                db[j] += scale * g[j];
            }
        }
        Write(loss, 0, ls);
        Write(z, 0, zs);
        Write(dBias, 0, [.. db.Select(x => (float)x)]);
    }

    /// <inheritdoc/>
    public void MixturePosterior(Storage logPrior, Storage compLoss, Storage nll, Storage weights, float scale, int firstRow, int rows, int experts)
    {
        float[] lp = Read(logPrior, firstRow * experts, rows * experts), cl = Read(compLoss, firstRow * experts, rows * experts);
        var ls = new float[rows];
        var ws = new float[rows * experts];
        for (int r = 0; r < rows; r++)
        {
            var (lse, posterior) = Posterior(lp.AsSpan(r * experts, experts), cl.AsSpan(r * experts, experts));
            ls[r] = (float)-lse;
            for (int k = 0; k < experts; k++) ws[r * experts + k] = (float)(scale * posterior[k]);
        }
        Write(nll, firstRow, ls);
        Write(weights, firstRow * experts, ws);
    }

    // L′ = logsumexp_k(log πₖ − ℓₖ) and the posterior rₖ = e^(log πₖ − ℓₖ − L′).
    private static (double Lse, double[] Posterior) Posterior(ReadOnlySpan<float> logPrior, ReadOnlySpan<float> expertLoss)
    {
        var c = new double[logPrior.Length];
        for (int k = 0; k < c.Length; k++) c[k] = (double)logPrior[k] - expertLoss[k];
        double m = c.Max();
        if (double.IsInfinity(m)) m = 0;
        double logSum = Math.Log(c.Sum(x => Math.Exp(x - m)));
        // (c − m) − log Σ, not c − (m + log Σ): at |m| ≈ 3e38 the sum m + log Σ rounds log Σ away entirely.
        return (m + logSum, [.. c.Select(x => Math.Exp(x - m - logSum))]);
    }

    /// <inheritdoc/>
    public void MixtureLogSumExp(Storage comp, Storage logPrior, Storage y, int firstRow, int rows, int experts, int cols)
    {
        float[] cs = Read(comp, 0, rows * experts * cols), lp = Read(logPrior, firstRow * experts, rows * experts);
        var ys = new float[rows * cols];
        var a = new double[experts];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                for (int k = 0; k < experts; k++) a[k] = (double)lp[r * experts + k] + cs[(r * experts + k) * cols + j];
                double m = a.Max();
                if (double.IsInfinity(m)) m = 0;
                ys[r * cols + j] = (float)(m + Math.Log(a.Sum(x => Math.Exp(x - m))));
            }
        }
        Write(y, firstRow * cols, ys);
    }

    /// <inheritdoc/>
    public void MixtureLogSumExpBackward(Storage comp, Storage logPrior, Storage y, Storage gy, Storage dComp, Storage dLogPrior,
        int firstRow, int rows, int experts, int cols)
    {
        float[] cs = Read(comp, 0, rows * experts * cols), lp = Read(logPrior, firstRow * experts, rows * experts);
        float[] ys = Read(y, firstRow * cols, rows * cols), gs = Read(gy, firstRow * cols, rows * cols);
        var dc = new float[rows * experts * cols];
        var dp = new float[rows * experts];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < experts; k++)
            {
                // ∂y/∂(log π + comp) = e^(log π + comp − y): the posterior of expert k for word j.
                double sum = 0;
                for (int j = 0; j < cols; j++)
                {
                    double d = gs[r * cols + j] * Math.Exp((double)cs[(r * experts + k) * cols + j] - ys[r * cols + j] + lp[r * experts + k]);
                    dc[(r * experts + k) * cols + j] = (float)d;
                    sum += d;
                }
                dp[r * experts + k] = (float)sum;
            }
        }
        Write(dComp, 0, dc);
        Write(dLogPrior, firstRow * experts, dp);
    }

    /// <inheritdoc/>
    public void MixtureNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage logPrior, Storage loss,
        Storage weights, float scale, Storage dBias, int firstRow, int rows, int experts, int cols)
    {
        float[] zs = Read(z, 0, rows * experts * cols), bs = Read(bias, 0, cols), lp = Read(logPrior, firstRow * experts, rows * experts);
        float[] db = Read(dBias, 0, cols);
        var ls = new float[rows];
        var ws = new float[rows * experts];
        var row = new float[cols];
        var losses = new float[experts];
        for (int r = 0; r < rows; r++)
        {
            int t = targets[firstRow + r];
            var grads = new double[experts][];
            for (int k = 0; k < experts; k++)
            {
                for (int j = 0; j < cols; j++) row[j] = zs[(r * experts + k) * cols + j] + bs[j];
                losses[k] = (float)NormalizerReference.Nll(kind, row, t);
                grads[k] = NormalizerReference.NllGradient(kind, row, t);
            }
            var (lse, posterior) = Posterior(lp.AsSpan(r * experts, experts), losses);
            ls[r] = (float)-lse;
            for (int k = 0; k < experts; k++)
            {
                double w = scale * posterior[k];
                ws[r * experts + k] = (float)w;
                for (int j = 0; j < cols; j++)
                {
                    float d = (float)(w * grads[k][j]);
                    zs[(r * experts + k) * cols + j] = d;
                    db[j] += d;
                }
            }
        }
        Write(loss, firstRow, ls);
        Write(weights, firstRow * experts, ws);
        Write(z, 0, zs);
        Write(dBias, 0, db);
    }
}
