using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyGrad.Backends.Cpu;

/// <summary>Which register-tile kernel the GEMM uses. <see cref="Auto"/> picks the widest the CPU runs fast.</summary>
internal enum GemmKernelKind
{
    /// <summary>Vector512 when accelerated, else Vector256 + FMA, else portable.</summary>
    Auto,
    /// <summary>12x32 tile of Vector512 accumulators (AVX-512F).</summary>
    Avx512,
    /// <summary>6x16 tile of Vector256 accumulators with FMA (AVX2 + FMA3).</summary>
    Avx2,
    /// <summary>4 x (2·Vector&lt;float&gt;.Count) tile in portable Vector&lt;T&gt; code, with scalar packing.</summary>
    Portable,
}

/// <summary>A compile-time integer for generic specialisation: the JIT folds <c>T.Value</c> to a constant.</summary>
internal interface IConstant { static abstract int Value { get; } }
internal struct N0 : IConstant { public static int Value => 0; }
internal struct N1 : IConstant { public static int Value => 1; }
internal struct N2 : IConstant { public static int Value => 2; }
internal struct N3 : IConstant { public static int Value => 3; }
internal struct N4 : IConstant { public static int Value => 4; }
internal struct N5 : IConstant { public static int Value => 5; }
internal struct N6 : IConstant { public static int Value => 6; }
internal struct N7 : IConstant { public static int Value => 7; }
internal struct N8 : IConstant { public static int Value => 8; }
internal struct N9 : IConstant { public static int Value => 9; }
internal struct N10 : IConstant { public static int Value => 10; }
internal struct N11 : IConstant { public static int Value => 11; }
internal struct N12 : IConstant { public static int Value => 12; }

/// <summary>
/// The register-tile ("micro") kernels: C[R x NV·W] (op)= alpha · Ã[R x kc] · B̃[kc x NV·W] where W is the
/// vector width. This is where all the FLOPs happen, so it is written to keep every accumulator in a
/// register for the whole k loop.
/// </summary>
/// <remarks>
/// <para>Shape of the 12x32 AVX-512 tile: each k step loads one row of the B sliver (two 16-float vectors)
/// and, for each of the 12 rows of A, broadcasts one float and issues two FMAs. That is 24 FMAs per 2 vector
/// loads, so the kernel is bound by the FMA units rather than by loads; 24 accumulators + 2 B vectors +
/// 1 broadcast fit in the 32 zmm registers. With 24 independent accumulators the 4-cycle FMA latency is
/// hidden. (Zen 4 splits a 512-bit FMA into two 256-bit halves, so the peak equals the AVX2 kernel's; the
/// wider tile still halves loop and load overhead.) The AVX2 6x16 tile is the same idea in 16 ymm registers.</para>
/// <para>A is packed so that the R values needed at step p are contiguous (<c>a[p*MR + r]</c>); each becomes
/// one <c>vbroadcastss</c> from memory (a load, no shuffle). B is read with a row stride <c>ldb</c>: the
/// packed sliver's width, or the caller's real leading dimension when B is read in place, in which case
/// the <c>TP</c> variant prefetches B rows ahead.</para>
/// <para>Each kernel is generic over the number of rows <c>TR</c>, vectors per row <c>TV</c> and prefetch
/// <c>TP</c>; value-type generics are specialised per instantiation, so the <c>if (TR.Value &gt; r)</c>
/// tests vanish and edge tiles (e.g. the 8 leftover rows when M = 20) run without padding work. The
/// instantiations are listed in <see cref="GemmKernelTable"/>.</para>
/// <para>Epilogue: C = alpha·acc + beta·C, and C is not read when beta == 0 (so NaN garbage there is ignored,
/// as BLAS requires). Every kernel writes a full NV·W columns; the driver handles ragged column edges.</para>
/// </remarks>
internal static unsafe class GemmMicroKernel
{
    /// <summary>
    /// How many k steps ahead the kernels prefetch B when they read it in place (the small-M "direct" path):
    /// rows of an unpacked B are a large stride apart, a pattern the hardware prefetcher does not follow,
    /// so with B in DRAM (an LSTM's recurrent weights after the big output layer has flushed the cache)
    /// each row would otherwise cost a full memory latency.
    /// </summary>
    internal static int PrefetchRowsAhead = 12;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRow(float* row, int floats)
    {
        Sse.Prefetch0(row);
        if (floats > 16) Sse.Prefetch0(row + 16);
        Sse.Prefetch0(row + floats - 1); // the row need not be cache-line aligned
    }

