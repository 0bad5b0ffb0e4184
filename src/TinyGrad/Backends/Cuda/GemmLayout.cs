namespace TinyGrad.Backends.Cuda;

/// <summary>One operand of a column-major GEMM: where it starts, its leading dimension and its batch stride (all in elements).</summary>
/// <param name="Offset">Index of the first element in its storage.</param>
/// <param name="Ld">Leading dimension (distance between stored columns).</param>
/// <param name="Stride">Distance between consecutive batch entries.</param>
public readonly record struct GemmOperand(int Offset, int Ld, long Stride);

/// <summary>
/// A column-major GEMM as cuBLAS takes it: C = op(A)·op(B) with C [M, N] column-major, op(A) [M, K], op(B) [K, N];
/// when <see cref="TransA"/>, A is stored [K, M] column-major.
/// </summary>
/// <param name="TransA">Use Aᵀ.</param>
/// <param name="TransB">Use Bᵀ.</param>
/// <param name="M">Rows of C.</param>
/// <param name="N">Columns of C.</param>
/// <param name="K">The inner dimension.</param>
/// <param name="A">Where A is; it lives in the storage named by <see cref="AIsRowMajorB"/>.</param>
/// <param name="B">Where B is.</param>
/// <param name="C">Where C is.</param>
/// <param name="AIsRowMajorB">True: the column-major A is the row-major call's B (always, after the swap; kept explicit for readers).</param>
public readonly record struct ColumnMajorGemm(bool TransA, bool TransB, int M, int N, int K,
    GemmOperand A, GemmOperand B, GemmOperand C, bool AIsRowMajorB);

/// <summary>
/// The one place where row-major meets column-major. A row-major matrix X [r, c] with leading dimension ld is,
/// byte for byte, the column-major matrix Xᵀ [c, r] with the same ld. So the row-major C = op(A)·op(B) is the
/// column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: hand cuBLAS B as its first operand and A as its second, swap m and n, and
/// keep each operand's own transpose flag (op(B)ᵀ of the stored Bᵀ is "no transpose" exactly when op(B) was).
/// Leading dimensions, offsets and batch strides carry over unchanged.
/// </summary>
public static class GemmLayout
{
    /// <summary>Maps a row-major <see cref="IBackend.Gemm"/> call to the column-major call that computes it.</summary>
    public static ColumnMajorGemm ToColumnMajor(bool transA, bool transB, int m, int n, int k,
        int aOffset, int lda, long strideA, int bOffset, int ldb, long strideB, int cOffset, int ldc, long strideC) =>
        new(TransA: transB, TransB: transA, M: n, N: m, K: k,
            A: new GemmOperand(bOffset, ldb, strideB),
            B: new GemmOperand(aOffset, lda, strideA),
            C: new GemmOperand(cOffset, ldc, strideC),
            AIsRowMajorB: true);
}
