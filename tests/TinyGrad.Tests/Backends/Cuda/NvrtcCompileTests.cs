namespace TinyGrad.Tests.Backends.Cuda;

using System.Text;
using TinyGrad.Backends.Cuda;

// Compiles every kernel file with NVRTC, which needs no GPU and no driver, only libnvrtc. Skipped when NVRTC is not
// installed (pip's nvidia-cuda-nvrtc-cu12, the CUDA toolkit, or Debian's libnvrtc11.2 from non-free all work).
public class NvrtcCompileTests
{
    private static readonly Lazy<string?> s_unavailable = new(() =>
    {
        try
        {
            CudaLibraries.EnsureLoaded(CudaLibraries.DefaultLocations(), CudaLibrary.Nvrtc);
            return null;
        }
        catch (CudaUnavailableException e)
        {
            return e.Message;
        }
    });

    private static void SkipWithoutNvrtc() => Skip.If(s_unavailable.Value is not null, $"NVRTC is not installed: {s_unavailable.Value}");

    public static TheoryData<string> Files => new(KernelSources.Files);

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Every_kernel_file_compiles_to_ptx_with_every_kernel_as_an_entry(string file)
    {
        SkipWithoutNvrtc();
        // sm_80 (A100) is supported by every NVRTC from 11.0 to 13; PTX needs no GPU to check.
        var target = new CompileTarget("compute_80", Cubin: false);
        var ptx = Encoding.ASCII.GetString(KernelCompiler.Compile(KernelSources.Compose(file), file, KernelCompiler.Options(target), cubin: false));
        foreach (var kernel in KernelSources.KernelNames(KernelSources.Raw(file)))
            Assert.Contains($".entry {kernel}(", ptx, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Kernels_compile_to_a_cubin_for_a_real_architecture_and_the_gpu_choice_is_supported()
    {
        SkipWithoutNvrtc();
        var archs = KernelCompiler.SupportedArchitectures();
        var target = CompileTarget.Choose(archs.Count == 0 ? 80 : archs.Where(a => a <= 90).Max(), archs);
        Assert.True(target.Cubin);
        var cubin = KernelCompiler.Compile(KernelSources.Compose("heads.cu"), "heads.cu", KernelCompiler.Options(target), cubin: true);
        Assert.Equal([0x7f, (byte)'E', (byte)'L', (byte)'F'], cubin[..4]); // a cubin is an ELF image
        Assert.Matches(@"^\d+\.\d+$", KernelCompiler.Version());
    }

    [SkippableFact]
    public void A_compile_error_reports_nvrtcs_log()
    {
        SkipWithoutNvrtc();
        var e = Assert.Throws<CudaException>(() =>
            KernelCompiler.Compile("extern \"C\" __global__ void broken() { undeclared_thing(); }", "broken.cu", ["--gpu-architecture=compute_80"], cubin: false));
        Assert.Contains("undeclared_thing", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_nvrtc_trial_compiles_a_probe_and_gives_way_on_a_driver_version_error_only()
    {
        SkipWithoutNvrtc();
        Assert.True(CudaLibraries.TryLoad(CudaLibrary.Nvrtc, CudaLibraries.DefaultLocations(), out var handle, out _, []));
        var archs = KernelCompiler.SupportedArchitectures();
        int arch = archs.Count == 0 ? 80 : archs.Where(a => a <= 90).Max();
        byte[]? seen = null;
        Assert.Null(LibraryTrials.Nvrtc(handle, arch, image => { seen = image; return 0; }, "CUDA 12.4"));
        Assert.Equal([0x7f, (byte)'E', (byte)'L', (byte)'F'], seen![..4]); // a cubin for the GPU's own architecture

        var reason = LibraryTrials.Nvrtc(handle, arch, _ => 222, "CUDA 12.4");
        Assert.Contains("CUDA_ERROR_UNSUPPORTED_PTX_VERSION (222)", reason, StringComparison.Ordinal);
        Assert.Contains("CUDA 12.4", reason, StringComparison.Ordinal);
        Assert.Throws<CudaException>(() => LibraryTrials.Nvrtc(handle, arch, _ => 2, "CUDA 12.4")); // out of memory is no version matter
        if (archs.Count > 0) Assert.Contains("install an NVRTC that supports it", LibraryTrials.Nvrtc(handle, archs.Min() - 1, _ => 0, "CUDA 12.4"), StringComparison.Ordinal);
    }
}