    // ---------------------------------------------------------------- AVX-512: 12 x 32
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static void Avx512<TR, TV, TP>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TR : struct, IConstant where TV : struct, IConstant where TP : struct, IConstant
    {
        const int MR = 12;
        bool two = TV.Value == 2;
        nint ahead = PrefetchRowsAhead * ldb;
        // Touch the C tile now so its cache misses overlap with the k loop instead of stalling the epilogue.
        for (int r = 0; r < TR.Value; r++) { Sse.Prefetch0(c + r * ldc); if (two) Sse.Prefetch0(c + r * ldc + 16); }

        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector512<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        Vector512<float> c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default;
        Vector512<float> c9a = default, c9b = default, cAa = default, cAb = default, cBa = default, cBb = default;
        for (int p = 0; p < kc; p++)
        {
            if (TP.Value != 0) PrefetchRow(b + ahead, two ? 32 : 16);
            Vector512<float> b0 = Vector512.Load(b);
            Vector512<float> b1 = two ? Vector512.Load(b + 16) : default;
            Vector512<float> s;
            s = Vector512.Create(a[0]); c0a = Avx512F.FusedMultiplyAdd(s, b0, c0a); if (two) c0b = Avx512F.FusedMultiplyAdd(s, b1, c0b);
            if (TR.Value > 1) { s = Vector512.Create(a[1]); c1a = Avx512F.FusedMultiplyAdd(s, b0, c1a); if (two) c1b = Avx512F.FusedMultiplyAdd(s, b1, c1b); }
            if (TR.Value > 2) { s = Vector512.Create(a[2]); c2a = Avx512F.FusedMultiplyAdd(s, b0, c2a); if (two) c2b = Avx512F.FusedMultiplyAdd(s, b1, c2b); }
            if (TR.Value > 3) { s = Vector512.Create(a[3]); c3a = Avx512F.FusedMultiplyAdd(s, b0, c3a); if (two) c3b = Avx512F.FusedMultiplyAdd(s, b1, c3b); }
            if (TR.Value > 4) { s = Vector512.Create(a[4]); c4a = Avx512F.FusedMultiplyAdd(s, b0, c4a); if (two) c4b = Avx512F.FusedMultiplyAdd(s, b1, c4b); }
            if (TR.Value > 5) { s = Vector512.Create(a[5]); c5a = Avx512F.FusedMultiplyAdd(s, b0, c5a); if (two) c5b = Avx512F.FusedMultiplyAdd(s, b1, c5b); }
            if (TR.Value > 6) { s = Vector512.Create(a[6]); c6a = Avx512F.FusedMultiplyAdd(s, b0, c6a); if (two) c6b = Avx512F.FusedMultiplyAdd(s, b1, c6b); }
            if (TR.Value > 7) { s = Vector512.Create(a[7]); c7a = Avx512F.FusedMultiplyAdd(s, b0, c7a); if (two) c7b = Avx512F.FusedMultiplyAdd(s, b1, c7b); }
            if (TR.Value > 8) { s = Vector512.Create(a[8]); c8a = Avx512F.FusedMultiplyAdd(s, b0, c8a); if (two) c8b = Avx512F.FusedMultiplyAdd(s, b1, c8b); }
            if (TR.Value > 9) { s = Vector512.Create(a[9]); c9a = Avx512F.FusedMultiplyAdd(s, b0, c9a); if (two) c9b = Avx512F.FusedMultiplyAdd(s, b1, c9b); }
            if (TR.Value > 10) { s = Vector512.Create(a[10]); cAa = Avx512F.FusedMultiplyAdd(s, b0, cAa); if (two) cAb = Avx512F.FusedMultiplyAdd(s, b1, cAb); }
            if (TR.Value > 11) { s = Vector512.Create(a[11]); cBa = Avx512F.FusedMultiplyAdd(s, b0, cBa); if (two) cBb = Avx512F.FusedMultiplyAdd(s, b1, cBb); }
            a += MR;
            b += ldb;
        }
        Store512(c, c0a, c0b, two, alpha, beta);
        if (TR.Value > 1) Store512(c + ldc, c1a, c1b, two, alpha, beta);
        if (TR.Value > 2) Store512(c + 2 * ldc, c2a, c2b, two, alpha, beta);
        if (TR.Value > 3) Store512(c + 3 * ldc, c3a, c3b, two, alpha, beta);
        if (TR.Value > 4) Store512(c + 4 * ldc, c4a, c4b, two, alpha, beta);
        if (TR.Value > 5) Store512(c + 5 * ldc, c5a, c5b, two, alpha, beta);
        if (TR.Value > 6) Store512(c + 6 * ldc, c6a, c6b, two, alpha, beta);
        if (TR.Value > 7) Store512(c + 7 * ldc, c7a, c7b, two, alpha, beta);
        if (TR.Value > 8) Store512(c + 8 * ldc, c8a, c8b, two, alpha, beta);
        if (TR.Value > 9) Store512(c + 9 * ldc, c9a, c9b, two, alpha, beta);
        if (TR.Value > 10) Store512(c + 10 * ldc, cAa, cAb, two, alpha, beta);
        if (TR.Value > 11) Store512(c + 11 * ldc, cBa, cBb, two, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> x0, Vector512<float> x1, bool two, float alpha, float beta)
    {
        Vector512<float> va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            (x0 * va).Store(c);
            if (two) (x1 * va).Store(c + 16);
        }
        else
        {
            Vector512<float> vb = Vector512.Create(beta);
            Avx512F.FusedMultiplyAdd(x0, va, Vector512.Load(c) * vb).Store(c);
            if (two) Avx512F.FusedMultiplyAdd(x1, va, Vector512.Load(c + 16) * vb).Store(c + 16);
        }
    }

