using System.Text;
using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The compiled kernels: each .cu file becomes one module the first time one of its kernels is launched — from the
/// disk cache when an entry matches (<see cref="KernelCache.Key"/>), else compiled by NVRTC and cached once it
/// loaded; a cached image that fails to load is deleted and recompiled once (<see cref="CachedModuleLoad"/>) — and
/// is loaded with cuModuleLoadData. Functions are looked up once by name and kept.
/// </summary>
internal sealed unsafe class KernelModules
{
    private readonly object _lock = new();
    private readonly CudaContext _context;
    private readonly CompileTarget _target;
    private readonly string _nvrtcVersion;
    private readonly string _cacheDirectory;
    private readonly IReadOnlyDictionary<string, string> _fileOf = KernelSources.KernelFiles();
    private readonly Dictionary<string, IntPtr> _modules = [];
    private readonly Dictionary<string, IntPtr> _functions = [];

    public KernelModules(CudaContext context, CompileTarget target, string nvrtcVersion, string cacheDirectory)
    {
        _context = context;
        _target = target;
        _nvrtcVersion = nvrtcVersion;
        _cacheDirectory = cacheDirectory;
    }

    /// <summary>Where compiled kernels are cached.</summary>
    public string CacheDirectory => _cacheDirectory;

    /// <summary>The compile target (architecture and cubin or PTX).</summary>
    public CompileTarget Target => _target;

    /// <summary>Queues kernel <paramref name="name"/> on the stream with a 1-D grid of <paramref name="blocks"/> × <paramref name="threads"/>.</summary>
    public void Launch(string name, uint blocks, uint threads, params ReadOnlySpan<KernelArg> args)
    {
        if (blocks == 0) return;
        var function = Function(name);
        ulong* values = stackalloc ulong[Math.Max(1, args.Length)];
        void** pointers = stackalloc void*[Math.Max(1, args.Length)];
        for (int i = 0; i < args.Length; i++)
        {
            values[i] = args[i].Bits;
            pointers[i] = values + i;
        }
        Driver.Check(Driver.cuLaunchKernel(function, blocks, 1, 1, threads, 1, 1, 0, _context.Stream, pointers, null), $"cuLaunchKernel({name})");
    }

    private IntPtr Function(string name)
    {
        lock (_lock)
        {
            if (_functions.TryGetValue(name, out var function)) return function;
            if (!_fileOf.TryGetValue(name, out var file))
                throw new InvalidOperationException($"cuda: no kernel named '{name}' in Backends/Cuda/Kernels/*.cu");
            var module = Module(file);
            var bytes = Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* p = bytes) Driver.Check(Driver.cuModuleGetFunction(out function, module, p), $"cuModuleGetFunction({name})");
            _functions[name] = function;
            return function;
        }
    }

    private IntPtr Module(string file)
    {
        if (_modules.TryGetValue(file, out var module)) return module;
        var source = KernelSources.Compose(file);
        var options = KernelCompiler.Options(_target);
        var key = KernelCache.Key(source, options, _nvrtcVersion, _target.Architecture);
        module = CachedModuleLoad.Load($"{file} for {_target.Architecture}",
            readCache: () => KernelCache.TryRead(_cacheDirectory, key, _target.Extension),
            compile: () => KernelCompiler.Compile(source, file, options, _target.Cubin),
            writeCache: image => KernelCache.TryWrite(_cacheDirectory, key, _target.Extension, image),
            deleteCache: () => KernelCache.TryDelete(_cacheDirectory, key, _target.Extension),
            load: image => LoadImage(image, file));
        _modules[file] = module;
        return module;
    }

    private IntPtr LoadImage(byte[] image, string file)
    {
        IntPtr module;
        fixed (byte* p = image) Driver.Check(Driver.cuModuleLoadData(out module, p), $"cuModuleLoadData({file}, {_target.Architecture})");
        return module;
    }
}
