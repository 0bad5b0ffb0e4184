namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cuda;

// Where the CUDA libraries are looked for, and what the user is told when they are not there.
public class CudaLibraryProbeTests
{
    [Fact]
    public void Versioned_names_come_first_newest_first()
    {
        Assert.Equal(["libcublas.so.13", "libcublas.so.12", "libcublas.so"], CudaLibraryProbe.FileNames(CudaLibrary.Blas));
        Assert.Equal(["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"], CudaLibraryProbe.FileNames(CudaLibrary.BlasLt));
        Assert.Equal("libnvrtc.so.13", CudaLibraryProbe.FileNames(CudaLibrary.Nvrtc)[0]);
        Assert.Equal("libnvrtc.so.12", CudaLibraryProbe.FileNames(CudaLibrary.Nvrtc)[1]);
        Assert.Equal("libcuda.so.1", CudaLibraryProbe.FileNames(CudaLibrary.Driver)[0]);
    }

    [Fact]
    public void Order_is_the_variable_then_the_loader_then_site_packages_then_the_toolkit()
    {
        var locations = CudaLibraryProbe.Locations("/a:/b", ["/site/nvidia/cublas/lib"], ["/usr/local/cuda/lib64"]);
        Assert.Equal(
            ["/a", "/a/lib64", "/a/lib", "/b", "/b/lib64", "/b/lib", null, "/site/nvidia/cublas/lib", "/usr/local/cuda/lib64"],
            locations.Select(l => l.Directory));
        var candidates = CudaLibraryProbe.Candidates(CudaLibrary.Blas, locations).ToList();
        Assert.Equal("/a/libcublas.so.13", candidates[0]);
        Assert.Equal("/a/libcublas.so.12", candidates[1]);
        Assert.Equal("libcublas.so.13", candidates[18]); // the loader's own search: a bare name, after the 6 folders × 3 names
        Assert.Equal("/usr/local/cuda/lib64/libcublas.so", candidates[^1]);
    }

    [Fact]
    public void Without_the_variable_the_loader_comes_first()
    {
        Assert.Null(CudaLibraryProbe.Locations(null, []).Single().Directory);
        Assert.Null(CudaLibraryProbe.Locations("  ", []).Single().Directory);
    }

    [Fact]
    public void Site_packages_are_found_by_scanning_the_file_system()
    {
        var prefix = Path.Combine(Path.GetTempPath(), "tinygrad-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cublas = Directory.CreateDirectory(Path.Combine(prefix, "lib", "python3.11", "site-packages", "nvidia", "cublas", "lib")).FullName;
            var nvrtc = Directory.CreateDirectory(Path.Combine(prefix, "lib", "python3.11", "site-packages", "nvidia", "cuda_nvrtc", "lib")).FullName;
            var debian = Directory.CreateDirectory(Path.Combine(prefix, "lib", "python3", "dist-packages", "nvidia", "cublas", "lib")).FullName;
            Directory.CreateDirectory(Path.Combine(prefix, "lib", "python3.11", "site-packages", "nvidia", "no_lib_here"));
            Directory.CreateDirectory(Path.Combine(prefix, "lib", "python2.7", "site-packages", "nvidia", "cublas", "lib"));
            Assert.Equal([debian, cublas, nvrtc], CudaLibraryProbe.SitePackagesLibDirs([prefix, Path.Combine(prefix, "missing")]));
        }
        finally
        {
            Directory.Delete(prefix, true);
        }
    }

    [Fact]
    public void Python_prefixes_include_user_and_environment_installs()
    {
        var prefixes = CudaLibraryProbe.PythonPrefixes("/home/u", "/venv", null);
        Assert.Equal(["/usr/local", "/usr", "/home/u/.local", "/venv", "/opt/conda"], prefixes);
    }

    [Fact]
    public void Path_entries_ending_in_bin_give_their_parent_as_a_prefix()
    {
        Assert.Equal(["/opt/app/.venv", "/usr/local", "/home/u/.local"],
            CudaLibraryProbe.PathPrefixes("/opt/app/.venv/bin:/usr/local/bin/:/bin:relative/bin:/usr/local/sbin::/home/u/.local/bin"));
        Assert.Empty(CudaLibraryProbe.PathPrefixes(null));
        var prefixes = CudaLibraryProbe.PythonPrefixes("/home/u", null, null, "/opt/app/.venv/bin:/usr/bin");
        Assert.Equal(["/usr/local", "/usr", "/home/u/.local", "/opt/app/.venv", "/opt/conda"], prefixes);
    }

