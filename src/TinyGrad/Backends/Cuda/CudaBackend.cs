using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The CUDA backend: device buffers from a caching allocator, GEMMs through cuBLAS, and every other kernel written
/// in CUDA C (<c>Kernels/*.cu</c>), compiled at first use by NVRTC for the GPU's architecture and cached on disk.
/// All work goes to one stream, in issue order; the host waits only when it reads a result
/// (<see cref="ToHost"/>). Split into partial files by kernel family, like the CPU backend, whose kernels define
/// the semantics these must match.
/// </summary>
/// <remarks>
/// Nothing is loaded until <see cref="Instance"/> (or <see cref="Device.Cuda"/>'s backend) is first used. GEMMs run in
/// pure FP32 unless <see cref="AllowTf32"/> is set. See docs/cuda.md.
/// </remarks>
public sealed partial class CudaBackend : IBackend, IHeadKernels, ILstmKernels, IOptimizerKernels, IClipKernels
{
    private const uint Threads = 256;
    private const long MaxBlocks = 1 << 20;

    /// <summary>The environment variable that turns TF32 GEMMs on for the whole process ("1").</summary>
    public const string Tf32Variable = "TINYGRAD_CUDA_TF32";

    private static readonly object s_lock = new();
    private static CudaBackend? s_instance;
    private static CudaUnavailableException? s_failure;
    private static bool? s_allowTf32;

    private readonly CudaContext _context;
    private readonly IntPtr _blas;
    private readonly KernelModules _kernels;

    private CudaBackend()
    {
        // The driver first (there is one), then cuBLAS and NVRTC, each tried on this driver and GPU before it is
        // chosen: the probe lists the newest version first, and a version the driver cannot run gives way to the
        // next candidate (LibraryChoice) instead of failing here or, worse, at the first kernel.
        var locations = CudaLibraries.DefaultLocations();
        CudaLibraries.EnsureLoaded(locations, CudaLibrary.Driver);
        _context = CudaContext.Create(0);
        var context = _context;
        CudaLibraries.EnsureLoaded(locations,
        [
            (CudaLibrary.Blas, LibraryTrials.Blas),
            (CudaLibrary.Nvrtc, h => LibraryTrials.Nvrtc(h, context.Architecture, context.TryLoadImage, context.DriverDescription)),
        ]);
        CuBlas.Check(CuBlas.cublasCreate_v2(out _blas), "cublasCreate_v2");
        CuBlas.Check(CuBlas.cublasSetStream_v2(_blas, _context.Stream), "cublasSetStream_v2");
        ApplyMathMode();
        var target = CompileTarget.Choose(_context.Architecture, [.. KernelCompiler.SupportedArchitectures()]);
        _kernels = new KernelModules(_context, target, KernelCompiler.Version(), KernelCache.DefaultDirectory());
        Allocator = new CachingAllocator(RawAllocate, RawFree, Synchronize);
    }

    /// <summary>
    /// The one CUDA backend, created on first use.
    /// </summary>
    /// <exception cref="CudaUnavailableException">There is no usable GPU or library; the message says what was searched.</exception>
    public static CudaBackend Instance
    {
        get
        {
            lock (s_lock)
            {
                if (s_instance is not null) return s_instance;
                if (s_failure is not null) throw new CudaUnavailableException(s_failure.Message, s_failure);
                try
                {
                    return s_instance = new CudaBackend();
                }
                catch (CudaUnavailableException e)
                {
                    s_failure = e;
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CudaException)
                {
                    s_failure = new CudaUnavailableException($"CUDA is not available: {e.Message.ReplaceLineEndings(" ")}", e);
                }
                throw new CudaUnavailableException(s_failure.Message, s_failure);
            }
        }
    }

    /// <summary>
    /// True when a GPU and the libraries are here (initialises the backend the first time; false is remembered).
    /// Reading it on a machine without CUDA probes the file system once and loads nothing that is missing.
    /// </summary>
    public static bool IsAvailable => UnavailableReason is null;

    /// <summary>Why CUDA cannot be used (one line), or null when it can.</summary>
    public static string? UnavailableReason
    {
        get
        {
            try
            {
                _ = Instance;
                return null;
            }
            catch (CudaUnavailableException e)
            {
                return e.Message;
            }
        }
    }

    /// <summary>
    /// Lets cuBLAS run FP32 GEMMs on tensor cores in TF32 (inputs rounded to a 10-bit mantissa: several times faster
    /// on Ampere and later, about 1e−3 relative error per product). Off by default, so results match the CPU to
    /// float32 rounding; the <c>TINYGRAD_CUDA_TF32=1</c> environment variable turns it on for a process.
    /// </summary>
    public static bool AllowTf32
    {
        get => s_allowTf32 ??= Environment.GetEnvironmentVariable(Tf32Variable) == "1";
        set
        {
            lock (s_lock)
            {
                s_allowTf32 = value;
                s_instance?.ApplyMathMode();
            }
        }
    }

    /// <inheritdoc/>
    public Device Device => Device.Cuda;

