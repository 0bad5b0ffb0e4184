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
    private static readonly List<string> s_rejected = [];
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

    /// <summary>Every candidate that loaded but failed its trial, as "path (reason)", in the order tried.</summary>
    public static IReadOnlyList<string> Rejected
    {
        get
        {
            lock (s_lock) return [.. s_rejected];
        }
    }

    /// <summary>
    /// Loads every library in <paramref name="libraries"/> (once per process) from <paramref name="locations"/>,
    /// taking the first candidate that loads, or throws one <see cref="CudaUnavailableException"/> whose one-line
    /// message says, for each missing library, which names were tried where.
    /// </summary>
    public static void EnsureLoaded(IReadOnlyList<ProbeLocation> locations, params CudaLibrary[] libraries) =>
        EnsureLoaded(locations, libraries.Select(l => (l, (LibraryTrial?)null)).ToArray());

    /// <summary>
    /// Loads each library (once per process) from <paramref name="locations"/>: the first candidate that loads and
    /// passes its trial (none: the first that loads), the next candidate when a trial rejects one
    /// (<see cref="LibraryChoice"/>). Throws one <see cref="CudaUnavailableException"/> naming, for each library left
    /// without one, the names tried where and every rejection with its reason.
    /// </summary>
    /// <remarks>A library already loaded is kept as it is: its P/Invokes may be bound to it already.</remarks>
    public static void EnsureLoaded(IReadOnlyList<ProbeLocation> locations, IReadOnlyList<(CudaLibrary Library, LibraryTrial? Trial)> libraries)
    {
        ArgumentNullException.ThrowIfNull(libraries);
        lock (s_lock)
        {
            var missing = new List<CudaLibrary>();
            var loadErrors = new List<string>();
            var rejected = new List<string>();
            foreach (var (library, trial) in libraries)
            {
                if (s_loaded.ContainsKey(library)) continue;
                bool found = LibraryChoice.TryChoose(CudaLibraryProbe.Candidates(library, locations, Windows),
                    (string candidate, out IntPtr h, out string? error) => LoadOne(library, candidate, out h, out error),
                    trial, out var handle, out var path, loadErrors, rejected);
                if (found)
                {
                    s_loaded[library] = handle;
                    s_paths[library] = path!;
                }
                else missing.Add(library);
            }
            s_rejected.AddRange(rejected);
            if (missing.Count > 0)
                throw new CudaUnavailableException(CudaLibraryProbe.DescribeFailure(missing, locations, loadErrors, Windows, rejected));
            if (!s_resolverSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
                s_resolverSet = true;
            }
        }
    }

    /// <summary>
    /// Tries each candidate of <paramref name="library"/> in order (no trial: the first that loads wins). Files
    /// found but not loadable are added to <paramref name="loadErrors"/>.
    /// </summary>
    public static bool TryLoad(CudaLibrary library, IReadOnlyList<ProbeLocation> locations, out IntPtr handle, out string? path, List<string> loadErrors) =>
        LibraryChoice.TryChoose(CudaLibraryProbe.Candidates(library, locations, Windows),
            (string candidate, out IntPtr h, out string? error) => LoadOne(library, candidate, out h, out error),
            null, out handle, out path, loadErrors, []);

    /// <summary>
    /// Hands one candidate to the loader. A full path is tried only when the file exists, after loading its
    /// dependencies from the same folder (cuBLAS needs cuBLASLt, NVRTC its builtins), which the loader would not
    /// find there on its own; a bare name goes to the loader's own search.
    /// </summary>
    private static LoadOutcome LoadOne(CudaLibrary library, string candidate, out IntPtr handle, out string? error)
    {
        error = null;
        bool isPath = candidate.Contains(Path.DirectorySeparatorChar) || candidate.Contains('/');
        if (!isPath) return NativeLibrary.TryLoad(candidate, out handle) ? LoadOutcome.Loaded : LoadOutcome.Missing;
        handle = IntPtr.Zero;
        if (!File.Exists(candidate)) return LoadOutcome.Missing;
        PreloadDependencies(library, candidate);
        try
        {
            handle = NativeLibrary.Load(candidate);
            return LoadOutcome.Loaded;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            error = e.Message;
            return LoadOutcome.Failed;
        }
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
