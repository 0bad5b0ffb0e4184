using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyGrad.Backends.Cpu;

/// <summary>
/// Packing: copying a block of A or B into the exact order the micro-kernel reads it.
/// </summary>
/// <remarks>
/// <para>The micro-kernel walks k and at each step needs MR consecutive values of op(A) (one per tile row)
/// and NR consecutive values of op(B) (one per tile column). Packing lays each A tile out as
/// <c>[p][MR]</c> and each B sliver as <c>[p][NR]</c>, so the kernel reads both as a single forward
/// stream: no strided access, no TLB misses, and the hardware prefetcher sees a sequential pattern.
/// The copy costs O(m·k + k·n) while the multiply costs O(m·n·k), so it pays for itself once the
/// packed block is reused across enough tiles.</para>
/// <para>Transposes are absorbed here. Row-major A (not transposed) holds a tile's MR values for one p in
/// MR different rows, so packing it is a transpose (<see cref="PackTransposed"/>); a transposed A
/// (stored k x m) already has them adjacent, so packing is a strided copy (<see cref="PackCopy"/>).
/// B is the mirror image: B (k x n) is copied, Bᵀ (stored n x k) is transposed. No transposed matrix is
/// ever materialised.</para>
/// <para>Both routines zero-fill the padding columns up to the packed width, so kernels can always read
/// full vectors and padded lanes contribute exact zeros.</para>
/// </remarks>
internal static unsafe class GemmPacking
{
    /// <summary>How many rows ahead <see cref="PackCopy"/> prefetches when its rows are strided.</summary>
    internal static int PrefetchRows = 8;
    /// <summary>How far ahead along each row <see cref="PackTransposed"/> prefetches (0 = off).</summary>
    internal static int PrefetchFloats = 128;

