namespace TinyGrad.Backends.Cuda;

/// <summary>
/// What NVRTC compiles the kernels for: a cubin for the GPU's own architecture (<c>sm_90</c>) when NVRTC knows
/// it, else PTX for the newest virtual architecture NVRTC knows that the GPU can run (<c>compute_89</c>), which the
/// driver then compiles on load. A cubin is preferred: PTX from an NVRTC newer than the driver fails to load
/// (CUDA_ERROR_UNSUPPORTED_PTX_VERSION, 222), while a cubin only needs a driver of the same major release.
/// </summary>
/// <param name="Architecture">The value of <c>--gpu-architecture</c>: <c>sm_XY</c> or <c>compute_XY</c>.</param>
/// <param name="Cubin">True for a cubin (nvrtcGetCUBIN), false for PTX (nvrtcGetPTX).</param>
public sealed record CompileTarget(string Architecture, bool Cubin)
{
    /// <summary>The compiler option that selects this target.</summary>
    public string Option => "--gpu-architecture=" + Architecture;

    /// <summary>The cache file's extension.</summary>
    public string Extension => Cubin ? ".cubin" : ".ptx";

    /// <summary>
    /// The target for a GPU of compute capability <paramref name="deviceArch"/> (major·10 + minor, e.g. 90) given the
    /// real architectures NVRTC supports (nvrtcGetSupportedArchs; empty when it cannot say: then trust the GPU's).
    /// </summary>
    /// <exception cref="CudaUnavailableException">NVRTC knows no architecture this GPU can run.</exception>
    public static CompileTarget Choose(int deviceArch, IReadOnlyCollection<int> supported)
    {
        ArgumentNullException.ThrowIfNull(supported);
        if (supported.Count == 0 || supported.Contains(deviceArch)) return new($"sm_{deviceArch}", true);
        // Cubins run only on their own major version, but PTX of any older virtual architecture runs everywhere newer.
        var older = supported.Where(a => a <= deviceArch).ToList();
        if (older.Count == 0)
            throw new CudaUnavailableException($"CUDA is not available: this NVRTC compiles for sm_{supported.Min()} to sm_{supported.Max()}, the GPU is sm_{deviceArch}; install an NVRTC that supports it");
        return new($"compute_{older.Max()}", false);
    }
}
