// The output heads' row kernels (see IHeadKernels.cs for the row conventions: chunk matrices z, y, dz, gy, comp
// start at row 0; per-row vectors targets, stats, loss, rowGrad, logPrior and the mixture output start at firstRow).
// Formulas match CpuBackend.Heads.cs, including its log-space sigsoftmax:
//   w = z + log σ(z) = z + min(z, 0) − log1p(e^−|z|),   e^w = e^(z + min(z, 0)) / (1 + e^−|z|),
//   w' = dw/dz = 1 + σ(−z) = 1 + (z ≥ 0 ? e^−|z| : 1) / (1 + e^−|z|),
// where z + min(z, 0) is exact and e^−|z| ≤ 1, so logits of ±1e4 neither overflow nor underflow to 0/0.
// w rises with z, so the row maximum of w is w(max z).

// The sigsoftmax's pieces, written once (the definition is NormalizerReference in Ops/Sigsoftmax.cs):
// lead = z + min(z, 0) (exact: z or 2z) and tail = e^−|z| ≤ 1, so e^w = e^lead / (1 + tail).
__device__ __forceinline__ float tg_lead(float z) { return z + fminf(z, 0.f); }
__device__ __forceinline__ float tg_tail(float z) { return expf(-fabsf(z)); }

__device__ __forceinline__ float tg_w(int kind, float z)
{
    return kind == NORM_SOFTMAX ? z : tg_lead(z) - log1pf(tg_tail(z));
}

// p = e^((w − m) − logSum) for one element, and w'(z) in dw.
__device__ __forceinline__ float tg_p(int kind, float z, float m, float logSum, float* dw)
{
    if (kind == NORM_SOFTMAX)
    {
        *dw = 1.f;
        return expf(z - m - logSum);
    }
    float t = tg_tail(z), inv = 1.f / (1.f + t);
    *dw = 1.f + (z >= 0.f ? t : 1.f) * inv;
    return expf(tg_lead(z) - m - logSum) * inv;
}

// m = w(max z), or 0 when the maximum is not finite (so that w − m is never ∞ − ∞). Block-wide.
__device__ float tg_row_max(int kind, const float* z, int cols)
{
    float zmax = TG_NEG_INF;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) zmax = tg_max(zmax, z[j]);
    zmax = tg_block_max(zmax);
    return tg_isfinite(zmax) ? tg_w(kind, zmax) : 0.f;
}

// y = (w − m) − log Σ e^(w − m); stats[2g] = m, stats[2g + 1] = log Σ. y may be z (each thread reads z[j] before writing y[j]).
extern "C" __global__ void tg_head_log_normalize(int kind, const float* z, float* y, float* stats, int firstRow, int rows, int cols)
{
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* zr = z + r * cols;
        float* yr = y + r * cols;
        float m = tg_row_max(kind, zr, cols);
        float s = 0.f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
        {
            float a = tg_w(kind, zr[j]) - m;
            yr[j] = a;
            s += expf(a);
        }
        float logSum = logf(tg_block_sum(s));
        for (int j = threadIdx.x; j < cols; j += blockDim.x) yr[j] -= logSum;
        if (threadIdx.x == 0)
        {
            stats[2 * (firstRow + r)] = m;
            stats[2 * (firstRow + r) + 1] = logSum;
        }
    }
}

// dz = (gy − p·Σⱼ gyⱼ) ⊙ w'. dz may be z or gy: the row sum is complete (a block barrier) before any write.
extern "C" __global__ void tg_head_log_normalize_backward(int kind, const float* z, const float* stats, const float* gy, float* dz,
    int firstRow, int rows, int cols)
{
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        long long g = firstRow + r;
        const float* zr = z + r * cols;
        const float* gr = gy + r * cols;
        float* dr = dz + r * cols;
        float s = 0.f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) s += gr[j];
        float c = -tg_block_sum(s);
        float m = stats[2 * g], logSum = stats[2 * g + 1];
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
        {
            float dw, p = tg_p(kind, zr[j], m, logSum, &dw);
            dr[j] = (gr[j] + c * p) * dw;
        }
    }
}

// loss[g] = log Σ e^(w − m) − (w_t − m), and the row stats; never writes log-probabilities.
extern "C" __global__ void tg_head_nll(int kind, const float* z, const int* targets, float* loss, float* stats, int firstRow, int rows, int cols)
{
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        long long g = firstRow + r;
        const float* zr = z + r * cols;
        float m = tg_row_max(kind, zr, cols);
        float s = 0.f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
        {
            float zj = zr[j];
            if (kind == NORM_SOFTMAX) s += expf(zj - m);
            else s += expf(tg_lead(zj) - m) / (1.f + tg_tail(zj));
        }
        float logSum = logf(tg_block_sum(s));
        if (threadIdx.x == 0)
        {
            stats[2 * g] = m;
            stats[2 * g + 1] = logSum;
            loss[g] = logSum - (tg_w(kind, zr[targets[g]]) - m);
        }
    }
}

