using System.Runtime.CompilerServices;

namespace TinyGrad.Backends.Cpu;

/// <summary>
/// The blocking and threading layer of <see cref="Gemm.Sgemm"/>: decides which operand is packed where,
/// cuts the work into chunks for <see cref="CpuThreadPool"/>, and calls the micro-kernel per register tile.
/// </summary>
/// <remarks>
/// <para><b>Cache blocking.</b> For one block of k (kc ≤ <see cref="KcMax"/>) the loop nest is
/// <c>for each A tile (MR x kc, ~L1) { for each B sliver (kc x NR) of a packed panel (~L2) { kernel } }</c>.
/// K up to ~768 is done in one pass: every extra k block reads and writes C once more, which costs more
/// than it saves at the K of an LSTM (200-650). Measured on Zen 4, splitting K = 650 cost 5-15 %.</para>
/// <para><b>Four modes</b>, chosen per call from the shape:</para>
/// <list type="bullet">
/// <item><description><b>N-split</b> (N ≥ M, the common case): A is packed once, for all of k, into a
/// shared buffer; each chunk is a range of columns that packs its own B panel per k block and sweeps
/// every A tile over it. Nothing is packed twice.</description></item>
/// <item><description><b>M-split</b> (N &lt; M, e.g. dA = dC·Bᵀ with N = 200): the mirror image: B is packed
/// once and shared, each chunk is a range of A tiles packed privately, one k block at a time.</description></item>
/// <item><description><b>Direct</b> (M ≤ <see cref="DirectMaxRows"/>, B not transposed, e.g. the recurrent
/// LSTM step with M = 20): B is read in place with its real row stride. Each B element is used by only
/// one or two A tiles, so packing B would cost as much memory traffic as the multiply itself.</description></item>
/// <item><description><b>Dot</b> (small M with Bᵀ, e.g. the recurrent backward step dh = dgates·Wᵀ):
/// inner products of rows read in place, see <see cref="GemmDotKernel"/>.</description></item>
/// </list>
/// <para><b>Threading.</b> Each call is one pool job (per block of the shared operand, which is one block
/// unless it exceeds <see cref="SharedBytes"/>). Its first items pack the shared operand; the rest are
/// chunks, and a chunk first waits (spinning) until every pack item is done. Items are claimed in order,
/// so the pack items are always already running: no deadlock, and one wake-up per call. A chunk owns its
/// region of C and walks all k blocks itself, so there is no fork-join per k block either. There are
/// several chunks per thread, so a thread slowed down by a noisy neighbour simply takes fewer.</para>
/// </remarks>
internal sealed unsafe class GemmDriver : IParallelWork
{
    // Tuning knobs, measured on Zen 4 (2 cores, 1 MB L2 each). Tests shrink them to reach every loop;
    // changing them while a GEMM runs on another thread is not supported.

    /// <summary>Largest k block done in one pass.</summary>
    internal static int KcMax = 768;
    /// <summary>Target bytes of a packed B panel (one per chunk in N-split, shared in M-split): half the L2.</summary>
    internal static int PanelBytes = 512 * 1024;
    /// <summary>Cap on the shared packed operand (all of k for a block of A rows or B columns; it lives in L3).</summary>
    internal static long SharedBytes = 16 << 20;
    /// <summary>Read B in place (no packing) when M is at most this and B is not transposed.</summary>
    internal static int DirectMaxRows = 48;
    /// <summary>Use the inner-product kernel when B is transposed, M is at most this and A fits in a panel.</summary>
    internal static int DotMaxRows = 128;
    /// <summary>Below this many FLOPs per extra thread, use fewer threads (a wake-up costs microseconds).</summary>
    internal static long MinFlopsPerThread = 1_000_000;
    /// <summary>Chunks per thread, for dynamic load balance.</summary>
    internal static int ChunksPerThread = 4;

    private enum Mode { SplitN, SplitM, Direct, Dot }

