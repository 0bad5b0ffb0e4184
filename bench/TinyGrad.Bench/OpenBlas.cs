using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace TinyGrad.Bench;

/// <summary>
/// The reference BLAS for comparisons: P/Invoke into the system OpenBLAS (Debian: libopenblas0-pthread).
/// Everything degrades to "not available" when the library cannot be loaded.
/// </summary>
internal static unsafe class OpenBlas
{
    private const string Lib = "libopenblas.so.0";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly Lazy<bool> s_available = new(Probe);

    /// <summary>Whether libopenblas.so.0 could be loaded and exports cblas_sgemm.</summary>
    public static bool IsAvailable => s_available.Value;

    [DllImport(Lib, EntryPoint = "cblas_sgemm")]
    private static extern void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [DllImport(Lib, EntryPoint = "openblas_set_num_threads")]
    private static extern void openblas_set_num_threads(int n);

    [DllImport(Lib, EntryPoint = "openblas_get_corename")]
    private static extern IntPtr openblas_get_corename();

    /// <summary>The kernel set OpenBLAS chose for this CPU (SkylakeX, Haswell, Zen, Prescott, ...), or null.</summary>
    public static string? CoreName => IsAvailable ? Marshal.PtrToStringAnsi(openblas_get_corename()) : null;

    /// <summary>
    /// A warning when OpenBLAS runs kernels far below this CPU, else null. Debian 12's OpenBLAS 0.3.21 picks its
    /// kernels from the CPU model and falls back to Prescott (SSE3) on models newer than itself (an Intel Xeon of
    /// family 6, model 207), which makes it 3 to 4 times slower: a comparison against it would flatter us. The
    /// kernel set is read when the library loads, so the fix is an environment variable on the command line
    /// (bench/openblas_env.py sets it for the PyTorch scripts).
    /// </summary>
    public static string? Warning => CoreName == "Prescott" && (Avx512F.IsSupported || Avx2.IsSupported)
        ? $"warning: OpenBLAS does not know this CPU and runs its Prescott (SSE3) kernels; rerun with OPENBLAS_CORETYPE={(Avx512F.IsSupported ? "SkylakeX" : "Haswell")} for a fair comparison"
        : null;

    private static bool Probe()
    {
        try
        {
            if (!NativeLibrary.TryLoad(Lib, out IntPtr handle)) return false;
            return NativeLibrary.TryGetExport(handle, "cblas_sgemm", out _)
                && NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out _)
                && NativeLibrary.TryGetExport(handle, "openblas_get_corename", out _);
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Sets OpenBLAS's own thread count (no-op when unavailable).</summary>
    public static void SetThreads(int n)
    {
        if (IsAvailable) openblas_set_num_threads(n);
    }

    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C with the same conventions as <c>Gemm.Sgemm</c>.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        fixed (float* pa = a, pb = b, pc = c)
        {
            cblas_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k,
                alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }
}
