namespace TinyGrad.Backends.Cuda;

/// <summary>One place to look for a library: a folder, or the system loader's own search (<see cref="Directory"/> null).</summary>
/// <param name="Source">Why this place is searched ("TINYGRAD_CUDA_PATH", "loader default path", "site-packages", "CUDA toolkit").</param>
/// <param name="Directory">The folder, or null for the loader's default search path.</param>
public sealed record ProbeLocation(string Source, string? Directory);

/// <summary>
/// Where the CUDA libraries are looked for, and in what order. Pure: it lists names and folders (the only I/O is
/// the folder scan for pip-installed CUDA) so the order is unit-tested without a GPU.
/// </summary>
/// <remarks>
/// Order: <c>TINYGRAD_CUDA_PATH</c> (a list of folders, each also with its lib64/ and lib/), then the loader's
/// default path (LD_LIBRARY_PATH, ldconfig), then the <c>nvidia/*/lib</c> folders of Python site-packages — where
/// <c>pip install nvidia-cublas-cu12</c> (or torch) puts cuBLAS and NVRTC, and CUDA 13 wheels put both in
/// <c>nvidia/cu13/lib</c> — then the usual CUDA toolkit folders.
/// Within a place, the newest versioned names come first: a soname like libcublas.so.12 is what a runtime
/// installation has; the unversioned libcublas.so exists only with development packages.
/// </remarks>
public static class CudaLibraryProbe
{
    /// <summary>The environment variable that names extra folders to search first (separated by ':').</summary>
    public const string PathVariable = "TINYGRAD_CUDA_PATH";