    [ThreadStatic] private static GemmDriver? t_driver;
    [ThreadStatic] private static PinnedBuffer? t_private;

    /// <summary>The calling thread's driver (its shared packing buffer is reused across calls).</summary>
    internal static GemmDriver ForThisThread => t_driver ??= new GemmDriver();

    private readonly PinnedBuffer _sharedBuffer = new();

    // The problem (pointers into arrays pinned by Sgemm for the duration of the call).
    private bool _transA, _transB;
    private int _m, _n;
    private float _alpha;
    private float* _a, _b, _c;
    private nint _lda, _ldb, _ldc;
    private GemmKernelTable _kern;
    private int _threads;
    private Mode _mode;

    // The current block: rows [_i0, _i0 + _mb), columns [_j0, _j0 + _nb), all of k in _kBlocks blocks of
    // _kcStride (the last one may be shorter). Chunks walk the k blocks themselves, in order, so the C
    // region a chunk owns sees beta once and then accumulates, without a fork-join per k block.
    private int _k, _kcStride, _kBlocks, _i0, _mb, _j0, _nb;
    private float _beta;
    private float* _shared;        // the shared operand, packed for every k block of this block
    private int _sharedTiles;      // A tiles (SplitN/Direct) or B slivers (SplitM) per k block in _shared
    private int _chunkUnits;       // B slivers (SplitN/Direct) or A tiles (SplitM) divided among chunks
    private int _packItems, _chunks;
    private int _packsDone;

    internal void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        _transA = transA; _transB = transB; _m = m; _n = n; _k = k; _alpha = alpha; _beta = beta;
        _a = a; _b = b; _c = c; _lda = lda; _ldb = ldb; _ldc = ldc;
        _kern = GemmKernelTable.For(Gemm.KernelOverride);
        int mr = _kern.MR, nr = _kern.NR;

        double flops = 2.0 * m * n * k;
        _threads = (int)Math.Clamp(flops / MinFlopsPerThread, 1, CpuThreads.Count);
        _mode = !transB && m <= DirectMaxRows ? Mode.Direct
            : transB && _kern.HasDotKernel && m <= DotMaxRows && 4L * m * k <= PanelBytes ? Mode.Dot
            : n >= m ? Mode.SplitN : Mode.SplitM;
        if (_mode == Mode.Dot)
        {
            RunDot();
            return;
        }

        // Balanced k blocks: K = 1000 becomes 2 x 500, not 768 + 232.
        int kcMax = KcMax;
        if (_mode == Mode.SplitM)
        {
            // Every A tile streams past the shared B block (kc x n), which should therefore stay in L2;
            // a shorter kc is cheaper than splitting n, which would pack each A tile once per column block.
            kcMax = Math.Clamp(PanelBytes / (4 * RoundUp(n, nr)), Math.Min(256, KcMax), KcMax);
        }
        _kBlocks = (k + kcMax - 1) / kcMax;
        _kcStride = (k + _kBlocks - 1) / _kBlocks;
        long kPadded = (long)_kBlocks * _kcStride;