    /// <summary>
    /// 12 x 8 companion of the AVX-512 kernel for a ragged right edge of at most 8 columns (N = 200 and
    /// N = 2600 both end in one): half the FMA work of running a 16-wide vector over 8 useful columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static void Avx512Narrow<TR, TP>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TR : struct, IConstant where TP : struct, IConstant
    {
        const int MR = 12;
        nint ahead = PrefetchRowsAhead * ldb;
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector256<float> c6 = default, c7 = default, c8 = default, c9 = default, cA = default, cB = default;
        for (int p = 0; p < kc; p++)
        {
            if (TP.Value != 0) PrefetchRow(b + ahead, 8);
            Vector256<float> b0 = Vector256.Load(b);
            c0 = Fma.MultiplyAdd(Vector256.Create(a[0]), b0, c0);
            if (TR.Value > 1) c1 = Fma.MultiplyAdd(Vector256.Create(a[1]), b0, c1);
            if (TR.Value > 2) c2 = Fma.MultiplyAdd(Vector256.Create(a[2]), b0, c2);
            if (TR.Value > 3) c3 = Fma.MultiplyAdd(Vector256.Create(a[3]), b0, c3);
            if (TR.Value > 4) c4 = Fma.MultiplyAdd(Vector256.Create(a[4]), b0, c4);
            if (TR.Value > 5) c5 = Fma.MultiplyAdd(Vector256.Create(a[5]), b0, c5);
            if (TR.Value > 6) c6 = Fma.MultiplyAdd(Vector256.Create(a[6]), b0, c6);
            if (TR.Value > 7) c7 = Fma.MultiplyAdd(Vector256.Create(a[7]), b0, c7);
            if (TR.Value > 8) c8 = Fma.MultiplyAdd(Vector256.Create(a[8]), b0, c8);
            if (TR.Value > 9) c9 = Fma.MultiplyAdd(Vector256.Create(a[9]), b0, c9);
            if (TR.Value > 10) cA = Fma.MultiplyAdd(Vector256.Create(a[10]), b0, cA);
            if (TR.Value > 11) cB = Fma.MultiplyAdd(Vector256.Create(a[11]), b0, cB);
            a += MR;
            b += ldb;
        }
        Store256(c, c0, default, false, alpha, beta);
        if (TR.Value > 1) Store256(c + ldc, c1, default, false, alpha, beta);
        if (TR.Value > 2) Store256(c + 2 * ldc, c2, default, false, alpha, beta);
        if (TR.Value > 3) Store256(c + 3 * ldc, c3, default, false, alpha, beta);
        if (TR.Value > 4) Store256(c + 4 * ldc, c4, default, false, alpha, beta);
        if (TR.Value > 5) Store256(c + 5 * ldc, c5, default, false, alpha, beta);
        if (TR.Value > 6) Store256(c + 6 * ldc, c6, default, false, alpha, beta);
        if (TR.Value > 7) Store256(c + 7 * ldc, c7, default, false, alpha, beta);
        if (TR.Value > 8) Store256(c + 8 * ldc, c8, default, false, alpha, beta);
        if (TR.Value > 9) Store256(c + 9 * ldc, c9, default, false, alpha, beta);
        if (TR.Value > 10) Store256(c + 10 * ldc, cA, default, false, alpha, beta);
        if (TR.Value > 11) Store256(c + 11 * ldc, cB, default, false, alpha, beta);
    }

