namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cuda;

public class KernelCacheTests
{
    private static string Key(string source = "src", string option = "--gpu-architecture=sm_90", string version = "12.4", string arch = "sm_90") =>
        KernelCache.Key(source, [option, "--std=c++14"], version, arch);

    [Fact]
    public void Key_is_stable_for_the_same_inputs()
    {
        Assert.Equal(Key(), Key());
        Assert.Matches("^[0-9a-f]{64}$", Key());
    }

    [Fact]
    public void Key_changes_with_each_of_source_options_nvrtc_version_and_architecture()
    {
        var keys = new[] { Key(), Key(source: "src2"), Key(option: "--gpu-architecture=sm_80"), Key(version: "12.5"), Key(arch: "sm_89") };
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void Key_does_not_confuse_fields_that_concatenate_to_the_same_text()
    {
        Assert.NotEqual(KernelCache.Key("ab", ["c"], "1", "x"), KernelCache.Key("a", ["bc"], "1", "x"));
        Assert.NotEqual(KernelCache.Key("a", ["b", "c"], "1", "x"), KernelCache.Key("a", ["b c"], "1", "x"));
    }

    [Fact]
    public void Default_directory_prefers_TINYGRAD_CACHE_DIR_then_XDG_then_home()
    {
        Assert.Equal(Path.Combine("/c", "cuda"), KernelCache.DefaultDirectory("/c", "/x", "/h"));
        Assert.Equal(Path.Combine("/x", "tinygrad", "cuda"), KernelCache.DefaultDirectory(null, "/x", "/h"));
        Assert.Equal(Path.Combine("/h", ".cache", "tinygrad", "cuda"), KernelCache.DefaultDirectory("", null, "/h"));
    }

    [Fact]
    public void Write_then_read_round_trips_and_leaves_no_temporary_file()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tinygrad-cache-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.Null(KernelCache.TryRead(dir, "abc", ".cubin"));
            Assert.True(KernelCache.TryWrite(dir, "abc", ".cubin", [1, 2, 3]));
            Assert.True(KernelCache.TryWrite(dir, "abc", ".cubin", [4, 5])); // an existing entry is replaced whole
            Assert.Equal([4, 5], KernelCache.TryRead(dir, "abc", ".cubin"));
            Assert.Equal(["abc.cubin"], Directory.EnumerateFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void An_unwritable_cache_is_a_miss_not_a_failure()
    {
        var file = Path.GetTempFileName(); // a file where the folder should be
        try
        {
            Assert.False(KernelCache.TryWrite(Path.Combine(file, "sub"), "k", ".ptx", [1]));
            Assert.Null(KernelCache.TryRead(Path.Combine(file, "sub"), "k", ".ptx"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
