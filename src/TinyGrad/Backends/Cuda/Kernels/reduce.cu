// Reductions of x viewed as [outer, axis, inner] over the middle axis, and the max's backward.
// Formulas match CpuBackend.Reduce.cs: logsumexp is m + log Σ e^(x − m), and a non-finite maximum is returned as is.

__device__ __forceinline__ float tg_finish(int op, float m, float s)
{
    return op == REDUCE_LOGSUMEXP ? m + logf(s) : s;
}

// One block per output: the threads split the axis (used when inner is small, e.g. reducing the last axis).
extern "C" __global__ void tg_reduce_rows(int op, const float* x, float* y, int outer, int axis, int inner)
{
    for (long long out = blockIdx.x; out < (long long)outer * inner; out += gridDim.x)
    {
        long long o = out / inner, in = out % inner;
        const float* base = x + o * axis * inner + in;
        if (op == REDUCE_SUM)
        {
            float s = 0.f;
            for (int a = threadIdx.x; a < axis; a += blockDim.x) s += base[(long long)a * inner];
            s = tg_block_sum(s);
            if (threadIdx.x == 0) y[out] = s;
            continue;
        }
        float m = TG_NEG_INF;
        for (int a = threadIdx.x; a < axis; a += blockDim.x) m = tg_max(m, base[(long long)a * inner]);
        m = tg_block_max(m);
        if (op == REDUCE_MAX || !tg_isfinite(m))
        {
            if (threadIdx.x == 0) y[out] = m;
            continue;
        }
        float s = 0.f;
        for (int a = threadIdx.x; a < axis; a += blockDim.x) s += expf(base[(long long)a * inner] - m);
        s = tg_block_sum(s);
        if (threadIdx.x == 0) y[out] = tg_finish(op, m, s);
    }
}

// One thread per output, walking the axis: neighbouring threads read neighbouring elements (large inner).
extern "C" __global__ void tg_reduce_columns(int op, const float* x, float* y, int outer, int axis, int inner)
{
    TG_FOR(out, (long long)outer * inner)
    {
        long long o = out / inner, in = out % inner;
        const float* base = x + o * axis * inner + in;
        if (op == REDUCE_SUM)
        {
            float s = 0.f;
            for (int a = 0; a < axis; a++) s += base[(long long)a * inner];
            y[out] = s;
            continue;
        }
        float m = TG_NEG_INF;
        for (int a = 0; a < axis; a++) m = tg_max(m, base[(long long)a * inner]);
        if (op == REDUCE_MAX || !tg_isfinite(m))
        {
            y[out] = m;
            continue;
        }
        float s = 0.f;
        for (int a = 0; a < axis; a++) s += expf(base[(long long)a * inner] - m);
        y[out] = tg_finish(op, m, s);
    }
}

// gx += gy at the first position along the axis where x equals the maximum y (a NaN maximum is its own position).
extern "C" __global__ void tg_max_backward(const float* x, const float* y, const float* gy, float* gx, int outer, int axis, int inner)
{
    TG_FOR(out, (long long)outer * inner)
    {
        long long o = out / inner, in = out % inner;
        float m = y[out];
        for (int a = 0; a < axis; a++)
        {
            long long at = (o * axis + a) * inner + in;
            if (x[at] == m || (tg_isnan(m) && tg_isnan(x[at])))
            {
                gx[at] += gy[out];
                break;
            }
        }
    }
}
