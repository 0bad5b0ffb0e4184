using System.Runtime.InteropServices;
using System.Text;
using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The trials (<see cref="LibraryTrial"/>) that decide whether a loaded cuBLAS or NVRTC can run with this driver
/// and GPU: cuBLAS must create a handle, NVRTC must compile a one-line kernel that the driver then loads.
/// </summary>
/// <remarks>
/// They call the candidate through function pointers taken from its own handle (<see cref="NativeLibrary.GetExport"/>),
/// never through the <see cref="CuBlas"/> and <see cref="Nvrtc"/> P/Invokes: a P/Invoke binds to a library on its
/// first call and keeps it, so calling one during a trial would tie the process to a library that might be
/// rejected. The driver is not on trial (there is one), so its P/Invokes are used.
/// </remarks>
internal static unsafe class LibraryTrials
{
    private const string ProbeKernel = "extern \"C\" __global__ void tinygrad_probe(float* x) { x[threadIdx.x] = 1.0f; }";

    /// <summary>cuBLAS is usable when cublasCreate_v2 succeeds (the handle is destroyed again).</summary>
    public static string? Blas(IntPtr library)
    {
        if (!NativeLibrary.TryGetExport(library, "cublasCreate_v2", out var create) || !NativeLibrary.TryGetExport(library, "cublasDestroy_v2", out var destroy))
            return "no cublasCreate_v2/cublasDestroy_v2 export";
        IntPtr handle;
        int status = ((delegate* unmanaged<IntPtr*, int>)create)(&handle);
        if (status == 0)
        {
            ((delegate* unmanaged<IntPtr, int>)destroy)(handle);
            return null;
        }
        if (CudaVersionErrors.IsBlasVersionError(status)) return $"cublasCreate_v2 returned {CudaVersionErrors.DescribeBlas(status)}";
        throw new CudaException($"cublas: cublasCreate_v2 failed with status {status}", status);
    }

    /// <summary>
    /// NVRTC is usable when it compiles a probe kernel for a GPU of compute capability <paramref name="architecture"/>
    /// (the target <see cref="CompileTarget.Choose"/> picks with this NVRTC's architectures) and
    /// <paramref name="loadImage"/> (the driver's cuModuleLoadData, then unload) accepts the image. An NVRTC newer
    /// than the driver fails here (CUDA_ERROR_UNSUPPORTED_PTX_VERSION and kin) rather than at the first real kernel.
    /// </summary>
    /// <param name="library">The candidate's handle.</param>
    /// <param name="architecture">The GPU's compute capability (major·10 + minor).</param>
    /// <param name="loadImage">Loads and unloads an image; returns the driver's status (0 when it loaded).</param>
    /// <param name="driver">Names the driver in the reason (e.g. "CUDA 12.4").</param>
    public static string? Nvrtc(IntPtr library, int architecture, Func<byte[], int> loadImage, string driver)
    {
        ArgumentNullException.ThrowIfNull(loadImage);
        var api = NvrtcExports.TryBind(library, out var missing);
        if (api is null) return $"no {missing} export";
        CompileTarget target;
        try
        {
            target = CompileTarget.Choose(architecture, api.Value.SupportedArchitectures());
        }
        catch (CudaUnavailableException e)
        {
            return e.Message; // this NVRTC does not know the GPU; an older or newer one may
        }
        int status = api.Value.Compile(ProbeKernel, KernelCompiler.Options(target), target.Cubin, out var image);
        if (status != 0) return $"compiling a probe kernel for {target.Architecture} failed with NVRTC status {status}";
        status = loadImage(image);
        if (status == Driver.Success) return null;
        if (CudaVersionErrors.IsDriverVersionError(status))
            return $"the driver ({driver}) cannot load its {target.Architecture} {(target.Cubin ? "cubin" : "PTX")}: cuModuleLoadData returned {CudaVersionErrors.DescribeDriver(status)}";
        throw new CudaException($"cuda: cuModuleLoadData(probe kernel for {target.Architecture}) failed with error {status}", status);
    }

