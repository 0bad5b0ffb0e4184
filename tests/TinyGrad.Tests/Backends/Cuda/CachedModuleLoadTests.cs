namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cuda;

// What happens to a cached kernel image the driver will not load, with fakes for the cache, NVRTC and the driver.
public class CachedModuleLoadTests
{
    private sealed class Fakes
    {
        public byte[]? Cached;
        public readonly List<string> Log = [];
        public Func<byte[], int> Loader = image => image[0];

        public int Run() => CachedModuleLoad.Load("heads.cu for sm_90",
            readCache: () => Cached,
            compile: () => { Log.Add("compile"); return [42]; },
            writeCache: image => { Log.Add($"write {image[0]}"); Cached = image; },
            deleteCache: () => { Log.Add("delete"); Cached = null; },
            load: image => { Log.Add($"load {image[0]}"); return Loader(image); });
    }

    private static CudaException DriverError(int code) => new($"cuda: cuModuleLoadData(heads.cu, sm_90) failed with error {code}", code);

    [Fact]
    public void A_cached_image_that_loads_is_used_without_compiling()
    {
        var f = new Fakes { Cached = [7] };
        Assert.Equal(7, f.Run());
        Assert.Equal(["load 7"], f.Log);
    }

    [Fact]
    public void A_miss_compiles_and_caches_only_after_the_image_loaded()
    {
        var f = new Fakes();
        Assert.Equal(42, f.Run());
        Assert.Equal(["compile", "load 42", "write 42"], f.Log);

        var rejected = new Fakes { Loader = _ => throw DriverError(222) };
        Assert.Throws<CudaException>(() => rejected.Run());
        Assert.Equal(["compile", "load 42"], rejected.Log); // never cached
    }

    [Fact]
    public void A_cached_image_that_fails_to_load_is_deleted_and_recompiled_once()
    {
        var f = new Fakes { Cached = [7] };
        f.Loader = image => image[0] == 7 ? throw DriverError(200) : image[0];
        Assert.Equal(42, f.Run());
        Assert.Equal(["load 7", "delete", "compile", "load 42", "write 42"], f.Log);
        Assert.Equal([42], f.Cached);
    }

    [Fact]
    public void When_the_fresh_image_fails_too_the_error_names_both_failures()
    {
        var f = new Fakes { Cached = [7], Loader = image => throw DriverError(image[0] == 7 ? 200 : 222) };
        var e = Assert.Throws<CudaException>(() => f.Run());
        Assert.Equal(["load 7", "delete", "compile", "load 42"], f.Log); // one retry, nothing cached
        Assert.Equal(222, e.Code);
        Assert.Contains("heads.cu for sm_90", e.Message, StringComparison.Ordinal);
        Assert.Contains("error 200", e.Message, StringComparison.Ordinal);
        Assert.Contains("error 222", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.IndexOf("error 200", StringComparison.Ordinal) < e.Message.IndexOf("error 222", StringComparison.Ordinal));
    }

    [Fact]
    public void Deleting_an_entry_removes_the_file_and_a_missing_one_counts_as_removed()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tinygrad-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.True(KernelCache.TryWrite(dir, "k", ".cubin", [1, 2, 3]));
            Assert.True(KernelCache.TryDelete(dir, "k", ".cubin"));
            Assert.Null(KernelCache.TryRead(dir, "k", ".cubin"));
            Assert.True(KernelCache.TryDelete(dir, "k", ".cubin"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
