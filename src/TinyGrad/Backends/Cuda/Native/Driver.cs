using System.Runtime.InteropServices;

namespace TinyGrad.Backends.Cuda.Native;

// The CUDA driver API (libcuda.so.1). The library name is a logical one that CudaLibraries' resolver maps to
// the probed file. Export names follow cuda.h: cuMemAlloc_v2 and the memcpy/memfree family carry the _v2
// suffix, cuModuleLoadData, cuLaunchKernel and the primary-context calls do not.
internal static unsafe class Driver
{
    public const string Library = "tinygrad-cuda-driver";

    public const int Success = 0;
    public const int ErrorOutOfMemory = 2;
    public const int ErrorInsufficientDriver = 35;
    public const int ErrorNoDevice = 100;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
    public const uint StreamNonBlocking = 1;

    [DllImport(Library)] public static extern int cuInit(uint flags);
    [DllImport(Library)] public static extern int cuDriverGetVersion(out int version);
    [DllImport(Library)] public static extern int cuDeviceGetCount(out int count);
    [DllImport(Library)] public static extern int cuDeviceGet(out int device, int ordinal);
    [DllImport(Library)] public static extern int cuDeviceGetAttribute(out int value, int attribute, int device);
    [DllImport(Library)] public static extern int cuDeviceGetName(byte* name, int length, int device);
    [DllImport(Library)] public static extern int cuDevicePrimaryCtxRetain(out IntPtr context, int device);
    [DllImport(Library)] public static extern int cuCtxSetCurrent(IntPtr context);
    [DllImport(Library)] public static extern int cuStreamCreate(out IntPtr stream, uint flags);
    [DllImport(Library)] public static extern int cuStreamSynchronize(IntPtr stream);
    [DllImport(Library)] public static extern int cuMemAlloc_v2(out ulong pointer, nuint bytes);
    [DllImport(Library)] public static extern int cuMemFree_v2(ulong pointer);
    [DllImport(Library)] public static extern int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, IntPtr stream);
    [DllImport(Library)] public static extern int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, IntPtr stream);
    [DllImport(Library)] public static extern int cuModuleLoadData(out IntPtr module, void* image);
    [DllImport(Library)] public static extern int cuModuleUnload(IntPtr module);
    [DllImport(Library)] public static extern int cuModuleGetFunction(out IntPtr function, IntPtr module, byte* name);
    [DllImport(Library)]
    public static extern int cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, IntPtr stream, void** parameters, void** extra);
    [DllImport(Library)] public static extern int cuGetErrorName(int error, out IntPtr name);

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="status"/> is success.</summary>
    public static void Check(int status, string call)
    {
        if (status == Success) return;
        string name = "unknown";
        try
        {
            if (cuGetErrorName(status, out var p) == Success && p != IntPtr.Zero) name = Marshal.PtrToStringAnsi(p) ?? name;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // The name is only decoration; the status code below is the fact.
        }
        throw new CudaException($"cuda: {call} failed with {name} ({status})", status);
    }
}
