// Integer indexing: row lookup (the embedding) and the per-row column pick, with their scatter-add backwards.
// Indices arrive as device int arrays (the backend uploads the host int[]). Repeated indices add up via atomicAdd,
// so the order of the additions (and the last bits of a sum) may differ from the CPU's sequential loop.

extern "C" __global__ void tg_index_select_rows(const float* table, int rowLength, const int* indices, int count, float* y)
{
    TG_FOR(i, (long long)count * rowLength)
    {
        long long r = i / rowLength, j = i % rowLength;
        y[i] = table[(long long)indices[r] * rowLength + j];
    }
}

extern "C" __global__ void tg_index_add_rows(const float* gy, int rowLength, const int* indices, int count, float* gTable)
{
    TG_FOR(i, (long long)count * rowLength)
    {
        long long r = i / rowLength, j = i % rowLength;
        atomicAdd(gTable + (long long)indices[r] * rowLength + j, gy[i]);
    }
}

extern "C" __global__ void tg_gather_columns(const float* x, int rows, int cols, const int* indices, float* y)
{
    TG_FOR(r, rows) y[r] = x[r * cols + indices[r]];
}

extern "C" __global__ void tg_scatter_add_columns(const float* gy, int rows, int cols, const int* indices, float* gx)
{
    TG_FOR(r, rows) atomicAdd(gx + r * cols + indices[r], gy[r]);
}