    [Fact]
    public void A_virtual_environment_reached_only_through_PATH_is_scanned_including_cu13_and_lib64()
    {
        // The layout of a GPU image whose Python is /opt/<name>/.venv, on PATH but not activated (no VIRTUAL_ENV),
        // with CUDA 13 wheels (one shared nvidia/cu13/lib) and a wheel that uses lib64.
        var root = Path.Combine(Path.GetTempPath(), "tinygrad-venv-" + Guid.NewGuid().ToString("N"));
        try
        {
            var venv = Path.Combine(root, "opt", "app", ".venv");
            Directory.CreateDirectory(Path.Combine(venv, "bin"));
            var nvidia = Path.Combine(venv, "lib", "python3.12", "site-packages", "nvidia");
            var cu13 = Directory.CreateDirectory(Path.Combine(nvidia, "cu13", "lib")).FullName;
            var lib64 = Directory.CreateDirectory(Path.Combine(nvidia, "cuda_nvrtc", "lib64")).FullName;
            File.WriteAllText(Path.Combine(cu13, "libcublas.so.13"), "not a shared library");
            File.WriteAllText(Path.Combine(cu13, "libnvrtc.so.13"), "not a shared library");

            var prefixes = CudaLibraryProbe.PythonPrefixes(null, virtualEnv: null, condaPrefix: null, path: $"/usr/bin:{venv}/bin");
            var dirs = CudaLibraryProbe.SitePackagesLibDirs(prefixes);
            Assert.Contains(cu13, dirs);
            Assert.Contains(lib64, dirs);

            // The loader gets the fake files (and rejects them, which shows they were found where the wheels put them).
            var locations = CudaLibraryProbe.Locations(null, dirs).Where(l => l.Directory is not null).ToList();
            foreach (var (library, file) in new[] { (CudaLibrary.Blas, "libcublas.so.13"), (CudaLibrary.Nvrtc, "libnvrtc.so.13") })
            {
                Assert.Contains(Path.Combine(cu13, file), CudaLibraryProbe.Candidates(library, locations));
                var errors = new List<string>();
                Assert.False(CudaLibraries.TryLoad(library, locations, out _, out _, errors));
                Assert.Contains(errors, e => e.StartsWith(Path.Combine(cu13, file), StringComparison.Ordinal));
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public void A_fake_library_in_TINYGRAD_CUDA_PATH_gives_one_line_naming_what_was_searched_and_why_it_failed()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tinygrad-fake-cuda-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var fake = Path.Combine(dir, "libcublas.so.12");
            File.WriteAllText(fake, "not a shared library");
            // Only the variable's folders, so the result does not depend on what this machine has installed.
            var locations = CudaLibraryProbe.Locations(dir, []).Where(l => l.Directory is not null).ToList();
            var errors = new List<string>();
            Assert.False(CudaLibraries.TryLoad(CudaLibrary.Blas, locations, out _, out _, errors));
            Assert.Single(errors);
            Assert.StartsWith(fake, errors[0], StringComparison.Ordinal);

            var all = CudaLibraryProbe.Locations(dir, ["/site/nvidia/cublas/lib"]);
            var message = CudaLibraryProbe.DescribeFailure([CudaLibrary.Blas, CudaLibrary.Nvrtc], all, errors);
            Assert.DoesNotContain('\n', message);
            Assert.StartsWith("CUDA is not available: not found: libcublas.so.13 or libcublas.so.12 or libcublas.so, libnvrtc.so.13", message, StringComparison.Ordinal);
            Assert.Contains($"TINYGRAD_CUDA_PATH [{dir}, {dir}/lib64, {dir}/lib]", message, StringComparison.Ordinal);
            Assert.Contains("the loader's default path", message, StringComparison.Ordinal);
            Assert.Contains("site-packages [/site/nvidia/cublas/lib]", message, StringComparison.Ordinal);
            Assert.Contains("found but failed to load: " + fake, message, StringComparison.Ordinal);
            Assert.True(message.IndexOf("TINYGRAD_CUDA_PATH", StringComparison.Ordinal) < message.IndexOf("loader", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void An_unset_variable_and_no_site_packages_are_said_so()
    {
        var message = CudaLibraryProbe.DescribeFailure([CudaLibrary.Driver], CudaLibraryProbe.Locations(null, []), []);
        Assert.Contains("TINYGRAD_CUDA_PATH (not set)", message, StringComparison.Ordinal);
        Assert.Contains("site-packages (no nvidia/*/lib folder", message, StringComparison.Ordinal);
        Assert.Contains("libcuda.so.1", message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Without_a_gpu_the_backend_reports_unavailable_with_the_same_kind_of_message()
    {
        Skip.If(CudaBackend.IsAvailable, "this machine has CUDA");
        Assert.StartsWith("CUDA is not available", CudaBackend.UnavailableReason, StringComparison.Ordinal);
        var e = Assert.Throws<CudaUnavailableException>(() => TinyGrad.Backends.Device.Cuda.Backend);
        Assert.DoesNotContain('\n', e.Message);
    }
}
