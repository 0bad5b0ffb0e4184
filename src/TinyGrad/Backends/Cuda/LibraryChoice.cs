namespace TinyGrad.Backends.Cuda;

/// <summary>What happened when one candidate file was handed to the loader.</summary>
internal enum LoadOutcome
{
    /// <summary>No such file (a bare name the loader did not find counts as missing too).</summary>
    Missing,

    /// <summary>Loaded; the handle is valid.</summary>
    Loaded,

    /// <summary>The file is there but did not load (wrong architecture, a missing dependency).</summary>
    Failed,
}

/// <summary>Hands one candidate to the loader.</summary>
internal delegate LoadOutcome CandidateLoader(string candidate, out IntPtr handle, out string? error);

/// <summary>
/// Tries a loaded library before it is chosen: null when it works, else why this version cannot run here (the
/// driver is too old for it, it does not know this GPU), so that the next candidate is tried. Throws for a failure
/// that another version would not fix.
/// </summary>
internal delegate string? LibraryTrial(IntPtr handle);

/// <summary>
/// Chooses a library among its candidates, in order: the first that loads and passes its trial. The probe lists
/// newer versions first (libcublas.so.13 before .so.12) because nothing tells it what the driver supports; the
/// trial is what finds out, and a version the driver cannot run is replaced by the next candidate instead of
/// failing the backend. Every rejection is recorded (path and reason) for the one-line error and for
/// <see cref="CudaBackend.Describe"/>. Pure apart from the injected loader and trial, so it is tested with fakes.
/// </summary>
/// <remarks>
/// A rejected library stays loaded: unloading CUDA libraries (dlclose) is known to crash at exit, and a loaded
/// but unused soname is harmless, since the P/Invoke resolver hands out only the chosen handle. Later candidates
/// with a rejected file name (the same version in another folder) are skipped: the loader would hand back the
/// copy already in the process.
/// </remarks>
internal static class LibraryChoice
{
    /// <summary>
    /// The first of <paramref name="candidates"/> that <paramref name="load"/> loads and <paramref name="trial"/>
    /// (when given) accepts. Load failures go to <paramref name="loadErrors"/>, trial rejections to
    /// <paramref name="rejected"/>, each as "path (reason)".
    /// </summary>
    public static bool TryChoose(IEnumerable<string> candidates, CandidateLoader load, LibraryTrial? trial,
        out IntPtr handle, out string? path, List<string> loadErrors, List<string> rejected)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(loadErrors);
        ArgumentNullException.ThrowIfNull(rejected);
        var rejectedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var candidate in candidates)
        {
            if (rejectedNames.Contains(Path.GetFileName(candidate))) continue;
            switch (load(candidate, out handle, out var error))
            {
                case LoadOutcome.Missing:
                    continue;
                case LoadOutcome.Failed:
                    loadErrors.Add($"{candidate} ({error})");
                    continue;
            }
            var reason = trial?.Invoke(handle);
            if (reason is null)
            {
                path = candidate;
                return true;
            }
            rejected.Add($"{candidate} ({reason})");
            rejectedNames.Add(Path.GetFileName(candidate));
        }
        handle = IntPtr.Zero;
        path = null;
        return false;
    }
}
