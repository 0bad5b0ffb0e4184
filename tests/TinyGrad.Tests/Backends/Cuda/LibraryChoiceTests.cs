namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cuda;

// Falling back to the next library version when the driver cannot run the newest, with a fake loader and fake
// trials standing in for dlopen, cublasCreate and cuModuleLoadData.
public class LibraryChoiceTests
{
    private static readonly string[] s_candidates =
        ["/venv/nvidia/cu13/lib/libcublas.so.13", "/venv/nvidia/cublas/lib/libcublas.so.12", "libcublas.so.13", "libcublas.so.12", "/usr/local/cuda/lib64/libcublas.so.12"];

    private sealed class FakeLoader(params string[] present)
    {
        public readonly List<string> Loaded = [];
        public readonly Dictionary<IntPtr, string> Files = [];
        public string? Broken;

        public LoadOutcome Load(string candidate, out IntPtr handle, out string? error)
        {
            handle = IntPtr.Zero;
            error = null;
            if (!present.Contains(candidate)) return LoadOutcome.Missing;
            if (candidate == Broken)
            {
                error = "wrong ELF class";
                return LoadOutcome.Failed;
            }
            Loaded.Add(candidate);
            handle = Files.Count + 1;
            Files[handle] = candidate;
            return LoadOutcome.Loaded;
        }
    }

    // A driver that runs CUDA 12 libraries only: version 13 fails the way cublasCreate fails on an old driver.
    private static LibraryTrial Cuda12Driver(FakeLoader loader) => handle =>
        loader.Files[handle].EndsWith(".13", StringComparison.Ordinal) ? "cublasCreate_v2 returned CUBLAS_STATUS_NOT_INITIALIZED (1)" : null;

    [Fact]
    public void A_version_the_driver_cannot_run_gives_way_to_the_next_candidate_and_is_recorded()
    {
        var loader = new FakeLoader(s_candidates);
        List<string> errors = [], rejected = [];
        Assert.True(LibraryChoice.TryChoose(s_candidates, loader.Load, Cuda12Driver(loader), out var handle, out var path, errors, rejected));
        Assert.Equal("/venv/nvidia/cublas/lib/libcublas.so.12", path);
        Assert.Equal(path, loader.Files[handle]);
        Assert.Equal(["/venv/nvidia/cu13/lib/libcublas.so.13 (cublasCreate_v2 returned CUBLAS_STATUS_NOT_INITIALIZED (1))"], rejected);
        Assert.Empty(errors);
    }

    [Fact]
    public void A_rejected_version_is_not_tried_again_from_another_folder()
    {
        // Only the loader's own search has version 12: the bare libcublas.so.13 after the rejected copy is skipped.
        var loader = new FakeLoader("/venv/nvidia/cu13/lib/libcublas.so.13", "libcublas.so.13", "libcublas.so.12");
        List<string> errors = [], rejected = [];
        Assert.True(LibraryChoice.TryChoose(s_candidates, loader.Load, Cuda12Driver(loader), out _, out var path, errors, rejected));
        Assert.Equal("libcublas.so.12", path);
        Assert.Equal(["/venv/nvidia/cu13/lib/libcublas.so.13", "libcublas.so.12"], loader.Loaded);
        Assert.Single(rejected);
    }

    [Fact]
    public void When_every_version_is_rejected_each_failure_is_kept_for_the_message()
    {
        var loader = new FakeLoader("/venv/nvidia/cu13/lib/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.12");
        List<string> errors = [], rejected = [];
        Assert.False(LibraryChoice.TryChoose(s_candidates, loader.Load, _ => "cublasCreate_v2 returned CUBLAS_STATUS_ARCH_MISMATCH (8)", out var handle, out var path, errors, rejected));
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Null(path);
        Assert.Equal(2, rejected.Count);

        var message = CudaLibraryProbe.DescribeFailure([CudaLibrary.Blas], CudaLibraryProbe.Locations(null, ["/venv/nvidia/cu13/lib"]), errors, rejected: rejected);
        Assert.DoesNotContain('\n', message);
        Assert.StartsWith("CUDA is not available: no usable version of: libcublas.so.13", message, StringComparison.Ordinal);
        Assert.Contains("loaded but not usable here: /venv/nvidia/cu13/lib/libcublas.so.13 (cublasCreate_v2 returned CUBLAS_STATUS_ARCH_MISMATCH (8)); /usr/local/cuda/lib64/libcublas.so.12 (", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_that_fail_to_load_are_recorded_and_passed_over_and_without_a_trial_the_first_load_wins()
    {
        var loader = new FakeLoader(s_candidates) { Broken = "/venv/nvidia/cu13/lib/libcublas.so.13" };
        List<string> errors = [], rejected = [];
        Assert.True(LibraryChoice.TryChoose(s_candidates, loader.Load, null, out _, out var path, errors, rejected));
        Assert.Equal("/venv/nvidia/cublas/lib/libcublas.so.12", path);
        Assert.Equal(["/venv/nvidia/cu13/lib/libcublas.so.13 (wrong ELF class)"], errors);
        Assert.Empty(rejected);
    }

    [Fact]
    public void A_failure_that_no_other_version_fixes_is_not_hidden_by_a_fallback()
    {
        var loader = new FakeLoader(s_candidates);
        List<string> errors = [], rejected = [];
        Assert.Throws<CudaException>(() =>
            LibraryChoice.TryChoose(s_candidates, loader.Load, _ => throw new CudaException("cublas: cublasCreate_v2 failed with status 3", 3), out _, out _, errors, rejected));
        Assert.Single(loader.Loaded);
    }

    [Theory]
    [InlineData(35, true)]   // CUDA_ERROR_INSUFFICIENT_DRIVER
    [InlineData(222, true)]  // CUDA_ERROR_UNSUPPORTED_PTX_VERSION: PTX from an NVRTC newer than the driver
    [InlineData(209, true)]  // CUDA_ERROR_NO_BINARY_FOR_GPU
    [InlineData(804, true)]  // CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE
    [InlineData(999, true)]  // CUDA_ERROR_UNKNOWN
    [InlineData(2, false)]   // out of memory: no other version helps
    [InlineData(1, false)]   // invalid value: a bug, not a version
    public void Driver_version_errors_are_told_from_real_failures(int code, bool versionError)
    {
        Assert.Equal(versionError, CudaVersionErrors.IsDriverVersionError(code));
        Assert.Contains(code.ToString(System.Globalization.CultureInfo.InvariantCulture), CudaVersionErrors.DescribeDriver(code), StringComparison.Ordinal);
    }

    [Fact]
    public void CublasCreate_statuses_that_mean_another_version_may_work()
    {
        Assert.True(CudaVersionErrors.IsBlasVersionError(1)); // CUBLAS_STATUS_NOT_INITIALIZED
        Assert.True(CudaVersionErrors.IsBlasVersionError(8)); // CUBLAS_STATUS_ARCH_MISMATCH
        Assert.False(CudaVersionErrors.IsBlasVersionError(3)); // CUBLAS_STATUS_ALLOC_FAILED
        Assert.Equal("CUBLAS_STATUS_NOT_INITIALIZED (1)", CudaVersionErrors.DescribeBlas(1));
    }
}