    // ---------------------------------------------------------------- AVX2 + FMA: 6 x 16
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static void Avx2<TR, TV, TP>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TR : struct, IConstant where TV : struct, IConstant where TP : struct, IConstant
    {
        const int MR = 6;
        bool two = TV.Value == 2;
        nint ahead = PrefetchRowsAhead * ldb;
        for (int r = 0; r < TR.Value; r++) { Sse.Prefetch0(c + r * ldc); if (two) Sse.Prefetch0(c + r * ldc + 8); }

        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector256<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        for (int p = 0; p < kc; p++)
        {
            if (TP.Value != 0) PrefetchRow(b + ahead, two ? 16 : 8);
            Vector256<float> b0 = Vector256.Load(b);
            Vector256<float> b1 = two ? Vector256.Load(b + 8) : default;
            Vector256<float> s;
            s = Vector256.Create(a[0]); c0a = Fma.MultiplyAdd(s, b0, c0a); if (two) c0b = Fma.MultiplyAdd(s, b1, c0b);
            if (TR.Value > 1) { s = Vector256.Create(a[1]); c1a = Fma.MultiplyAdd(s, b0, c1a); if (two) c1b = Fma.MultiplyAdd(s, b1, c1b); }
            if (TR.Value > 2) { s = Vector256.Create(a[2]); c2a = Fma.MultiplyAdd(s, b0, c2a); if (two) c2b = Fma.MultiplyAdd(s, b1, c2b); }
            if (TR.Value > 3) { s = Vector256.Create(a[3]); c3a = Fma.MultiplyAdd(s, b0, c3a); if (two) c3b = Fma.MultiplyAdd(s, b1, c3b); }
            if (TR.Value > 4) { s = Vector256.Create(a[4]); c4a = Fma.MultiplyAdd(s, b0, c4a); if (two) c4b = Fma.MultiplyAdd(s, b1, c4b); }
            if (TR.Value > 5) { s = Vector256.Create(a[5]); c5a = Fma.MultiplyAdd(s, b0, c5a); if (two) c5b = Fma.MultiplyAdd(s, b1, c5b); }
            a += MR;
            b += ldb;
        }
        Store256(c, c0a, c0b, two, alpha, beta);
        if (TR.Value > 1) Store256(c + ldc, c1a, c1b, two, alpha, beta);
        if (TR.Value > 2) Store256(c + 2 * ldc, c2a, c2b, two, alpha, beta);
        if (TR.Value > 3) Store256(c + 3 * ldc, c3a, c3b, two, alpha, beta);
        if (TR.Value > 4) Store256(c + 4 * ldc, c4a, c4b, two, alpha, beta);
        if (TR.Value > 5) Store256(c + 5 * ldc, c5a, c5b, two, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> x0, Vector256<float> x1, bool two, float alpha, float beta)
    {
        Vector256<float> va = Vector256.Create(alpha);
        if (beta == 0f)
        {
            (x0 * va).Store(c);
            if (two) (x1 * va).Store(c + 8);
        }
        else
        {
            Vector256<float> vb = Vector256.Create(beta);
            Fma.MultiplyAdd(x0, va, Vector256.Load(c) * vb).Store(c);
            if (two) Fma.MultiplyAdd(x1, va, Vector256.Load(c + 8) * vb).Store(c + 8);
        }
    }

    // ---------------------------------------------------------------- portable: 4 x (2 * Vector<float>.Count)
    // Runs anywhere (Vector<T> falls back to scalar code where there is no SIMD); Vector<float>.Count is a JIT-time
    // constant, so this is still a register-tiled kernel on x64 (8 lanes) and arm64 (4 lanes).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static void Portable<TR, TV>(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TR : struct, IConstant where TV : struct, IConstant
    {
        const int MR = 4;
        int w = Vector<float>.Count;
        bool two = TV.Value == 2;
        Vector<float> c0a = default, c0b = default, c1a = default, c1b = default;
        Vector<float> c2a = default, c2b = default, c3a = default, c3b = default;
        for (int p = 0; p < kc; p++)
        {
            Vector<float> b0 = Unsafe.ReadUnaligned<Vector<float>>(b);
            Vector<float> b1 = two ? Unsafe.ReadUnaligned<Vector<float>>(b + w) : default;
            Vector<float> s;
            s = new Vector<float>(a[0]); c0a += s * b0; if (two) c0b += s * b1;
            if (TR.Value > 1) { s = new Vector<float>(a[1]); c1a += s * b0; if (two) c1b += s * b1; }
            if (TR.Value > 2) { s = new Vector<float>(a[2]); c2a += s * b0; if (two) c2b += s * b1; }
            if (TR.Value > 3) { s = new Vector<float>(a[3]); c3a += s * b0; if (two) c3b += s * b1; }
            a += MR;
            b += ldb;
        }
        StorePortable(c, c0a, c0b, two, alpha, beta);
        if (TR.Value > 1) StorePortable(c + ldc, c1a, c1b, two, alpha, beta);
        if (TR.Value > 2) StorePortable(c + 2 * ldc, c2a, c2b, two, alpha, beta);
        if (TR.Value > 3) StorePortable(c + 3 * ldc, c3a, c3b, two, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePortable(float* c, Vector<float> x0, Vector<float> x1, bool two, float alpha, float beta)
    {
        int w = Vector<float>.Count;
        if (beta == 0f)
        {
            Unsafe.WriteUnaligned(c, x0 * alpha);
            if (two) Unsafe.WriteUnaligned(c + w, x1 * alpha);
        }
        else
        {
            Unsafe.WriteUnaligned(c, x0 * alpha + Unsafe.ReadUnaligned<Vector<float>>(c) * beta);
            if (two) Unsafe.WriteUnaligned(c + w, x1 * alpha + Unsafe.ReadUnaligned<Vector<float>>(c + w) * beta);
        }
    }
}
