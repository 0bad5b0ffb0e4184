// Shared by every kernel file (KernelSources.Compose puts it, after the op #defines, in front of each file).
// No #include: NVRTC provides the CUDA math functions and intrinsics without headers.
//
// Conventions, the same as the CPU backend's (src/TinyGrad/Backends/Cpu): float32 storage, row-major, offsets and
// counts in elements. Row kernels run one block of TG_BLOCK threads per row; elementwise kernels use grid-stride
// loops so any grid size covers any n.

#define TG_BLOCK 256
#define TG_NEG_INF __int_as_float(0xff800000)
#define TG_POS_INF __int_as_float(0x7f800000)

__device__ __forceinline__ bool tg_isnan(float x) { return x != x; }
__device__ __forceinline__ bool tg_isfinite(float x) { return fabsf(x) <= 3.402823466e38f; }

// The maximum that propagates NaN, like TensorPrimitives.Max on the CPU (fmaxf would drop it).
__device__ __forceinline__ float tg_max(float a, float b) { return tg_isnan(a) ? a : (tg_isnan(b) ? b : fmaxf(a, b)); }

// softplus(x) = max(x, 0) + log1p(e^−|x|): the exponent is never positive, so nothing overflows at ±1e4.
__device__ __forceinline__ float tg_softplus(float x) { return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x))); }

__device__ __forceinline__ float tg_sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

// Block-wide reductions over blockDim.x (a multiple of 32, at most 1024) threads. Every thread gets the result.
// The leading __syncthreads lets a block call them back to back with the same shared scratch. One skeleton (warp
// shuffles, then one warp over the per-warp partials); the three reductions differ only in type, operator and the
// identity that pads the last warp.
struct tg_add_op { template <typename T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; } };
struct tg_max_op { __device__ __forceinline__ float operator()(float a, float b) const { return tg_max(a, b); } };

template <typename T, typename Op>
__device__ __forceinline__ T tg_block_reduce(T v, Op op, T identity)
{
    __shared__ T scratch[32];
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0)
    {
        v = lane < warps ? scratch[lane] : identity;
        for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    return scratch[0];
}

__device__ float tg_block_sum(float v) { return tg_block_reduce(v, tg_add_op(), 0.f); }
__device__ double tg_block_sum_double(double v) { return tg_block_reduce(v, tg_add_op(), 0.0); }
__device__ float tg_block_max(float v) { return tg_block_reduce(v, tg_max_op(), TG_NEG_INF); }

// Grid-stride loop over [0, n) with a 64-bit index (n itself fits in an int: storages are int-sized).
#define TG_FOR(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); i += (long long)blockDim.x * gridDim.x)
