namespace TinyGrad.Backends.Cuda;

/// <summary>The native libraries the CUDA backend loads.</summary>
public enum CudaLibrary
{
    /// <summary>The driver API, libcuda.so.1 (installed with the NVIDIA driver, never with pip).</summary>
    Driver,

    /// <summary>cuBLAS's Lt library, which libcublas needs from the same release.</summary>
    BlasLt,

    /// <summary>cuBLAS, for the GEMMs.</summary>
    Blas,

    /// <summary>NVRTC, the runtime compiler for the kernels.</summary>
    Nvrtc,
}