// dz[r, j] = rowGrad[g]·(p_j − [j = t])·w'_j. dz may be z: z[t] is read by every thread before a barrier, then the
// row is written as rowGrad·p·w', then the target entry is fixed up.
extern "C" __global__ void tg_head_nll_backward(int kind, const float* z, const int* targets, const float* stats, const float* rowGrad,
    float* dz, int firstRow, int rows, int cols)
{
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        long long g = firstRow + r;
        int t = targets[g];
        float m = stats[2 * g], logSum = stats[2 * g + 1], scale = rowGrad[g];
        const float* zr = z + r * cols;
        float* dr = dz + r * cols;
        float zt = zr[t];
        __syncthreads();
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
        {
            float dw, p = tg_p(kind, zr[j], m, logSum, &dw);
            dr[j] = scale * p * dw;
        }
        __syncthreads();
        if (threadIdx.x == 0)
        {
            float wt, pt = tg_p(kind, zt, m, logSum, &wt);
            dr[t] = scale * (pt - 1.f) * wt;
        }
        __syncthreads();
    }
}

// For rows n in [firstRow, firstRow + rows), c_k = logPrior[n, k] − compLoss[n, k]: nll[n] = −logsumexp_k c and
// weights[n, k] = scale·e^((c_k − m) − log Σ) (the expert posteriors). One thread per row; K is small.
extern "C" __global__ void tg_mixture_posterior(const float* logPrior, const float* compLoss, float* nll, float* weights, float scale,
    int firstRow, int rows, int experts)
{
    TG_FOR(i, rows)
    {
        long long n = firstRow + i, at = n * experts;
        float m = TG_NEG_INF;
        for (int k = 0; k < experts; k++) m = fmaxf(m, logPrior[at + k] - compLoss[at + k]);
        if (!tg_isfinite(m)) m = 0.f;
        float s = 0.f;
        for (int k = 0; k < experts; k++) s += expf(logPrior[at + k] - compLoss[at + k] - m);
        float logSum = logf(s);
        nll[n] = -(m + logSum);
        for (int k = 0; k < experts; k++) weights[at + k] = scale * expf(logPrior[at + k] - compLoss[at + k] - m - logSum);
    }
}

// y[g, j] = log Σ_k e^(logPrior[g, k] + comp[n·K + k, j]), shifted by the maximum over k. One thread per (n, j).
extern "C" __global__ void tg_mixture_logsumexp(const float* comp, const float* logPrior, float* y, int firstRow, int rows, int experts, int cols)
{
    TG_FOR(i, (long long)rows * cols)
    {
        long long n = i / cols, j = i % cols, g = firstRow + n;
        const float* c = comp + n * experts * cols + j;
        const float* prior = logPrior + g * experts;
        float m = TG_NEG_INF;
        for (int k = 0; k < experts; k++) m = fmaxf(m, prior[k] + c[(long long)k * cols]);
        if (m == TG_NEG_INF) m = 0.f;
        float s = 0.f;
        for (int k = 0; k < experts; k++) s += expf(prior[k] + c[(long long)k * cols] - m);
        y[g * cols + j] = m + logf(s);
    }
}

// dComp[n·K + k, j] = gy[g, j]·e^((comp − y) + logPrior[g, k]) and dLogPrior[g, k] = Σⱼ of it. One block per (n, k).
// (comp − y) first: both are near each other for an improbable word (≈ −2e4), so the difference is exact.
extern "C" __global__ void tg_mixture_logsumexp_backward(const float* comp, const float* logPrior, const float* y, const float* gy,
    float* dComp, float* dLogPrior, int firstRow, int rows, int experts, int cols)
{
    for (long long nk = blockIdx.x; nk < (long long)rows * experts; nk += gridDim.x)
    {
        long long n = nk / experts, k = nk % experts, g = firstRow + n, at = nk * cols;
        float prior = logPrior[g * experts + k];
        float s = 0.f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
        {
            float d = gy[g * cols + j] * expf(comp[at + j] - y[g * cols + j] + prior);
            dComp[at + j] = d;
            s += d;
        }
        s = tg_block_sum(s);
        if (threadIdx.x == 0) dLogPrior[g * experts + k] = s;
    }
}
