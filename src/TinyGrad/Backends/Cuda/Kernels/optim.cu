// Optimizer updates (one pass over a parameter) and the gradient-norm pieces that keep clipping on the device.
// Formulas match CpuBackend.Optim.cs and CpuBackend.Clip.cs.

// PyTorch's SGD: g = grad + wd·p; buf = momentum·buf + (1 − dampening)·g (buf = g at first);
// g = nesterov ? g + momentum·buf : buf; p −= lr·g. buf is null without momentum.
extern "C" __global__ void tg_sgd_step(float* p, const float* grad, float* buf, int n, float lr, float momentum,
    float dampening, float weightDecay, int nesterov, int firstStep)
{
    TG_FOR(i, n)
    {
        float d = grad[i];
        if (weightDecay != 0.f) d += weightDecay * p[i];
        if (buf)
        {
            buf[i] = firstStep ? d : momentum * buf[i] + (1.f - dampening) * d;
            d = nesterov ? d + momentum * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

// PyTorch's Adam (AdamW when decoupled), with the bias corrections folded in on the host as the CPU does.
extern "C" __global__ void tg_adam_step(float* p, const float* grad, float* m, float* v, int n, float lr, float beta1, float beta2,
    float eps, float weightDecay, int decoupled, float stepSize, float bias2Sqrt)
{
    TG_FOR(i, n)
    {
        float d = grad[i];
        if (decoupled) p[i] *= 1.f - lr * weightDecay;
        else if (weightDecay != 0.f) d += weightDecay * p[i];
        m[i] = beta1 * m[i] + (1.f - beta1) * d;
        v[i] = beta2 * v[i] + (1.f - beta2) * d * d;
        float denom = sqrtf(v[i]) / bias2Sqrt + eps;
        p[i] -= stepSize * m[i] / denom;
    }
}

// avg += w·(x − avg), or avg = x when w is 1.
extern "C" __global__ void tg_lerp(float* avg, const float* x, int n, float w)
{
    TG_FOR(i, n) avg[i] = w == 1.f ? x[i] : avg[i] + (x[i] - avg[i]) * w;
}

// Dynamic evaluation (Krause et al. 2018): p += pull·(p0 − p) − (lr·g)/denom, rounded as the CPU rounds it
// (the _rn intrinsics keep the compiler from contracting a multiply and an add into one FMA).
extern "C" __global__ void tg_dynamic_evaluation_step(float* p, const float* g, const float* p0, const float* pull,
                                                      const float* denom, int n, float lr)
{
    TG_FOR(i, n) p[i] = __fadd_rn(p[i], __fsub_rn(__fmul_rn(pull[i], __fsub_rn(p0[i], p[i])), __fdiv_rn(__fmul_rn(g[i], lr), denom[i])));
}

// *total += Σ x² over n elements. total is a double (8 bytes of a float storage): each block sums in double and
// adds its part atomically, so a 6.5M-element embedding gradient keeps its digits, as on the CPU.
extern "C" __global__ void tg_sum_of_squares(const float* x, int n, double* total)
{
    double s = 0.0;
    TG_FOR(i, n) s += (double)x[i] * (double)x[i];
    s = tg_block_sum_double(s);
    if (threadIdx.x == 0) atomicAdd(total, s);
}

// From Σ g² (a double) to the clipping factor, as ClipGrad.ClipGradNorm computes it on the host:
// out[0] = maxNorm / (norm + 1e−6) when that is below 1 and the norm is finite, else 1 (gradients untouched);
// out[1] = the norm, as a float.
extern "C" __global__ void tg_clip_coefficient(const double* sumOfSquares, float maxNorm, float* out)
{
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double norm = sqrt(*sumOfSquares);
    double coef = (double)maxNorm / (norm + 1e-6);
    bool finite = norm <= 1.7976931348623157e308;
    out[0] = finite && coef < 1.0 ? (float)coef : 1.f;
    out[1] = (float)norm;
}
