using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

// Buffers, host transfers, block copies, permute and GEMM.
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public Storage Allocate(int length) => NewStorage(length, zero: true);

    /// <inheritdoc/>
    public Storage AllocateUninitialized(int length) => NewStorage(length, zero: false);

    /// <inheritdoc/>
    public bool IsHost => false;

    /// <inheritdoc/>
    public unsafe Storage FromHost(ReadOnlySpan<float> data)
    {
        var storage = NewStorage(data.Length, zero: false);
        // An empty span pins to a null pointer, which the driver rejects; there is nothing to copy anyway.
        if (data.IsEmpty) return storage;
        fixed (float* p = data)
        {
            Driver.Check(Driver.cuMemcpyHtoDAsync_v2(storage.Pointer, p, (nuint)(data.Length * sizeof(float)), _context.Stream), "cuMemcpyHtoDAsync_v2");
        }
        return storage;
    }

    /// <inheritdoc/>
    public unsafe void ToHost(Storage src, Span<float> dst)
    {
        if (dst.IsEmpty) return; // a null host pointer otherwise; nothing is pending that the caller could read
        Enter();
        fixed (float* p = dst)
        {
            Driver.Check(Driver.cuMemcpyDtoHAsync_v2(p, P(src), (nuint)(dst.Length * sizeof(float)), _context.Stream), "cuMemcpyDtoHAsync_v2");
            _context.Synchronize(); // the one place the host waits for the GPU
        }
    }

    /// <inheritdoc/>
    public void Fill(Storage dst, float value)
    {
        Enter();
        Launch(KernelNames.Fill, Grid(dst.Length), P(dst), value, dst.Length);
    }

    /// <inheritdoc/>
    public void CopyBlocks(Storage src, int srcOffset, int srcStride, Storage dst, int dstOffset, int dstStride,
        int blockLength, int blocks, bool accumulate = false)
    {
        Enter();
        Launch(KernelNames.CopyBlocks, Grid((long)blockLength * blocks), P(src), srcOffset, srcStride, P(dst), dstOffset, dstStride,
            blockLength, blocks, accumulate);
    }

    /// <inheritdoc/>
    public void Permute(Storage x, int[] shape, int[] perm, Storage y)
    {
        // Packed (and the rank checked) before any CUDA call.
        var (outShape, walk) = Rank4.Permute(shape, perm);
        int n = Shapes.Numel(shape);
        if (n == 0) return;
        Enter();
        Launch(KernelNames.Permute, Grid(n), P(x), P(y), outShape[0], outShape[1], outShape[2], outShape[3],
            walk[0], walk[1], walk[2], walk[3], n);
    }

    /// <inheritdoc/>
    public void Gemm(float alpha, MatrixView a, MatrixView b, float beta, MatrixView c, int batchCount = 1)
    {
        var (m, n, k) = MatrixView.ProductShape(a, b, c);
        Sgemm(a.Transposed, b.Transposed, m, n, k, alpha, a.Storage, a.Offset, a.Ld, a.BatchStride,
            b.Storage, b.Offset, b.Ld, b.BatchStride, beta, c.Storage, c.Offset, c.Ld, c.BatchStride, batchCount);
    }

    // cuBLAS's column-major sgemm on our row-major views (GemmLayout swaps the operands).
    private unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Storage a, int aOffset, int lda, long strideA,
        Storage b, int bOffset, int ldb, long strideB,
        float beta, Storage c, int cOffset, int ldc, long strideC, int batchCount)
    {
        if (m == 0 || n == 0 || batchCount == 0) return;
        Enter();
        if (k == 0 || alpha == 0f)
        {
            // Nothing to multiply: C = beta·C, as the CPU GEMM defines it (cuBLAS would still read A and B).
            Launch(KernelNames.ScaleMatrix, Grid((long)m * n * batchCount), P(c), cOffset, ldc, strideC, m, n, batchCount, beta);
            return;
        }
        var g = GemmLayout.ToColumnMajor(transA, transB, m, n, k, aOffset, lda, strideA, bOffset, ldb, strideB, cOffset, ldc, strideC);
        // After the swap, cuBLAS's A is our B and its B is our A (see GemmLayout).
        ulong colA = P(b, g.A.Offset), colB = P(a, g.B.Offset), colC = P(c, g.C.Offset);
        int opA = g.TransA ? CuBlas.OpT : CuBlas.OpN, opB = g.TransB ? CuBlas.OpT : CuBlas.OpN;
        float al = alpha, be = beta;
        if (batchCount == 1)
        {
            CuBlas.Check(CuBlas.cublasSgemm_v2(_blas, opA, opB, g.M, g.N, g.K, &al, colA, g.A.Ld, colB, g.B.Ld, &be, colC, g.C.Ld), "cublasSgemm_v2");
        }
        else
        {
            CuBlas.Check(CuBlas.cublasSgemmStridedBatched(_blas, opA, opB, g.M, g.N, g.K, &al, colA, g.A.Ld, g.A.Stride,
                colB, g.B.Ld, g.B.Stride, &be, colC, g.C.Ld, g.C.Stride, batchCount), "cublasSgemmStridedBatched");
        }
    }
}