        if (_mode == Mode.SplitM)
        {
            // One k block of the shared B (kc x ncBlock) must fit the L2 panel; all of k must fit SharedBytes.
            long ncFit = Math.Min(SharedBytes / (4 * kPadded), PanelBytes / (4L * _kcStride));
            int ncBlock = (int)Math.Clamp(ncFit / nr * nr, nr, RoundUp(n, nr));
            for (_j0 = 0; _j0 < n; _j0 += ncBlock)
            {
                _nb = Math.Min(ncBlock, n - _j0);
                _i0 = 0; _mb = m;
                _sharedTiles = (_nb + nr - 1) / nr;
                _chunkUnits = (m + mr - 1) / mr;
                // A chunk packs its A tiles for one k block at a time; keep them within half a panel (L2).
                int maxTiles = Math.Max(1, PanelBytes / 2 / (4 * mr * _kcStride));
                int chunks = (_chunkUnits + maxTiles - 1) / maxTiles;
                if (_threads > 1) chunks = Math.Max(chunks, _threads * ChunksPerThread);
                _chunks = Math.Min(chunks, _chunkUnits);
                RunBlock(_sharedTiles * nr * kPadded);
            }
        }
        else
        {
            int mcBlock = (int)Math.Clamp(SharedBytes / (4 * kPadded) / mr * mr, mr, RoundUp(m, mr));
            for (_i0 = 0; _i0 < m; _i0 += mcBlock)
            {
                _mb = Math.Min(mcBlock, m - _i0);
                _j0 = 0; _nb = n;
                _sharedTiles = (_mb + mr - 1) / mr;
                _chunkUnits = (n + nr - 1) / nr;
                int chunks = 1;
                if (_mode == Mode.SplitN)
                {
                    int maxSlivers = Math.Max(1, PanelBytes / (4 * _kcStride * nr));
                    chunks = (_chunkUnits + maxSlivers - 1) / maxSlivers;
                }
                if (_threads > 1) chunks = Math.Max(chunks, _threads * ChunksPerThread);
                _chunks = Math.Min(chunks, _chunkUnits);
                RunBlock(_sharedTiles * mr * kPadded);
            }
        }
        _a = _b = _c = null;
    }

    /// <summary>Small M with Bᵀ: inner products over all of k (see <see cref="GemmDotKernel"/>).</summary>
    private void RunDot()
    {
        _kBlocks = 1;
        _kcStride = _k;
        _i0 = 0; _mb = _m; _j0 = 0; _nb = _n;
        _sharedTiles = 1;
        _chunkUnits = (_n + GemmDotKernel.Block - 1) / GemmDotKernel.Block;
        _chunks = _threads > 1 ? Math.Min(_chunkUnits, _threads * ChunksPerThread) : 1;
        // A is read in place; only a transposed A (stored k x m) is first copied to row-major m x k.
        RunBlock(_transA ? (long)_m * _k : 0);
        _a = _b = _c = null;
    }

    private void RunBlock(long sharedFloats)
    {
        _shared = sharedFloats > 0 ? _sharedBuffer.Get(sharedFloats) : null;
        int threads = Math.Min(_threads, _chunks);
        // Pack the shared operand in parallel only when it is big enough to be worth splitting.
        _packItems = sharedFloats == 0 ? 0
            : threads > 1 && sharedFloats >= 65536 && _mode != Mode.Dot ? Math.Min(_sharedTiles, 2 * threads) : 1;
        _packsDone = 0;
        CpuThreadPool.ParallelFor(_packItems + _chunks, this, threads);
    }

    /// <summary>Pool entry point: items [0, packItems) pack the shared operand, the rest are chunks.</summary>
    public void Execute(int index)
    {
        if (index < _packItems)
        {
            PackShared(index);
            Interlocked.Increment(ref _packsDone);
            return;
        }
        if (Volatile.Read(ref _packsDone) < _packItems)
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _packsDone) < _packItems) spin.SpinOnce(sleep1Threshold: -1);
        }
        int chunk = index - _packItems;
        int u0 = (int)((long)_chunkUnits * chunk / _chunks);
        int u1 = (int)((long)_chunkUnits * (chunk + 1) / _chunks);
        switch (_mode)
        {
            case Mode.SplitN: ChunkSplitN(u0, u1); break;
            case Mode.SplitM: ChunkSplitM(u0, u1); break;
            case Mode.Direct: ChunkDirect(u0, u1); break;
            default: ChunkDot(u0, u1); break;
        }
    }

    /// <summary>Start, length and beta of k block <paramref name="kb"/>.</summary>
    private (int P0, int Kc, float Beta) KBlock(int kb)
    {
        int p0 = kb * _kcStride;
        return (p0, Math.Min(_kcStride, _k - p0), kb == 0 ? _beta : 1f);
    }

    /// <summary>Packed tile <paramref name="t"/> of k block <paramref name="kb"/> in the shared buffer.</summary>
    private float* SharedTile(int kb, int t, int width) => _shared + ((long)kb * _sharedTiles + t) * width * _kcStride;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackShared(int item)
    {
        int t0 = (int)((long)_sharedTiles * item / _packItems);
        int t1 = (int)((long)_sharedTiles * (item + 1) / _packItems);
        if (t0 == t1) return;
        int mr = _kern.MR, nr = _kern.NR;
        if (_mode == Mode.Dot)
        {
            // Aᵀ (stored k x m) to row-major m x k: "rows" of the stored matrix become columns.
            GemmPacking.PackTransposed(_a, _lda, _k, _m, _shared, _k, _kern.SimdPacking);
            return;
        }
        for (int kb = 0; kb < _kBlocks; kb++)
        {
            (int p0, int kc, _) = KBlock(kb);
            if (_mode == Mode.SplitM)
            {
                int j = _j0 + t0 * nr;
                GemmPacking.PackB(_transB, _b, _ldb, j, Math.Min(t1 * nr, _nb) - t0 * nr, p0, kc,
                    SharedTile(kb, t0, nr), nr, (nint)nr * _kcStride, _kern.SimdPacking);
            }
            else
            {
                int i = _i0 + t0 * mr;
                GemmPacking.PackA(_transA, _a, _lda, i, Math.Min(t1 * mr, _mb) - t0 * mr, p0, kc,
                    SharedTile(kb, t0, mr), mr, (nint)mr * _kcStride, _kern.SimdPacking);
            }
        }
    }

    /// <summary>Column slivers [s0, s1): per k block, pack them as a private panel (L2), then sweep every shared A tile over it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChunkSplitN(int s0, int s1)
    {
        int mr = _kern.MR, nr = _kern.NR;
        nint sliverSize = (nint)nr * _kcStride;
        float* panel = (t_private ??= new PinnedBuffer()).Get((long)(s1 - s0) * sliverSize);
        for (int kb = 0; kb < _kBlocks; kb++)
        {
            (int p0, int kc, float beta) = KBlock(kb);
            GemmPacking.PackB(_transB, _b, _ldb, s0 * nr, Math.Min(s1 * nr, _n) - s0 * nr, p0, kc,
                panel, nr, sliverSize, _kern.SimdPacking);
            for (int t = 0; t < _sharedTiles; t++)
            {
                int i = _i0 + t * mr;
                int rows = Math.Min(mr, _i0 + _mb - i);
                float* aTile = SharedTile(kb, t, mr);
                for (int s = s0; s < s1; s++)
                {
                    int j = s * nr;
                    Tile(kc, beta, aTile, rows, panel + (s - s0) * sliverSize, nr, Math.Min(nr, _n - j), _c + i * _ldc + j);
                }
            }
        }
    }

    /// <summary>A tiles [t0, t1): per k block, pack them privately (L2) and sweep each over the shared B block (L2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChunkSplitM(int t0, int t1)
    {
        int mr = _kern.MR, nr = _kern.NR;
        nint tileSize = (nint)mr * _kcStride;
        float* tiles = (t_private ??= new PinnedBuffer()).Get((long)(t1 - t0) * tileSize);
        for (int kb = 0; kb < _kBlocks; kb++)
        {
            (int p0, int kc, float beta) = KBlock(kb);
            GemmPacking.PackA(_transA, _a, _lda, t0 * mr, Math.Min(t1 * mr, _m) - t0 * mr, p0, kc,
                tiles, mr, tileSize, _kern.SimdPacking);
            for (int t = t0; t < t1; t++)
            {
                int i = t * mr;
                int rows = Math.Min(mr, _m - i);
                float* aTile = tiles + (t - t0) * tileSize;
                for (int s = 0; s < _sharedTiles; s++)
                {
                    int j = _j0 + s * nr;
                    Tile(kc, beta, aTile, rows, SharedTile(kb, s, nr), nr, Math.Min(nr, _j0 + _nb - j), _c + i * _ldc + j);
                }
            }
        }
    }

    /// <summary>Column slivers [s0, s1) read straight from B (row stride ldb); all of A is in the shared buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChunkDirect(int s0, int s1)
    {
        int mr = _kern.MR, nr = _kern.NR;
        for (int s = s0; s < s1; s++)
        {
            int j = s * nr;
            int cols = Math.Min(nr, _n - j);
            // A ragged right edge is packed: the kernel reads whole vectors, which could run past B's last row.
            _kern.Get(1, cols, false, out int width);
            bool pack = cols != width;
            for (int kb = 0; kb < _kBlocks; kb++)
            {
                (int p0, int kc, float beta) = KBlock(kb);
                float* bSliver = _b + p0 * _ldb + j;
                nint bStride = _ldb;
                if (pack)
                {
                    bSliver = (t_private ??= new PinnedBuffer()).Get((long)nr * kc);
                    GemmPacking.PackB(false, _b, _ldb, j, cols, p0, kc, bSliver, nr, (nint)nr * kc, _kern.SimdPacking);
                    bStride = nr;
                }
                for (int t = 0; t < _sharedTiles; t++)
                {
                    int i = _i0 + t * mr;
                    Tile(kc, beta, SharedTile(kb, t, mr), Math.Min(mr, _i0 + _mb - i), bSliver, bStride, cols, _c + i * _ldc + j,
                        prefetchB: !pack && t == 0); // the first tile pulls the sliver in; the rest hit cache
                }
            }
        }
    }

    /// <summary>Column blocks [u0, u1) of 4: each block's 4 rows of the stored B stay in L1 while A's rows stream past.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChunkDot(int u0, int u1)
    {
        const int bs = GemmDotKernel.Block;
        float* aRows = _transA ? _shared : _a;
        nint ldaRows = _transA ? _k : _lda;
        var table = GemmDotKernel.Avx512Table;
        for (int u = u0; u < u1; u++)
        {
            int j = u * bs;
            int cols = Math.Min(bs, _n - j);
            for (int i = 0; i < _m; i += bs)
            {
                int rows = Math.Min(bs, _m - i);
                table[(rows - 1) * bs + (cols - 1)](_k, aRows + i * ldaRows, ldaRows, _b + j * _ldb, _ldb,
                    _c + i * _ldc + j, _ldc, _alpha, _beta);
            }
        }
    }

    /// <summary>One register tile: C[rows x cols] at <paramref name="c"/> (op)= alpha·Ã·B̃.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Tile(int kc, float beta, float* aTile, int rows, float* b, nint bStride, int cols, float* c, bool prefetchB = false)
    {
        var kernel = _kern.Get(rows, cols, prefetchB, out int width);
        if (cols == width) kernel(kc, aTile, b, bStride, c, _ldc, _alpha, beta);
        else EdgeTile(kernel, kc, beta, aTile, rows, b, bStride, cols, c);
    }

    /// <summary>A tile narrower than the kernel: compute it into a scratch tile, then merge the valid columns.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EdgeTile(delegate*<int, float*, float*, nint, float*, nint, float, float, void> kernel,
        int kc, float beta, float* aTile, int rows, float* b, nint bStride, int cols, float* c)
    {
        int nr = _kern.NR;
        float* tmp = stackalloc float[12 * 64];
        kernel(kc, aTile, b, bStride, tmp, nr, _alpha, 0f);
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + r * _ldc;
            float* tr = tmp + r * nr;
            if (beta == 0f) for (int j = 0; j < cols; j++) cr[j] = tr[j];
            else for (int j = 0; j < cols; j++) cr[j] = tr[j] + beta * cr[j];
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
