// The fused LSTM cell, one thread per (row, unit). Gates are [batch, 4·hidden] in PyTorch's order (i, f, g, o).
// Formulas match CpuBackend.Lstm.cs.

// Activates the gates in place (σ(i), σ(f), tanh(g), σ(o)), then c = f⊙c_prev + i⊙g and h = o⊙tanh(c).
extern "C" __global__ void tg_lstm_cell_forward(float* gates, const float* cPrev, float* c, float* h, int batch, int hidden)
{
    TG_FOR(idx, (long long)batch * hidden)
    {
        long long b = idx / hidden, j = idx % hidden;
        float* row = gates + b * 4 * hidden;
        float i = tg_sigmoid(row[j]);
        float f = tg_sigmoid(row[hidden + j]);
        float g = tanhf(row[2 * hidden + j]);
        float o = tg_sigmoid(row[3 * hidden + j]);
        row[j] = i;
        row[hidden + j] = f;
        row[2 * hidden + j] = g;
        row[3 * hidden + j] = o;
        float cell = f * cPrev[idx] + i * g;
        c[idx] = cell;
        h[idx] = o * tanhf(cell);
    }
}

// dc_t = dc + dh⊙o⊙(1 − tanh²c); dᵢ = dc_t⊙g⊙i(1−i); d_f = dc_t⊙c_prev⊙f(1−f); d_g = dc_t⊙i⊙(1−g²);
// d_o = dh⊙tanh(c)⊙o(1−o); dc (in place) = dc_t⊙f, the gradient of c_prev.
extern "C" __global__ void tg_lstm_cell_backward(const float* gates, const float* cPrev, const float* c, const float* dh, float* dc,
    float* dGates, int batch, int hidden)
{
    TG_FOR(idx, (long long)batch * hidden)
    {
        long long b = idx / hidden, j = idx % hidden;
        const float* row = gates + b * 4 * hidden;
        float* d = dGates + b * 4 * hidden;
        float i = row[j], f = row[hidden + j], g = row[2 * hidden + j], o = row[3 * hidden + j];
        float tc = tanhf(c[idx]);
        float dhv = dh[idx];
        float dct = dc[idx] + dhv * o * (1.f - tc * tc);
        d[j] = dct * g * i * (1.f - i);
        d[hidden + j] = dct * cPrev[idx] * f * (1.f - f);
        d[2 * hidden + j] = dct * i * (1.f - g * g);
        d[3 * hidden + j] = dhv * tc * o * (1.f - o);
        dc[idx] = dct * f;
    }
}