    /// <summary>The file names tried for <paramref name="library"/>, most preferred first.</summary>
    public static IReadOnlyList<string> FileNames(CudaLibrary library, bool windows = false) => (library, windows) switch
    {
        (CudaLibrary.Driver, false) => ["libcuda.so.1", "libcuda.so"],
        (CudaLibrary.BlasLt, false) => ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"],
        (CudaLibrary.Blas, false) => ["libcublas.so.13", "libcublas.so.12", "libcublas.so"],
        // 11.2 is the soname of every NVRTC 11.x; it compiles our kernels too (Debian ships it as libnvrtc11.2).
        (CudaLibrary.Nvrtc, false) => ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", "libnvrtc.so.11.2"],
        (CudaLibrary.Driver, true) => ["nvcuda.dll"],
        (CudaLibrary.BlasLt, true) => ["cublasLt64_13.dll", "cublasLt64_12.dll"],
        (CudaLibrary.Blas, true) => ["cublas64_13.dll", "cublas64_12.dll"],
        (CudaLibrary.Nvrtc, true) => ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll"],
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, "unknown CUDA library"),
    };

    /// <summary>
    /// The places to search, in order: each folder of <paramref name="cudaPath"/> (with its lib64/ and lib/), the
    /// loader's default path, <paramref name="sitePackagesLibDirs"/>, then <paramref name="toolkitDirs"/>.
    /// </summary>
    public static IReadOnlyList<ProbeLocation> Locations(string? cudaPath, IEnumerable<string> sitePackagesLibDirs, IEnumerable<string>? toolkitDirs = null)
    {
        ArgumentNullException.ThrowIfNull(sitePackagesLibDirs);
        var list = new List<ProbeLocation>();
        if (!string.IsNullOrWhiteSpace(cudaPath))
        {
            foreach (var dir in cudaPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                list.Add(new(PathVariable, dir));
                list.Add(new(PathVariable, Path.Combine(dir, "lib64")));
                list.Add(new(PathVariable, Path.Combine(dir, "lib")));
            }
        }
        list.Add(new("loader default path", null));
        list.AddRange(sitePackagesLibDirs.Select(d => new ProbeLocation("site-packages", d)));
        list.AddRange((toolkitDirs ?? []).Select(d => new ProbeLocation("CUDA toolkit", d)));
        return list;
    }

    /// <summary>Every candidate to hand to the loader, in order: for each place, each file name (a bare name for the loader's own search).</summary>
    public static IEnumerable<string> Candidates(CudaLibrary library, IReadOnlyList<ProbeLocation> locations, bool windows = false)
    {
        ArgumentNullException.ThrowIfNull(locations);
        foreach (var location in locations)
            foreach (var name in FileNames(library, windows))
                yield return location.Directory is null ? name : Path.Combine(location.Directory, name);
    }

    /// <summary>The CUDA toolkit's usual library folders (searched last).</summary>
    public static IReadOnlyList<string> ToolkitDirs() => ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu/nvidia/current"];

    /// <summary>
    /// The Python install prefixes scanned for site-packages: /usr/local, /usr, ~/.local, an active virtual
    /// environment or conda prefix, the parent of every <c>PATH</c> entry that ends in <c>/bin</c>, and /opt/conda.
    /// </summary>
    /// <remarks>
    /// The PATH entries matter on machines whose Python lives in a virtual environment that nobody activated in
    /// this shell (<c>/opt/&lt;name&gt;/.venv/bin</c> put on PATH by the image, VIRTUAL_ENV not exported): its
    /// site-packages, with pip's cuBLAS and NVRTC, is then reachable only through PATH.
    /// </remarks>
    /// <param name="home">HOME (for ~/.local).</param>
    /// <param name="virtualEnv">VIRTUAL_ENV.</param>
    /// <param name="condaPrefix">CONDA_PREFIX.</param>
    /// <param name="path">PATH (':'-separated); each entry ending in /bin contributes its parent folder.</param>
    public static IReadOnlyList<string> PythonPrefixes(string? home, string? virtualEnv, string? condaPrefix, string? path = null)
    {
        var prefixes = new List<string> { "/usr/local", "/usr" };
        if (!string.IsNullOrEmpty(home)) prefixes.Add(Path.Combine(home, ".local"));
        if (!string.IsNullOrEmpty(virtualEnv)) prefixes.Add(virtualEnv);
        if (!string.IsNullOrEmpty(condaPrefix)) prefixes.Add(condaPrefix);
        prefixes.AddRange(PathPrefixes(path));
        prefixes.Add("/opt/conda");
        return prefixes.Select(p => p.Length > 1 ? p.TrimEnd('/') : p).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The parents of the <paramref name="path"/> entries that end in <c>/bin</c> (<c>/opt/x/.venv/bin</c> gives
    /// <c>/opt/x/.venv</c>), in PATH order; relative entries and <c>/bin</c> itself (whose parent is the root) are
    /// left out.
    /// </summary>
    public static IReadOnlyList<string> PathPrefixes(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return [];
        var prefixes = new List<string>();
        foreach (var entry in path.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dir = entry.TrimEnd('/');
            if (!dir.StartsWith('/') || !dir.EndsWith("/bin", StringComparison.Ordinal)) continue;
            var parent = dir[..^"/bin".Length];
            if (parent.Length > 0) prefixes.Add(parent);
        }
        return prefixes;
    }

    /// <summary>
    /// Scans the file system (no Python is run) for <c>{prefix}/lib/python3*/{site,dist}-packages/nvidia/*/{lib,lib64}</c>
    /// (which includes <c>{prefix}/lib/python3/dist-packages</c>, Debian's); returns the folders that exist, sorted
    /// within each prefix. <c>*</c> is one level: <c>nvidia/cublas/lib</c> (CUDA 12 wheels, one per library) and
    /// <c>nvidia/cu13/lib</c> (CUDA 13 wheels, which share one folder) alike.
    /// </summary>
    public static IReadOnlyList<string> SitePackagesLibDirs(IEnumerable<string> prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var found = new List<string>();
        foreach (var prefix in prefixes)
        {
            var lib = Path.Combine(prefix, "lib");
            if (!Directory.Exists(lib)) continue;
            IEnumerable<string> pythons;
            try { pythons = Directory.EnumerateDirectories(lib, "python3*").OrderBy(p => p, StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var python in pythons)
            {
                foreach (var packages in new[] { "site-packages", "dist-packages" })
                {
                    var nvidia = Path.Combine(python, packages, "nvidia");
                    if (!Directory.Exists(nvidia)) continue;
                    try
                    {
                        foreach (var component in Directory.EnumerateDirectories(nvidia).OrderBy(p => p, StringComparer.Ordinal))
                        {
                            foreach (var sub in new[] { "lib", "lib64" })
                            {
                                var dir = Path.Combine(component, sub);
                                if (Directory.Exists(dir)) found.Add(dir);
                            }
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // An unreadable folder is simply not a place to find CUDA.
                    }
                }
            }
        }
        return found.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The one-line explanation when libraries were not found: the names tried for each missing library, every place
    /// searched (once), each attempt that found a file but failed to load it (a wrong architecture, a missing
    /// dependency), and each library that loaded but failed its trial (a version this driver or GPU cannot run).
    /// </summary>
    /// <param name="missing">The libraries left without a usable candidate.</param>
    /// <param name="locations">Every place searched.</param>
    /// <param name="loadErrors">Files found that did not load, as "path (reason)".</param>
    /// <param name="windows">Windows file names.</param>
    /// <param name="rejected">Files that loaded but failed their trial (a version the driver or GPU cannot run), as "path (reason)".</param>
    public static string DescribeFailure(IReadOnlyList<CudaLibrary> missing, IReadOnlyList<ProbeLocation> locations, IReadOnlyList<string> loadErrors, bool windows = false,
        IReadOnlyList<string>? rejected = null)
    {
        ArgumentNullException.ThrowIfNull(missing);
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(loadErrors);
        var places = new List<string>();
        var sources = new[] { PathVariable, "loader default path", "site-packages" }.Concat(locations.Select(l => l.Source)).Distinct();
        foreach (var source in sources)
        {
            var dirs = locations.Where(l => l.Source == source && l.Directory is not null).Select(l => l.Directory!).ToList();
            bool searched = locations.Any(l => l.Source == source);
            places.Add(source switch
            {
                PathVariable when !searched => $"{PathVariable} (not set)",
                "loader default path" => "the loader's default path (LD_LIBRARY_PATH, ldconfig cache)",
                "site-packages" when !searched => "site-packages (no nvidia/*/lib folder under any python3 site- or dist-packages)",
                _ => $"{source} [{string.Join(", ", dirs)}]",
            });
        }
        string names = string.Join(", ", missing.Select(l => string.Join(" or ", FileNames(l, windows))));
        string errors = loadErrors.Count == 0 ? "" : $"; found but failed to load: {string.Join("; ", loadErrors.Select(e => e.ReplaceLineEndings(" ")))}";
        string rejections = rejected is null || rejected.Count == 0 ? "" : $"; loaded but not usable here: {string.Join("; ", rejected.Select(e => e.ReplaceLineEndings(" ")))}";
        string what = rejections.Length == 0 ? "not found" : "no usable version of";
        return $"CUDA is not available: {what}: {names}; searched {string.Join(", then ", places)}{errors}{rejections}";
    }
}
