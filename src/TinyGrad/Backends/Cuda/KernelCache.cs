using System.Security.Cryptography;
using System.Text;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The on-disk cache of compiled kernels. An entry is keyed on everything that changes the binary: the source,
/// the compiler options, the NVRTC version and the GPU architecture (a cache keyed on the source alone hands an
/// sm_80 cubin to an sm_90 GPU, or a stale binary to a new compiler). Files are written atomically (a temporary
/// file in the same folder, then a rename), so two processes compiling at once never read a half-written entry.
/// </summary>
public static class KernelCache
{
    /// <summary>The environment variable that moves the cache (kernels go to its <c>cuda</c> subfolder).</summary>
    public const string DirectoryVariable = "TINYGRAD_CACHE_DIR";

    /// <summary>
    /// The cache key: a SHA-256 over the four inputs, each length-prefixed so that no two different inputs
    /// concatenate to the same bytes. Lower-case hex.
    /// </summary>
    public static string Key(string source, IReadOnlyList<string> options, string nvrtcVersion, string architecture)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var text = new StringBuilder();
        void Field(string s) => text.Append(s.Length).Append(':').Append(s).Append('\n');
        Field("tinygrad-kernel-cache-v1");
        Field(source);
        Field(options.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var option in options) Field(option);
        Field(nvrtcVersion);
        Field(architecture);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// The cache folder: <c>$TINYGRAD_CACHE_DIR/cuda</c>, else <c>$XDG_CACHE_HOME/tinygrad/cuda</c>, else
    /// <c>~/.cache/tinygrad/cuda</c>.
    /// </summary>
    public static string DefaultDirectory(string? cacheDir, string? xdgCacheHome, string? home)
    {
        if (!string.IsNullOrEmpty(cacheDir)) return Path.Combine(cacheDir, "cuda");
        if (!string.IsNullOrEmpty(xdgCacheHome)) return Path.Combine(xdgCacheHome, "tinygrad", "cuda");
        return Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".cache", "tinygrad", "cuda");
    }

    /// <summary>The cache folder for this process's environment.</summary>
    public static string DefaultDirectory() => DefaultDirectory(
        Environment.GetEnvironmentVariable(DirectoryVariable), Environment.GetEnvironmentVariable("XDG_CACHE_HOME"),
        Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>The entry for <paramref name="key"/> in <paramref name="directory"/>, or null when absent or unreadable.</summary>
    public static byte[]? TryRead(string directory, string key, string extension)
    {
        try
        {
            var path = Path.Combine(directory, key + extension);
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // a cache that cannot be read is a cache miss
        }
    }

    /// <summary>
    /// Stores an entry atomically: written to a uniquely named temporary file in the same folder, then renamed
    /// over the final name. Returns false (and leaves nothing behind) when the folder is not writable: the cache
    /// is an optimisation, never a reason to fail.
    /// </summary>
    public static bool TryWrite(string directory, string key, string extension, ReadOnlySpan<byte> data)
    {
        string? temp = null;
        try
        {
            Directory.CreateDirectory(directory);
            temp = Path.Combine(directory, $"{key}{extension}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(data);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, Path.Combine(directory, key + extension), overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (temp is not null)
            {
                try { File.Delete(temp); } catch (Exception inner) when (inner is IOException or UnauthorizedAccessException) { }
            }
            return false;
        }
    }

    /// <summary>
    /// Removes the entry for <paramref name="key"/> (one whose image the driver rejected). Returns false when it
    /// could not be removed; a missing entry counts as removed.
    /// </summary>
    public static bool TryDelete(string directory, string key, string extension)
    {
        try
        {
            File.Delete(Path.Combine(directory, key + extension));
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the recompiled image overwrites it anyway when the folder is writable
        }
    }
}
