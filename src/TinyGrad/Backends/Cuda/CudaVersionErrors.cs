namespace TinyGrad.Backends.Cuda;

/// <summary>
/// Which CUDA and cuBLAS errors mean "this library version cannot run with this driver or GPU", so that another
/// version of the library may (see <see cref="LibraryChoice"/>). Anything else (out of memory, a bad argument) is a
/// real failure that no other version fixes, and is reported as such.
/// </summary>
public static class CudaVersionErrors
{
    /// <summary>The driver-API errors that an older (or newer) library might avoid, with their names.</summary>
    public static IReadOnlyDictionary<int, string> DriverErrors { get; } = new Dictionary<int, string>
    {
        [34] = "CUDA_ERROR_STUB_LIBRARY",
        [35] = "CUDA_ERROR_INSUFFICIENT_DRIVER",
        [200] = "CUDA_ERROR_INVALID_IMAGE",
        [209] = "CUDA_ERROR_NO_BINARY_FOR_GPU",
        [218] = "CUDA_ERROR_INVALID_PTX",
        [221] = "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
        [222] = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        [803] = "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        [804] = "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
        [999] = "CUDA_ERROR_UNKNOWN",
    };

    /// <summary>The cuBLAS statuses of cublasCreate that another cuBLAS version might avoid, with their names.</summary>
    public static IReadOnlyDictionary<int, string> BlasErrors { get; } = new Dictionary<int, string>
    {
        // cuBLAS's runtime could not start: typically the driver is older than this cuBLAS needs.
        [1] = "CUBLAS_STATUS_NOT_INITIALIZED",
        // This cuBLAS has no code for the GPU (CUDA 13 dropped architectures that 12 supports).
        [8] = "CUBLAS_STATUS_ARCH_MISMATCH",
    };

    /// <summary>True when driver error <paramref name="code"/> says the image or library version does not suit the driver or GPU.</summary>
    public static bool IsDriverVersionError(int code) => DriverErrors.ContainsKey(code);

    /// <summary>True when cuBLAS status <paramref name="code"/> from cublasCreate says this cuBLAS cannot run here.</summary>
    public static bool IsBlasVersionError(int code) => BlasErrors.ContainsKey(code);

    /// <summary>"NAME (code)" for a driver error, or just the code when it is not a version error.</summary>
    public static string DescribeDriver(int code) => DriverErrors.TryGetValue(code, out var name) ? $"{name} ({code})" : $"error {code}";

    /// <summary>"NAME (code)" for a cuBLAS status, or just the code when it is not a version error.</summary>
    public static string DescribeBlas(int code) => BlasErrors.TryGetValue(code, out var name) ? $"{name} ({code})" : $"status {code}";
}