    /// <summary>The NVRTC entry points a trial needs, bound to one candidate's handle.</summary>
    private readonly struct NvrtcExports
    {
        private readonly delegate* unmanaged<int*, int> _numArchs;
        private readonly delegate* unmanaged<int*, int> _archs;
        private readonly delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int> _create;
        private readonly delegate* unmanaged<IntPtr, int, byte**, int> _compile;
        private readonly delegate* unmanaged<IntPtr, nuint*, int> _cubinSize, _ptxSize;
        private readonly delegate* unmanaged<IntPtr, byte*, int> _cubin, _ptx;
        private readonly delegate* unmanaged<IntPtr*, int> _destroy;

        private NvrtcExports(IntPtr numArchs, IntPtr archs, IntPtr create, IntPtr compile, IntPtr cubinSize, IntPtr cubin, IntPtr ptxSize, IntPtr ptx, IntPtr destroy)
        {
            _numArchs = (delegate* unmanaged<int*, int>)numArchs;
            _archs = (delegate* unmanaged<int*, int>)archs;
            _create = (delegate* unmanaged<IntPtr*, byte*, byte*, int, byte**, byte**, int>)create;
            _compile = (delegate* unmanaged<IntPtr, int, byte**, int>)compile;
            _cubinSize = (delegate* unmanaged<IntPtr, nuint*, int>)cubinSize;
            _cubin = (delegate* unmanaged<IntPtr, byte*, int>)cubin;
            _ptxSize = (delegate* unmanaged<IntPtr, nuint*, int>)ptxSize;
            _ptx = (delegate* unmanaged<IntPtr, byte*, int>)ptx;
            _destroy = (delegate* unmanaged<IntPtr*, int>)destroy;
        }

        public static NvrtcExports? TryBind(IntPtr library, out string? missing)
        {
            string[] required = ["nvrtcCreateProgram", "nvrtcCompileProgram", "nvrtcGetPTXSize", "nvrtcGetPTX", "nvrtcDestroyProgram"];
            var found = new IntPtr[required.Length];
            for (int i = 0; i < required.Length; i++)
            {
                if (!NativeLibrary.TryGetExport(library, required[i], out found[i]))
                {
                    missing = required[i];
                    return null;
                }
            }
            // Optional before NVRTC 11.2 (then the GPU's own architecture is trusted, as KernelCompiler does).
            NativeLibrary.TryGetExport(library, "nvrtcGetNumSupportedArchs", out var numArchs);
            NativeLibrary.TryGetExport(library, "nvrtcGetSupportedArchs", out var archs);
            NativeLibrary.TryGetExport(library, "nvrtcGetCUBINSize", out var cubinSize);
            NativeLibrary.TryGetExport(library, "nvrtcGetCUBIN", out var cubin);
            missing = null;
            return new NvrtcExports(numArchs, archs, found[0], found[1], cubinSize, cubin, found[2], found[3], found[4]);
        }

        public int[] SupportedArchitectures()
        {
            if (_numArchs == null || _archs == null) return [];
            int count;
            if (_numArchs(&count) != 0 || count <= 0) return [];
            var archs = new int[count];
            fixed (int* p = archs) return _archs(p) == 0 ? archs : [];
        }

        public int Compile(string source, IReadOnlyList<string> options, bool cubin, out byte[] image)
        {
            image = [];
            if (cubin && (_cubinSize == null || _cubin == null)) return -1;
            var src = Utf8(source);
            var name = Utf8("tinygrad_probe.cu");
            var opts = options.Select(Utf8).ToArray();
            var handles = opts.Select(o => GCHandle.Alloc(o, GCHandleType.Pinned)).ToArray();
            IntPtr program = IntPtr.Zero;
            try
            {
                int status;
                fixed (byte* s = src, n = name) status = _create(&program, s, n, 0, null, null);
                if (status != 0) return status;
                var pointers = stackalloc byte*[opts.Length];
                for (int i = 0; i < opts.Length; i++) pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
                if ((status = _compile(program, opts.Length, pointers)) != 0) return status;
                nuint size;
                if ((status = cubin ? _cubinSize(program, &size) : _ptxSize(program, &size)) != 0) return status;
                image = new byte[(int)size];
                fixed (byte* p = image) status = cubin ? _cubin(program, p) : _ptx(program, p);
                return status;
            }
            finally
            {
                foreach (var h in handles) h.Free();
                if (program != IntPtr.Zero) _destroy(&program);
            }
        }

        private static byte[] Utf8(string s)
        {
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1]; // NUL-terminated
            Encoding.UTF8.GetBytes(s, bytes);
            return bytes;
        }
    }
}
