// Elementwise kernels: fill, the unary maps (UnaryOp), the broadcasting binary maps (BinaryOp), strided block
// copies (narrow, cat, split and their backwards) and permute. Formulas match CpuBackend.Elementwise.cs.

extern "C" __global__ void tg_fill(float* y, float value, int n)
{
    TG_FOR(i, n) y[i] = value;
}

__device__ __forceinline__ float tg_unary(int op, float x, float s)
{
    switch (op)
    {
        case UNARY_IDENTITY: return x;
        case UNARY_NEG: return -x;
        case UNARY_EXP: return expf(x);
        case UNARY_LOG: return logf(x);
        case UNARY_TANH: return tanhf(x);
        case UNARY_SIGMOID: return tg_sigmoid(x);
        case UNARY_RELU: return tg_isnan(x) ? x : fmaxf(x, 0.f);
        case UNARY_SOFTPLUS: return tg_softplus(x);
        case UNARY_LOGSIGMOID: return -tg_softplus(-x);
        case UNARY_SQRT: return sqrtf(x);
        case UNARY_POW: return powf(x, s);
        case UNARY_ADDSCALAR: return x + s;
        case UNARY_MULSCALAR: return x * s;
        case UNARY_DIVSCALAR: return x / s;
        case UNARY_RSUBSCALAR: return s - x;
        case UNARY_RDIVSCALAR: return s / x;
        case UNARY_STEP: return x > 0.f ? 1.f : 0.f;
        default: return __int_as_float(0x7fc00000); // NaN: an op the host should have rejected
    }
}

// y and x may be the same buffer: each element is read before it is written by the same thread.
extern "C" __global__ void tg_unary_map(int op, const float* x, float* y, int n, float s)
{
    TG_FOR(i, n) y[i] = tg_unary(op, x[i], s);
}

__device__ __forceinline__ float tg_binary(int op, float a, float b)
{
    switch (op)
    {
        case BINARY_ADD: return a + b;
        case BINARY_SUB: return a - b;
        case BINARY_MUL: return a * b;
        case BINARY_DIV: return a / b;
        default: return __int_as_float(0x7fc00000);
    }
}

// y [s0, s1, s2, s3] = op(a, b), element (i0..i3) reading a at Σ iₖ·aₖ and b at Σ iₖ·bₖ (stride 0 broadcasts).
// The host pads lower ranks with leading size-1 axes. y may alias a or b when their strides are y's own.
extern "C" __global__ void tg_binary_map(int op, const float* a, const float* b, float* y,
    int s0, int s1, int s2, int s3, int a0, int a1, int a2, int a3, int b0, int b1, int b2, int b3, int n)
{
    TG_FOR(i, n)
    {
        long long r = i;
        int i3 = (int)(r % s3); r /= s3;
        int i2 = (int)(r % s2); r /= s2;
        int i1 = (int)(r % s1); r /= s1;
        int i0 = (int)r;
        long long oa = (long long)i0 * a0 + (long long)i1 * a1 + (long long)i2 * a2 + (long long)i3 * a3;
        long long ob = (long long)i0 * b0 + (long long)i1 * b1 + (long long)i2 * b2 + (long long)i3 * b3;
        y[i] = tg_binary(op, a[oa], b[ob]);
    }
}

// Block i of blockLength elements: src[srcOffset + i·srcStride + j] → dst[dstOffset + i·dstStride + j] (or +=).
extern "C" __global__ void tg_copy_blocks(const float* src, int srcOffset, int srcStride, float* dst, int dstOffset, int dstStride,
    int blockLength, int blocks, int accumulate)
{
    TG_FOR(i, (long long)blockLength * blocks)
    {
        long long b = i / blockLength, j = i % blockLength;
        float v = src[srcOffset + b * srcStride + j];
        float* out = dst + dstOffset + b * dstStride + j;
        if (accumulate) *out += v; else *out = v;
    }
}

// y (shape o0..o3, row-major) = x read with strides w0..w3 (the input strides of the permuted axes).
extern "C" __global__ void tg_permute(const float* x, float* y, int o0, int o1, int o2, int o3, int w0, int w1, int w2, int w3, int n)
{
    TG_FOR(i, n)
    {
        long long r = i;
        int i3 = (int)(r % o3); r /= o3;
        int i2 = (int)(r % o2); r /= o2;
        int i1 = (int)(r % o1); r /= o1;
        int i0 = (int)r;
        y[i] = x[(long long)i0 * w0 + (long long)i1 * w1 + (long long)i2 * w2 + (long long)i3 * w3];
    }
}

// C = beta·C for a GEMM with nothing to multiply (k = 0 or alpha = 0); beta = 0 writes exact zeros without reading C.
extern "C" __global__ void tg_scale_matrix(float* c, int offset, int ldc, long long strideC, int rows, int cols, int batches, float beta)
{
    TG_FOR(i, (long long)rows * cols * batches)
    {
        long long b = i / ((long long)rows * cols), rc = i % ((long long)rows * cols);
        float* p = c + offset + b * strideC + (rc / cols) * ldc + rc % cols;
        *p = beta == 0.f ? 0.f : beta * *p;
    }
}
