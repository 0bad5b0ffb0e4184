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
