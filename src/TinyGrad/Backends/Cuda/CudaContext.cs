using System.Text;
using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The GPU, its primary context and the one stream all work goes to. The current CUDA context is per thread, so
/// every entry point calls <see cref="MakeCurrent"/> (a no-op after the first time on a thread): the tape may run on
/// any thread, and a test runner or the thread pool may call in from several. The primary context is the one the
/// CUDA runtime (inside cuBLAS) uses too, so cuBLAS and our kernels share memory and the stream.
/// </summary>
internal sealed unsafe class CudaContext
{
    [ThreadStatic] private static IntPtr t_current;

    private CudaContext(int device, IntPtr context, IntPtr stream, int architecture, string name, int driverVersion)
    {
        Device = device;
        Context = context;
        Stream = stream;
        Architecture = architecture;
        Name = name;
        DriverVersion = driverVersion;
    }

    /// <summary>The CUdevice handle.</summary>
    public int Device { get; }

    /// <summary>The retained primary context.</summary>
    public IntPtr Context { get; }

    /// <summary>The stream every kernel, copy and cuBLAS call is queued on, so they run in the order issued.</summary>
    public IntPtr Stream { get; }

    /// <summary>Compute capability as major·10 + minor (90 for an H100/H200).</summary>
    public int Architecture { get; }

    /// <summary>The GPU's name.</summary>
    public string Name { get; }

    /// <summary>The driver's CUDA version (e.g. 12040).</summary>
    public int DriverVersion { get; }

    /// <summary>
    /// Initialises the driver and GPU <paramref name="ordinal"/>. "No GPU" answers (no device, a driver too old for
    /// this code) become <see cref="CudaUnavailableException"/>; anything else is a <see cref="CudaException"/>.
    /// </summary>
    public static CudaContext Create(int ordinal)
    {
        int status = Driver.cuInit(0);
        if (status is Driver.ErrorNoDevice or Driver.ErrorInsufficientDriver)
            throw new CudaUnavailableException($"CUDA is not available: cuInit returned {status} ({(status == Driver.ErrorNoDevice ? "no CUDA-capable GPU" : "the NVIDIA driver is too old")})");
        Driver.Check(status, "cuInit");
        Driver.Check(Driver.cuDriverGetVersion(out int version), "cuDriverGetVersion");
        Driver.Check(Driver.cuDeviceGetCount(out int count), "cuDeviceGetCount");
        if (count <= ordinal)
            throw new CudaUnavailableException($"CUDA is not available: the driver sees {count} GPU(s), GPU {ordinal} was asked for");
        Driver.Check(Driver.cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        Driver.Check(Driver.cuDeviceGetAttribute(out int major, Driver.AttributeComputeCapabilityMajor, device), "cuDeviceGetAttribute");
        Driver.Check(Driver.cuDeviceGetAttribute(out int minor, Driver.AttributeComputeCapabilityMinor, device), "cuDeviceGetAttribute");
        var name = new byte[256];
        fixed (byte* p = name) Driver.Check(Driver.cuDeviceGetName(p, name.Length, device), "cuDeviceGetName");
        Driver.Check(Driver.cuDevicePrimaryCtxRetain(out var context, device), "cuDevicePrimaryCtxRetain");
        Driver.Check(Driver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        t_current = context;
        // Non-blocking: the legacy default stream (which cuBLAS setup or another library might use) never waits on it.
        Driver.Check(Driver.cuStreamCreate(out var stream, Driver.StreamNonBlocking), "cuStreamCreate");
        return new CudaContext(device, context, stream, major * 10 + minor, Encoding.ASCII.GetString(name).TrimEnd('\0'), version);
    }

    /// <summary>Makes the context current on the calling thread (once per thread).</summary>
    public void MakeCurrent()
    {
        if (t_current == Context) return;
        Driver.Check(Driver.cuCtxSetCurrent(Context), "cuCtxSetCurrent");
        t_current = Context;
    }

    /// <summary>"CUDA X.Y", the driver's version as its users know it.</summary>
    public string DriverDescription => $"CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10}";

    /// <summary>Loads an image as a module and unloads it again; returns the driver's status (a library trial, not an error).</summary>
    public int TryLoadImage(byte[] image)
    {
        MakeCurrent();
        IntPtr module;
        int status;
        fixed (byte* p = image) status = Driver.cuModuleLoadData(out module, p);
        if (status == Driver.Success) Driver.cuModuleUnload(module);
        return status;
    }

    /// <summary>Waits until everything queued on the stream has run (the only way the host learns results).</summary>
    public void Synchronize() => Driver.Check(Driver.cuStreamSynchronize(Stream), "cuStreamSynchronize");
}