    /// <summary>
    /// Copies <paramref name="cols"/> contiguous columns of <paramref name="kc"/> rows (row stride
    /// <paramref name="ld"/>) into consecutive tiles of <paramref name="width"/> columns: tile t starts at
    /// dst + t*tileStride and holds dst[p*width + j] = src[p*ld + t*width + j]; the last tile is zero-padded.
    /// </summary>
    /// <remarks>
    /// Several tiles are packed in one sweep, row by row, so each source row is read as one contiguous run.
    /// Even so, a few hundred bytes per row at a large stride is a pattern the hardware prefetcher follows
    /// badly (a new page every row), so rows are software-prefetched <see cref="PrefetchRows"/> ahead:
    /// on Aᵀ·B with A stored 10000 x 700 that took one thread from 78 to 90 GFLOP/s.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip the slow tier-0 JIT
    internal static void PackCopy(float* src, nint ld, int cols, int kc, float* dst, int width, nint tileStride, bool simd)
    {
        int tiles = (cols + width - 1) / width;
        bool prefetch = simd && Sse.IsSupported && ld > cols;
        for (int p = 0; p < kc; p++)
        {
            float* s = src + p * ld;
            float* d = dst + (nint)p * width;
            if (prefetch && p + PrefetchRows < kc)
            {
                float* ahead = s + PrefetchRows * ld;
                for (int x = 0; x < cols; x += 16) Sse.Prefetch0(ahead + x);
                Sse.Prefetch0(ahead + cols - 1);
            }
            for (int t = 0; t < tiles; t++, s += width, d += tileStride)
            {
                int n = Math.Min(width, cols - t * width);
                int j = 0;
                if (simd)
                {
                    if (Vector256.IsHardwareAccelerated)
                    {
                        for (; j + 8 <= n; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
                    }
                    for (; j + 4 <= n; j += 4) Vector128.Store(Vector128.Load(s + j), d + j);
                }
                for (; j < n; j++) d[j] = s[j];
                for (; j < width; j++) d[j] = 0f;
            }
        }
    }

    /// <summary>
    /// dst[p*width + r] = src[r*ld + p] for r &lt; rows, and 0 for rows ≤ r &lt; width, for p in [0, kc):
    /// gathers <paramref name="rows"/> rows of length kc into interleaved columns.
    /// </summary>
    /// <remarks>
    /// The SIMD path transposes 4x4 blocks in SSE registers (4 loads, 8 shuffles, 4 stores per 16 floats,
    /// about a quarter cycle per element) instead of gathering one float at a time. This matters when the
    /// packed operand is only reused a few times, e.g. A in dA = dC·Bᵀ with N = 200.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackTransposed(float* src, nint ld, int rows, int kc, float* dst, int width, bool simd)
    {
        int r = 0;
        if (simd && Sse.IsSupported)
        {
            for (; r + 4 <= rows; r += 4)
            {
                float* s0 = src + r * ld, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld;
                float* d = dst + r;
                int p = 0;
                for (; p + 4 <= kc; p += 4)
                {
                    if ((p & 15) == 0 && PrefetchFloats > 0)
                    {
                        Sse.Prefetch0(s0 + p + PrefetchFloats); Sse.Prefetch0(s1 + p + PrefetchFloats);
                        Sse.Prefetch0(s2 + p + PrefetchFloats); Sse.Prefetch0(s3 + p + PrefetchFloats);
                    }
                    Vector128<float> x0 = Sse.LoadVector128(s0 + p), x1 = Sse.LoadVector128(s1 + p);
                    Vector128<float> x2 = Sse.LoadVector128(s2 + p), x3 = Sse.LoadVector128(s3 + p);
                    Vector128<float> t0 = Sse.UnpackLow(x0, x1);   // a0 b0 a1 b1
                    Vector128<float> t1 = Sse.UnpackLow(x2, x3);   // c0 d0 c1 d1
                    Vector128<float> t2 = Sse.UnpackHigh(x0, x1);  // a2 b2 a3 b3
                    Vector128<float> t3 = Sse.UnpackHigh(x2, x3);  // c2 d2 c3 d3
                    float* dp = d + (nint)p * width;
                    Sse.Store(dp, Sse.MoveLowToHigh(t0, t1));              // a0 b0 c0 d0
                    Sse.Store(dp + width, Sse.MoveHighToLow(t1, t0));      // a1 b1 c1 d1
                    Sse.Store(dp + 2 * width, Sse.MoveLowToHigh(t2, t3));  // a2 b2 c2 d2
                    Sse.Store(dp + 3 * width, Sse.MoveHighToLow(t3, t2));  // a3 b3 c3 d3
                }
                for (; p < kc; p++)
                {
                    float* dp = d + (nint)p * width;
                    dp[0] = s0[p]; dp[1] = s1[p]; dp[2] = s2[p]; dp[3] = s3[p];
                }
            }
        }
        for (; r < rows; r++)
        {
            float* s = src + r * ld;
            float* d = dst + r;
            for (int p = 0; p < kc; p++) d[(nint)p * width] = s[p];
        }
        if (rows < width)
        {
            for (int p = 0; p < kc; p++)
            {
                float* d = dst + (nint)p * width;
                for (int z = rows; z < width; z++) d[z] = 0f;
            }
        }
    }

    /// <summary>
    /// Packs rows [i0, i0 + rows) x k-range [p0, p0 + kc) of op(A) as consecutive A tiles (<c>[p][mr]</c>
    /// each, <paramref name="tileStride"/> floats apart).
    /// </summary>
    internal static void PackA(bool transA, float* a, nint lda, int i0, int rows, int p0, int kc,
        float* dst, int mr, nint tileStride, bool simd)
    {
        if (transA)
        {
            PackCopy(a + p0 * lda + i0, lda, rows, kc, dst, mr, tileStride, simd);          // A stored k x m
            return;
        }
        for (int t = 0; t * mr < rows; t++)                                                  // A stored m x k
        {
            PackTransposed(a + (i0 + t * mr) * lda + p0, lda, Math.Min(mr, rows - t * mr), kc, dst + t * tileStride, mr, simd);
        }
    }

    /// <summary>
    /// Packs columns [j0, j0 + cols) x k-range [p0, p0 + kc) of op(B) as consecutive B slivers (<c>[p][nr]</c>
    /// each, <paramref name="tileStride"/> floats apart).
    /// </summary>
    internal static void PackB(bool transB, float* b, nint ldb, int j0, int cols, int p0, int kc,
        float* dst, int nr, nint tileStride, bool simd)
    {
        if (!transB)
        {
            PackCopy(b + p0 * ldb + j0, ldb, cols, kc, dst, nr, tileStride, simd);          // B stored k x n
            return;
        }
        for (int t = 0; t * nr < cols; t++)                                                  // B stored n x k
        {
            PackTransposed(b + (j0 + t * nr) * ldb + p0, ldb, Math.Min(nr, cols - t * nr), kc, dst + t * tileStride, nr, simd);
        }
    }
}

/// <summary>
/// A growable, pinned, 64-byte-aligned float buffer for packed panels. Kept per thread (or per GEMM
/// context) and reused across calls, so a GEMM allocates nothing once warmed up.
/// </summary>
internal sealed unsafe class PinnedBuffer
{
    private float[] _array = [];
    private float* _aligned;

    /// <summary>Returns an aligned pointer to at least <paramref name="count"/> floats (contents undefined).</summary>
    public float* Get(long count)
    {
        if (_array.Length < count + 16)
        {
            // Grow geometrically so a sequence of slightly larger calls does not reallocate each time.
            long size = Math.Max(count + 16, Math.Min((long)_array.Length * 3 / 2, Array.MaxLength));
            size = Math.Max(size, count + 16);
            if (size > Array.MaxLength) throw new OutOfMemoryException($"GEMM packing buffer of {count} floats is too large.");
            // The pinned object heap never moves the array, so the raw pointer stays valid for its lifetime.
            _array = GC.AllocateUninitializedArray<float>((int)size, pinned: true);
            nint addr = (nint)Unsafe.AsPointer(ref _array[0]);
            _aligned = (float*)((addr + 63) & ~(nint)63);
        }
        return _aligned;
    }
}
