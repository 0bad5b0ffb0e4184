using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

// How the CPU kernels split work over the thread pool. Both helpers cut the work into pieces whose
// boundaries depend only on the sizes, never on the thread count, and every piece computes the same thing
// wherever it runs: so results are bitwise the same at 1 and 2 threads (the determinism the README promises).
public sealed partial class CpuBackend
{
    /// <summary>Elements per chunk of a flat elementwise kernel: 64K floats (256 KB) amortise a hand-off of a few µs.</summary>
    internal const int ChunkLength = 1 << 16;

    // Runs row(r) for r in [0, rows) on the pool, a block of rows per work item (about 32K elements each,
    // so the hand-off cost of a few microseconds stays small next to the work).
    private static void ForRows(int rows, int rowLength, Action<int> row)
    {
        int per = Math.Max(1, (1 << 15) / Math.Max(1, rowLength));
        int blocks = (rows + per - 1) / per;
        if (blocks <= 1)
        {
            for (int r = 0; r < rows; r++) row(r);
            return;
        }
        CpuThreadPool.ParallelFor(blocks, b =>
        {
            int end = Math.Min(rows, (b + 1) * per);
            for (int r = b * per; r < end; r++) row(r);
        });
    }

    // Runs row(b) for the batch rows of one LSTM step. The work is small (20 rows of 200-650 units, tens of µs),
    // but it sits between two recurrent GEMMs whose pool threads are still spinning, so handing half the rows
    // over costs about a microsecond: with more than one thread, split the rows in two.
    internal static void ForBatchRows(int batch, int hidden, Action<int> row)
    {
        if (CpuThreads.Count < 2 || batch < 2 || batch * hidden < 2048)
        {
            for (int b = 0; b < batch; b++) row(b);
            return;
        }
        CpuThreadPool.ParallelFor(2, half =>
        {
            for (int b = half * batch / 2; b < (half + 1) * batch / 2; b++) row(b);
        });
    }

    // Runs body(r0, r1, part) over 16 contiguous row ranges (fewer when there are fewer rows) on the pool, each with
    // its own zeroed partial of `cols` floats, then adds the partials into `sum` in range order (overwriting it first
    // unless `accumulate`). The heads use it for the bias gradient, summed while each row of dz is in cache: 16·V adds
    // at the end against N·V for a separate pass, and 16 ranges whatever the thread count, so the rounding is fixed.
    internal static void ForRowRangesSummed(int rows, int cols, float[] sum, bool accumulate, Action<int, int, float[]> body)
    {
        int ranges = Math.Max(1, Math.Min(rows, 16));
        var partials = new float[ranges][];
        CpuThreadPool.ParallelFor(ranges, i =>
        {
            partials[i] = new float[cols];
            body(rows * i / ranges, rows * (i + 1) / ranges, partials[i]);
        });
        var total = sum.AsSpan(0, cols);
        if (!accumulate) partials[0].CopyTo(total);
        for (int i = accumulate ? 0 : 1; i < ranges; i++) TensorPrimitives.Add(total, partials[i], total);
    }

    // Runs body(start, length) over [0, n) in chunks of ChunkLength on the pool (inline when there is one chunk).
    internal static void ForChunks(int n, Action<int, int> body)
    {
        int chunks = (n + ChunkLength - 1) / ChunkLength;
        if (chunks <= 1)
        {
            if (n > 0) body(0, n);
            return;
        }
        CpuThreadPool.ParallelFor(chunks, c =>
        {
            int start = c * ChunkLength;
            body(start, Math.Min(ChunkLength, n - start));
        });
    }
}
