namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cpu;
using TinyGrad.Backends.Cuda;

// The row-major → column-major mapping that the CUDA GEMM hands to cuBLAS, checked without a GPU: the mapped call is
// fed to a plain column-major reference GEMM (cuBLAS's definition, written out below) and the result must equal the
// CPU's row-major GEMM, for every transpose combination, with offsets, padded leading dimensions and batches.
public class GemmLayoutTests
{
    // cuBLAS semantics: C (column-major, M×N, ld ldc) = alpha·op(A)·op(B) + beta·C, element (i, j) at offset + i + j·ld;
    // op(A) (i, p) is A(i, p) = a[i + p·lda], or A(p, i) = a[p + i·lda] when transposed.
    private static void ColumnMajorGemm(ColumnMajorGemm g, float alpha, float[] a, float[] b, float beta, float[] c, int batches)
    {
        for (int batch = 0; batch < batches; batch++)
        {
            long ao = g.A.Offset + batch * g.A.Stride, bo = g.B.Offset + batch * g.B.Stride, co = g.C.Offset + batch * g.C.Stride;
            for (int i = 0; i < g.M; i++)
            {
                for (int j = 0; j < g.N; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < g.K; p++)
                    {
                        float av = g.TransA ? a[ao + p + (long)i * g.A.Ld] : a[ao + i + (long)p * g.A.Ld];
                        float bv = g.TransB ? b[bo + j + (long)p * g.B.Ld] : b[bo + p + (long)j * g.B.Ld];
                        sum += (double)av * bv;
                    }
                    long at = co + i + (long)j * g.C.Ld;
                    c[at] = (float)(alpha * sum + beta * c[at]);
                }
            }
        }
    }

    public static TheoryData<bool, bool, int, int, int> Shapes()
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        foreach (var (m, n, k) in new[] { (3, 5, 4), (1, 7, 2), (6, 1, 3), (5, 4, 1) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(ta, tb, m, n, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Mapped_column_major_call_equals_the_row_major_gemm(bool transA, bool transB, int m, int n, int k)
    {
        const int batches = 3, aOffset = 2, bOffset = 5, cOffset = 1;
        // Stored shapes (row-major) and leading dimensions wider than the minimum.
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + 2, ldb = bCols + 1, ldc = n + 3;
        long strideA = (long)aRows * lda + 4, strideB = (long)bRows * ldb + 3, strideC = (long)m * ldc + 2;
        var rng = new Generator(42);
        float[] Random(long length) => [.. Enumerable.Range(0, (int)length).Select(_ => rng.NextFloat() * 2 - 1)];
        var a = Random(aOffset + strideA * batches);
        var b = Random(bOffset + strideB * batches);
        var c0 = Random(cOffset + strideC * batches);
        const float alpha = 0.75f, beta = -0.5f;

        var expected = (float[])c0.Clone();
        for (int i = 0; i < batches; i++)
            Gemm.Sgemm(transA, transB, m, n, k, alpha, a, (int)(aOffset + i * strideA), lda, b, (int)(bOffset + i * strideB), ldb,
                beta, expected, (int)(cOffset + i * strideC), ldc);

        var g = GemmLayout.ToColumnMajor(transA, transB, m, n, k, aOffset, lda, strideA, bOffset, ldb, strideB, cOffset, ldc, strideC);
        var actual = (float[])c0.Clone();
        // cuBLAS's first operand is the row-major B, its second the row-major A.
        ColumnMajorGemm(g, alpha, b, a, beta, actual, batches);

        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"element {i}: row-major {expected[i]}, mapped {actual[i]}");
    }

    [Fact]
    public void Mapping_swaps_operands_and_sizes_and_keeps_each_operands_flag()
    {
        var g = GemmLayout.ToColumnMajor(true, false, 2, 3, 4, 10, 2, 8, 20, 3, 12, 30, 3, 6);
        Assert.Equal((false, true, 3, 2, 4), (g.TransA, g.TransB, g.M, g.N, g.K));
        Assert.Equal(new GemmOperand(20, 3, 12), g.A);
        Assert.Equal(new GemmOperand(10, 2, 8), g.B);
        Assert.Equal(new GemmOperand(30, 3, 6), g.C);
    }
}
