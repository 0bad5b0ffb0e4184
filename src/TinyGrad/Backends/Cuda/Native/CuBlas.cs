using System.Runtime.InteropServices;

namespace TinyGrad.Backends.Cuda.Native;

// cuBLAS (libcublas.so.13/.12, which needs libcublasLt from the same release). The classic API exports with
// _v2 (cublasCreate_v2, cublasSgemm_v2, cublasSetStream_v2); cublasSgemmStridedBatched and cublasSetMathMode
// have no suffix. Scalars alpha and beta are passed by host pointer (the default pointer mode).
internal static unsafe class CuBlas
{
    public const string Library = "tinygrad-cublas";

    public const int OpN = 0;
    public const int OpT = 1;

    /// <summary>CUBLAS_DEFAULT_MATH: FP32 GEMMs run in FP32.</summary>
    public const int DefaultMath = 0;

    /// <summary>CUBLAS_TF32_TENSOR_OP_MATH: FP32 GEMMs may round their inputs to TF32 (10-bit mantissa) on tensor cores.</summary>
    public const int Tf32TensorOpMath = 3;

    [DllImport(Library)] public static extern int cublasCreate_v2(out IntPtr handle);
    [DllImport(Library)] public static extern int cublasSetStream_v2(IntPtr handle, IntPtr stream);
    [DllImport(Library)] public static extern int cublasSetMathMode(IntPtr handle, int mode);
    [DllImport(Library)] public static extern int cublasGetVersion_v2(IntPtr handle, out int version);

    [DllImport(Library)]
    public static extern int cublasSgemm_v2(IntPtr handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int lda, ulong b, int ldb, float* beta, ulong c, int ldc);

    [DllImport(Library)]
    public static extern int cublasSgemmStridedBatched(IntPtr handle, int transA, int transB, int m, int n, int k,
        float* alpha, ulong a, int lda, long strideA, ulong b, int ldb, long strideB,
        float* beta, ulong c, int ldc, long strideC, int batchCount);

    /// <summary>Throws unless <paramref name="status"/> is CUBLAS_STATUS_SUCCESS (0).</summary>
    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException($"cublas: {call} failed with status {status}", status);
    }
}