    /// <summary>The GPU's name (e.g. "NVIDIA H200").</summary>
    public string DeviceName => _context.Name;

    /// <summary>The GPU's compute capability as major·10 + minor.</summary>
    public int ComputeCapability => _context.Architecture;

    /// <summary>Where compiled kernels are cached.</summary>
    public string KernelCacheDirectory => _kernels.CacheDirectory;

    /// <summary>
    /// One line about the device, the libraries in use and the compile target (for logs), starting
    /// <c>&lt;card&gt;, sm_XY, driver X.Y,</c> — e.g. <c>NVIDIA H100 80GB HBM3, sm_90, driver 12.4, kernels for sm_90, …</c>.
    /// </summary>
    public string Describe() =>
        $"{_context.Name}, sm_{_context.Architecture}, driver {_context.DriverVersion / 1000}.{_context.DriverVersion % 1000 / 10}, kernels for {_kernels.Target.Architecture}, " +
        $"TF32 {(AllowTf32 ? "on" : "off")}, libraries: {string.Join(", ", CudaLibraries.LoadedPaths.Select(p => $"{p.Key}={p.Value}"))}" +
        (CudaLibraries.Rejected.Count == 0 ? "" : $", passed over: {string.Join("; ", CudaLibraries.Rejected)}");

    internal CachingAllocator Allocator { get; }

    /// <summary>Waits for all queued GPU work (benchmarks time with it; nothing else needs it).</summary>
    public void Synchronize()
    {
        _context.MakeCurrent();
        _context.Synchronize();
    }

    /// <summary>Returns every cached, unused device block to the driver.</summary>
    public void ReleaseCachedMemory()
    {
        _context.MakeCurrent();
        Allocator.ReleaseCached();
    }

    private void ApplyMathMode() =>
        CuBlas.Check(CuBlas.cublasSetMathMode(_blas, AllowTf32 ? CuBlas.Tf32TensorOpMath : CuBlas.DefaultMath), "cublasSetMathMode");

    private ulong? RawAllocate(long bytes)
    {
        _context.MakeCurrent();
        int status = Driver.cuMemAlloc_v2(out ulong pointer, (nuint)bytes);
        if (status == Driver.ErrorOutOfMemory) return null;
        Driver.Check(status, $"cuMemAlloc_v2({bytes})");
        return pointer;
    }

    private void RawFree(ulong pointer)
    {
        _context.MakeCurrent();
        Driver.Check(Driver.cuMemFree_v2(pointer), "cuMemFree_v2");
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static CudaStorage S(Storage s) => s as CudaStorage
        ?? throw new ArgumentException($"cuda backend: expected a cuda storage, got one from '{s.Backend.Device}'");

    /// <summary>The device address of element <paramref name="offset"/> of a storage.</summary>
    private static ulong P(Storage s, long offset = 0) => S(s).Pointer + (ulong)(offset * sizeof(float));

    /// <summary>Blocks of <see cref="Threads"/> for a grid-stride loop over n elements (0 when there is nothing to do).</summary>
    private static uint Grid(long n) => (uint)Math.Min((n + Threads - 1) / Threads, MaxBlocks);

    /// <summary>One block per row (the row kernels loop when there are more rows than blocks).</summary>
    private static uint RowGrid(long rows) => (uint)Math.Min(Math.Max(rows, 0), MaxBlocks);

    private void Enter() => _context.MakeCurrent();

    private void Launch(string kernel, uint blocks, params ReadOnlySpan<KernelArg> args) => _kernels.Launch(kernel, blocks, Threads, args);

    private CudaStorage NewStorage(int length, bool zero)
    {
        Enter();
        ulong pointer = Allocator.Rent((long)Math.Max(length, 1) * sizeof(float), out long block);
        var storage = new CudaStorage(this, pointer, block, length);
        if (zero) Launch(KernelNames.Fill, Grid(length), pointer, 0f, length);
        return storage;
    }

    /// <summary>A host int[] copied to a temporary device buffer, returned to the allocator on dispose (stream order keeps reuse safe).</summary>
    private DeviceInts Upload(int[] values)
    {
        Enter();
        ulong pointer = Allocator.Rent((long)Math.Max(values.Length, 1) * sizeof(int), out long block);
        if (values.Length == 0) return new DeviceInts(Allocator, pointer, block); // an empty array pins to null
        unsafe
        {
            fixed (int* p = values)
            {
                // From pageable memory the async copy stages the data before returning, so the array may move afterwards.
                Driver.Check(Driver.cuMemcpyHtoDAsync_v2(pointer, p, (nuint)(values.Length * sizeof(int)), _context.Stream), "cuMemcpyHtoDAsync_v2");
            }
        }
        return new DeviceInts(Allocator, pointer, block);
    }

    private readonly struct DeviceInts(CachingAllocator allocator, ulong pointer, long block) : IDisposable
    {
        public ulong Pointer => pointer;

        public void Dispose() => allocator.Return(pointer, block);
    }
}
