using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyGrad.Backends.Cpu;

/// <summary>
/// An inner-product kernel for C = A·Bᵀ with few rows (the LSTM's recurrent backward step,
/// dh = dgates · Wᵀ with M = 20): it reads A and B in place and needs no packing at all.
/// </summary>
/// <remarks>
/// <para>When B is transposed, row j of the stored B is column j of op(B), contiguous along k, exactly like
/// the rows of A. So C[i,j] is a dot product of two contiguous rows. The outer-product kernel would first
/// have to transpose-pack all of B (K x N floats) on every call, for only M·N·K·2 FLOPs of work: with
/// M = 20 the packing costs about as much as the multiply. Here a 4 x 4 block of C is accumulated as 16
/// vectors along k (16 FMAs per 8 loads, all from L1/L2), then each vector is reduced to its sum.</para>
/// <para>A block of 4 rows of B (4·K floats, 12.8 KB at K = 800) stays in L1 while all of A's row blocks
/// stream past it. k is never blocked, so C is read and written once.</para>
/// </remarks>
internal static unsafe class GemmDotKernel
{
    /// <summary>Rows/columns of C per kernel call.</summary>
    internal const int Block = 4;

    /// <summary>Whether this kernel can run here (it is used alongside the AVX-512 micro-kernel).</summary>
    internal static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>
    /// C[r, j] = alpha · Σ_p a[r·lda + p] · b[j·ldb + p] + beta · C[r, j] for r &lt; TR, j &lt; TC.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static void Avx512<TR, TC>(int k, float* a, nint lda, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
        where TR : struct, IConstant where TC : struct, IConstant
    {
        int R = TR.Value, C = TC.Value;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        float* b0 = b, b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        for (int p = 0; p < k; p += 16)
        {
            Vector512<float> x0, x1 = default, x2 = default, x3 = default, y0, y1 = default, y2 = default, y3 = default;
            if (p + 16 <= k)
            {
                x0 = Vector512.Load(a0 + p);
                if (R > 1) x1 = Vector512.Load(a1 + p);
                if (R > 2) x2 = Vector512.Load(a2 + p);
                if (R > 3) x3 = Vector512.Load(a3 + p);
                y0 = Vector512.Load(b0 + p);
                if (C > 1) y1 = Vector512.Load(b1 + p);
                if (C > 2) y2 = Vector512.Load(b2 + p);
                if (C > 3) y3 = Vector512.Load(b3 + p);
            }
            else
            {
                // The last k % 16 elements: masked loads read zeros past the end and never fault.
                Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(k - p)).AsSingle();
                Vector512<float> z = Vector512<float>.Zero;
                x0 = Avx512F.MaskLoad(a0 + p, mask, z);
                if (R > 1) x1 = Avx512F.MaskLoad(a1 + p, mask, z);
                if (R > 2) x2 = Avx512F.MaskLoad(a2 + p, mask, z);
                if (R > 3) x3 = Avx512F.MaskLoad(a3 + p, mask, z);
                y0 = Avx512F.MaskLoad(b0 + p, mask, z);
                if (C > 1) y1 = Avx512F.MaskLoad(b1 + p, mask, z);
                if (C > 2) y2 = Avx512F.MaskLoad(b2 + p, mask, z);
                if (C > 3) y3 = Avx512F.MaskLoad(b3 + p, mask, z);
            }
            c00 = Avx512F.FusedMultiplyAdd(x0, y0, c00);
            if (C > 1) c01 = Avx512F.FusedMultiplyAdd(x0, y1, c01);
            if (C > 2) c02 = Avx512F.FusedMultiplyAdd(x0, y2, c02);
            if (C > 3) c03 = Avx512F.FusedMultiplyAdd(x0, y3, c03);
            if (R > 1)
            {
                c10 = Avx512F.FusedMultiplyAdd(x1, y0, c10);
                if (C > 1) c11 = Avx512F.FusedMultiplyAdd(x1, y1, c11);
                if (C > 2) c12 = Avx512F.FusedMultiplyAdd(x1, y2, c12);
                if (C > 3) c13 = Avx512F.FusedMultiplyAdd(x1, y3, c13);
            }
            if (R > 2)
            {
                c20 = Avx512F.FusedMultiplyAdd(x2, y0, c20);
                if (C > 1) c21 = Avx512F.FusedMultiplyAdd(x2, y1, c21);
                if (C > 2) c22 = Avx512F.FusedMultiplyAdd(x2, y2, c22);
                if (C > 3) c23 = Avx512F.FusedMultiplyAdd(x2, y3, c23);
            }
            if (R > 3)
            {
                c30 = Avx512F.FusedMultiplyAdd(x3, y0, c30);
                if (C > 1) c31 = Avx512F.FusedMultiplyAdd(x3, y1, c31);
                if (C > 2) c32 = Avx512F.FusedMultiplyAdd(x3, y2, c32);
                if (C > 3) c33 = Avx512F.FusedMultiplyAdd(x3, y3, c33);
            }
        }
        StoreRow(c, Sum4(c00, c01, c02, c03), C, alpha, beta);
        if (R > 1) StoreRow(c + ldc, Sum4(c10, c11, c12, c13), C, alpha, beta);
        if (R > 2) StoreRow(c + 2 * ldc, Sum4(c20, c21, c22, c23), C, alpha, beta);
        if (R > 3) StoreRow(c + 3 * ldc, Sum4(c30, c31, c32, c33), C, alpha, beta);
    }

    /// <summary>[sum(v0), sum(v1), sum(v2), sum(v3)]: fold 512 to 256 bits, then three horizontal adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
    {
        Vector256<float> h0 = v0.GetLower() + v0.GetUpper(), h1 = v1.GetLower() + v1.GetUpper();
        Vector256<float> h2 = v2.GetLower() + v2.GetUpper(), h3 = v3.GetLower() + v3.GetUpper();
        Vector256<float> s = Avx.HorizontalAdd(Avx.HorizontalAdd(h0, h1), Avx.HorizontalAdd(h2, h3));
        return s.GetLower() + s.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector128<float> sums, int cols, float alpha, float beta)
    {
        sums *= alpha;
        if (cols == 4)
        {
            (beta == 0f ? sums : sums + Vector128.Load(c) * beta).Store(c);
            return;
        }
        for (int j = 0; j < cols; j++) c[j] = beta == 0f ? sums.GetElement(j) : sums.GetElement(j) + beta * c[j];
    }

    /// <summary>Kernels indexed by <c>(rows - 1) * 4 + (cols - 1)</c>.</summary>
    internal static readonly delegate*<int, float*, nint, float*, nint, float*, nint, float, float, void>[] Avx512Table =
    [
        &Avx512<N1, N1>, &Avx512<N1, N2>, &Avx512<N1, N3>, &Avx512<N1, N4>,
        &Avx512<N2, N1>, &Avx512<N2, N2>, &Avx512<N2, N3>, &Avx512<N2, N4>,
        &Avx512<N3, N1>, &Avx512<N3, N2>, &Avx512<N3, N3>, &Avx512<N3, N4>,
        &Avx512<N4, N1>, &Avx512<N4, N2>, &Avx512<N4, N3>, &Avx512<N4, N4>,
    ];
}
