namespace TinyGrad.Backends.Cpu;

/// <summary>
/// Single-precision general matrix multiply (SGEMM) on the CPU: a blocked, packed, register-tiled,
/// multithreaded kernel in the style of GotoBLAS/BLIS.
/// </summary>
/// <remarks>
/// <para>How it is fast, from the inside out (each layer has its own file):</para>
/// <list type="number">
/// <item><description><see cref="GemmMicroKernel"/>: a 12x32 (AVX-512) or 6x16 (AVX2) block of C lives in
/// registers for a whole pass over k, so each loaded value feeds many FMAs.</description></item>
/// <item><description><see cref="GemmPacking"/>: the parts of A and B a kernel reads are first copied into
/// contiguous, kernel-ordered panels; transposes are absorbed there.</description></item>
/// <item><description><see cref="GemmDriver"/>: cache blocking (a packed B panel sized for L2, one A tile in
/// L1, k blocked only when K &gt; ~768) and the split of the work across <see cref="CpuThreadPool"/>.
/// Small M (the LSTM's recurrent step) skips packing B: it is read in place, or with Bᵀ multiplied by
/// inner products (<see cref="GemmDotKernel"/>).</description></item>
/// </list>
/// </remarks>
public static class Gemm
{
    /// <summary>Forces a particular micro-kernel (tests use it to cover every path on one machine).</summary>
    internal static GemmKernelKind KernelOverride { get; set; } = GemmKernelKind.Auto;

    /// <summary>
    /// Row-major C[m,n] = alpha * op(A)[m,k] · op(B)[k,n] + beta * C.
    /// op(A) = A (stored m x k, leading dim lda) or, when transA, Aᵀ where A is stored k x m.
    /// Same for B (k x n, or n x k when transB). Offsets index into the arrays.
    /// </summary>
    /// <remarks>
    /// When <paramref name="beta"/> is 0, C is not read (NaN or garbage there is overwritten); when
    /// <paramref name="alpha"/> is 0 or <paramref name="k"/> is 0, A and B are not read and C = beta·C.
    /// Runs on up to <see cref="CpuThreads.Count"/> threads.
    /// </remarks>
    /// <param name="transA">Use Aᵀ (A is stored k x m).</param>
    /// <param name="transB">Use Bᵀ (B is stored n x k).</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Storage of A.</param>
    /// <param name="aOffset">Index of A's first element in <paramref name="a"/>.</param>
    /// <param name="lda">Distance between consecutive stored rows of A.</param>
    /// <param name="b">Storage of B.</param>
    /// <param name="bOffset">Index of B's first element in <paramref name="b"/>.</param>
    /// <param name="ldb">Distance between consecutive stored rows of B.</param>
    /// <param name="beta">Scale of the existing C.</param>
    /// <param name="c">Storage of C.</param>
    /// <param name="cOffset">Index of C's first element in <paramref name="c"/>.</param>
    /// <param name="ldc">Distance between consecutive rows of C.</param>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size or offset is negative.</exception>
    /// <exception cref="ArgumentException">A leading dimension is smaller than its row, or an array is too short.</exception>
    public static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float beta, float[] c, int cOffset, int ldc)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckOperand("A", nameof(a), a, aOffset, lda, transA ? k : m, transA ? m : k, transA, m, n, k);
        CheckOperand("B", nameof(b), b, bOffset, ldb, transB ? n : k, transB ? k : n, transB, m, n, k);
        CheckOperand("C", nameof(c), c, cOffset, ldc, m, n, false, m, n, k);

        if (m == 0 || n == 0) return;
        fixed (float* pc = c)
        {
            if (k == 0 || alpha == 0f)
            {
                ScaleC(m, n, beta, pc + cOffset, ldc);
                return;
            }
            fixed (float* pa = a, pb = b)
            {
                GemmDriver.ForThisThread.Run(transA, transB, m, n, k, alpha,
                    pa + aOffset, lda, pb + bOffset, ldb, beta, pc + cOffset, ldc);
            }
        }
    }

    /// <summary>
    /// Validates one operand stored as <paramref name="rows"/> x <paramref name="cols"/> (its storage shape,
    /// i.e. after undoing any transpose) with leading dimension <paramref name="ld"/>.
    /// </summary>
    private static void CheckOperand(string name, string param, float[] array, int offset, int ld,
        int rows, int cols, bool trans, int m, int n, int k)
    {
        string shape = $"{name} is stored {rows}x{cols}{(trans ? " (transposed)" : "")} for m={m}, n={n}, k={k}";
        if (offset < 0 || offset > array.Length)
        {
            throw new ArgumentOutOfRangeException(param,
                $"Sgemm: {name} offset {offset} is outside its array of length {array.Length} ({shape}).");
        }
        if (ld < cols || ld < 0)
        {
            throw new ArgumentException(
                $"Sgemm: leading dimension of {name} is {ld} but must be at least {cols} ({shape}).", "ld" + name.ToLowerInvariant());
        }
        if (rows == 0 || cols == 0) return;
        long needed = (long)offset + (long)(rows - 1) * ld + cols;
        if (needed > array.Length)
        {
            throw new ArgumentException(
                $"Sgemm: {name} needs {needed} elements (offset {offset}, {rows} rows with leading dimension {ld}) " +
                $"but its array has {array.Length} ({shape}).", param);
        }
    }

    /// <summary>C = beta·C (beta = 0 writes exact zeros without reading C).</summary>
    private static unsafe void ScaleC(int m, int n, float beta, float* c, nint ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0f) row.Clear();
            else for (int j = 0; j < row.Length; j++) row[j] *= beta;
        }
    }
}
