namespace TinyGrad.Backends.Cuda;

/// <summary>
/// How a kernel module is obtained from the disk cache or NVRTC, and what happens when a cached image does not
/// load. A cached cubin can be unloadable though its key matched: a driver update that no longer takes it, a file
/// damaged on disk. Then the entry is deleted and the source compiled once more; if the fresh image fails too, the
/// error names both failures (the second is the one to act on, the first says the cache was not the cause).
/// </summary>
/// <remarks>
/// The steps are injected, so the policy is unit-tested without a GPU or NVRTC. A fresh image is written to the
/// cache only after it loaded, so an image the driver rejects is never cached.
/// </remarks>
internal static class CachedModuleLoad
{
    /// <summary>Loads <paramref name="what"/> from the cache, else compiles, loads and caches it.</summary>
    /// <param name="what">Names the module in errors (the file and the target).</param>
    /// <param name="readCache">The cached image, or null on a miss.</param>
    /// <param name="compile">Compiles the source (throws <see cref="CudaException"/> on a compile error).</param>
    /// <param name="writeCache">Stores an image that loaded.</param>
    /// <param name="deleteCache">Removes the cached entry.</param>
    /// <param name="load">Loads an image (throws <see cref="CudaException"/> when the driver rejects it).</param>
    /// <exception cref="CudaException">The image did not load; after a cached one failed, the message names both errors.</exception>
    public static T Load<T>(string what, Func<byte[]?> readCache, Func<byte[]> compile, Action<byte[]> writeCache, Action deleteCache, Func<byte[], T> load)
    {
        ArgumentNullException.ThrowIfNull(readCache);
        ArgumentNullException.ThrowIfNull(compile);
        ArgumentNullException.ThrowIfNull(writeCache);
        ArgumentNullException.ThrowIfNull(deleteCache);
        ArgumentNullException.ThrowIfNull(load);
        var cached = readCache();
        if (cached is null) return CompileAndLoad(compile, writeCache, load);
        CudaException cachedError;
        try
        {
            return load(cached);
        }
        catch (CudaException e)
        {
            cachedError = e;
        }
        deleteCache();
        try
        {
            return CompileAndLoad(compile, writeCache, load);
        }
        catch (CudaException e)
        {
            throw new CudaException(
                $"cuda: {what}: the cached image failed to load ({cachedError.Message.ReplaceLineEndings(" ")}), and so did a fresh compile: {e.Message}", e.Code);
        }
    }

    private static T CompileAndLoad<T>(Func<byte[]> compile, Action<byte[]> writeCache, Func<byte[], T> load)
    {
        var image = compile();
        var module = load(image);
        writeCache(image);
        return module;
    }
}
