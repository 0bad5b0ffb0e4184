// Row-wise softmax / log-softmax, their backward, and the fused cross-entropy (log-softmax + NLL).
// One block per row. Formulas match CpuBackend.Softmax.cs; (x − m) − log Σ is kept in that order, because
// folding m + log Σ into one float first rounds away ~1e−3 at |m| ≈ 1e4.

extern "C" __global__ void tg_softmax(const float* x, float* y, int rows, int cols, int logSoftmax)
{
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* row = x + r * cols;
        float* out = y + r * cols;
        float m = TG_NEG_INF;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) m = tg_max(m, row[j]);
        m = tg_block_max(m);
        if (m == TG_NEG_INF) m = 0.f; // an all −∞ row: keep x − m free of −∞ − (−∞)
        float s = 0.f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) s += expf(row[j] - m);
        s = tg_block_sum(s);
        if (logSoftmax)
        {
            float lse = logf(s);
            for (int j = threadIdx.x; j < cols; j += blockDim.x) out[j] = (row[j] - m) - lse;
        }
        else
        {
            for (int j = threadIdx.x; j < cols; j += blockDim.x) out[j] = expf(row[j] - m) / s;
        }
    }
}

// softmax: gx += y ⊙ (gy − Σ gy⊙y); log-softmax: gx += gy − e^y · Σ gy.
extern "C" __global__ void tg_softmax_backward(const float* y, const float* gy, float* gx, int rows, int cols, int logSoftmax)
{
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* yr = y + r * cols;
        const float* g = gy + r * cols;
        float* out = gx + r * cols;
        float s = 0.f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) s += logSoftmax ? g[j] : g[j] * yr[j];
        s = tg_block_sum(s);
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
            out[j] += logSoftmax ? g[j] - expf(yr[j]) * s : (g[j] - s) * yr[j];
    }
}

// loss[r] = log Σ e^(x − m) − (x[t] − m); stats[2r] = m, stats[2r + 1] = log Σ e^(x − m).
extern "C" __global__ void tg_cross_entropy(const float* x, int rows, int cols, const int* targets, float* loss, float* stats)
{
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* row = x + r * cols;
        float m = TG_NEG_INF;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) m = tg_max(m, row[j]);
        m = tg_block_max(m);
        if (m == TG_NEG_INF || m == TG_POS_INF) m = 0.f; // keep x − m free of ∞ − ∞
        float s = 0.f;
        for (int j = threadIdx.x; j < cols; j += blockDim.x) s += expf(row[j] - m);
        s = tg_block_sum(s);
        if (threadIdx.x == 0)
        {
            float logSum = logf(s);
            stats[2 * r] = m;
            stats[2 * r + 1] = logSum;
            loss[r] = logSum - (row[targets[r]] - m);
        }
    }
}

// gx[r, j] += scale·gy[0]·(softmax_j − [j = t]); the upstream scalar is read on the device (no host round trip).
extern "C" __global__ void tg_cross_entropy_backward(const float* x, const float* stats, int rows, int cols, const int* targets,
    const float* gy, float scale, float* gx)
{
    float g = gy[0] * scale;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* row = x + r * cols;
        float m = stats[2 * r], logSum = stats[2 * r + 1];
        int t = targets[r];
        for (int j = threadIdx.x; j < cols; j += blockDim.x)
        {
            float p = expf((row[j] - m) - logSum);
            if (j == t) p -= 1.f;
            gx[r * cols + j] += p * g;
        }
    }
}
