using System.Reflection;
using System.Runtime.InteropServices;
using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// Finds and loads the CUDA libraries at run time, and maps the P/Invoke declarations' logical library names
/// (<see cref="Driver.Library"/>, <see cref="CuBlas.Library"/>, <see cref="Nvrtc.Library"/>) to them with
/// <see cref="NativeLibrary.SetDllImportResolver"/>. Nothing here runs until CUDA is asked for: no static
/// constructor in the library touches it, so a machine without CUDA never loads anything native.
/// </summary>
internal static class CudaLibraries
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<CudaLibrary, IntPtr> s_loaded = [];
    private static readonly Dictionary<CudaLibrary, string> s_paths = [];
    private static bool s_resolverSet;

    private static bool Windows => OperatingSystem.IsWindows();

    /// <summary>The search order for this process: TINYGRAD_CUDA_PATH, the loader, site-packages, the toolkit folders.</summary>
    public static IReadOnlyList<ProbeLocation> DefaultLocations() => CudaLibraryProbe.Locations(
        Environment.GetEnvironmentVariable(CudaLibraryProbe.PathVariable),
        CudaLibraryProbe.SitePackagesLibDirs(CudaLibraryProbe.PythonPrefixes(
            Environment.GetEnvironmentVariable("HOME"), Environment.GetEnvironmentVariable("VIRTUAL_ENV"), Environment.GetEnvironmentVariable("CONDA_PREFIX"),
            Environment.GetEnvironmentVariable("PATH"))),
        CudaLibraryProbe.ToolkitDirs());

    /// <summary>Where each loaded library came from (for diagnostics and the docs' "what did it pick" question).</summary>
    public static IReadOnlyDictionary<CudaLibrary, string> LoadedPaths
    {
        get
        {
            lock (s_lock) return new Dictionary<CudaLibrary, string>(s_paths);
        }
    }

    /// <summary>
    /// Loads every library in <paramref name="libraries"/> (once per process) from <paramref name="locations"/>,
    /// or throws one <see cref="CudaUnavailableException"/> whose one-line message says, for each missing
    /// library, which names were tried where.
    /// </summary>
    public static void EnsureLoaded(IReadOnlyList<ProbeLocation> locations, params CudaLibrary[] libraries)
    {
        lock (s_lock)
        {
            var missing = new List<CudaLibrary>();
            var loadErrors = new List<string>();
            foreach (var library in libraries)
            {
                if (s_loaded.ContainsKey(library)) continue;
                if (TryLoad(library, locations, out var handle, out var path, loadErrors))
                {
                    s_loaded[library] = handle;
                    s_paths[library] = path!;
                }
                else missing.Add(library);
            }
            if (missing.Count > 0)
                throw new CudaUnavailableException(CudaLibraryProbe.DescribeFailure(missing, locations, loadErrors, Windows));
            if (!s_resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
                s_resolverSet = true;
            }
        }
    }

    /// <summary>
    /// Tries each candidate of <paramref name="library"/> in order. A full path is tried only when the file
    /// exists, after loading its dependencies from the same folder (cuBLAS needs cuBLASLt, NVRTC its builtins),
    /// which the loader would not find there on its own. Files found but not loadable are added to <paramref name="loadErrors"/>.
    /// </summary>
    public static bool TryLoad(CudaLibrary library, IReadOnlyList<ProbeLocation> locations, out IntPtr handle, out string? path, List<string> loadErrors)
    {
        foreach (var candidate in CudaLibraryProbe.Candidates(library, locations, Windows))
        {
            bool isPath = candidate.Contains(Path.DirectorySeparatorChar) || candidate.Contains('/');
            if (!isPath)
            {
                if (NativeLibrary.TryLoad(candidate, out handle))
                {
                    path = candidate;
                    return true;
                }
                continue;
            }
            if (!File.Exists(candidate)) continue;
            PreloadDependencies(library, candidate);
            try
            {
                handle = NativeLibrary.Load(candidate);
                path = candidate;
                return true;
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                loadErrors.Add($"{candidate} ({e.Message})");
            }
        }
        handle = IntPtr.Zero;
        path = null;
        return false;
    }

    // cuBLAS and NVRTC load companions by soname; loading those from the same folder first lets the dynamic
    // linker find them already in the process (pip puts them in nvidia/cublas/lib and nvidia/cuda_nvrtc/lib,
    // which are on no search path).
    private static void PreloadDependencies(CudaLibrary library, string candidate)
    {
        string dir = Path.GetDirectoryName(candidate)!, file = Path.GetFileName(candidate);
        var companions = new List<string>();
        if (library == CudaLibrary.Blas)
        {
            int so = file.IndexOf(".so", StringComparison.Ordinal);
            if (so >= 0) companions.Add(Path.Combine(dir, "libcublasLt" + file[so..]));
            else companions.Add(Path.Combine(dir, file.Replace("cublas64", "cublasLt64", StringComparison.Ordinal)));
        }
        else if (library == CudaLibrary.Nvrtc && Directory.Exists(dir))
        {
            companions.AddRange(Directory.EnumerateFiles(dir, "libnvrtc-builtins.so*").Order(StringComparer.Ordinal));
            companions.AddRange(Directory.EnumerateFiles(dir, "nvrtc-builtins64*.dll").Order(StringComparer.Ordinal));
        }
        foreach (var companion in companions)
        {
            if (File.Exists(companion)) NativeLibrary.TryLoad(companion, out _);
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var library = name switch
        {
            Driver.Library => CudaLibrary.Driver,
            CuBlas.Library => CudaLibrary.Blas,
            Nvrtc.Library => CudaLibrary.Nvrtc,
            _ => (CudaLibrary?)null,
        };
        if (library is null) return IntPtr.Zero; // not ours: the runtime's default probing
        lock (s_lock) return s_loaded.TryGetValue(library.Value, out var handle) ? handle : IntPtr.Zero;
    }
}
