namespace TinyGrad.Tests.Backends.Cuda;

using System.Reflection;
using TinyGrad.Backends;
using TinyGrad.Backends.Cuda;

// The kernels' CUDA C sources are embedded resources; these checks run without a GPU or NVRTC.
public class KernelSourcesTests
{
    private static IReadOnlyList<string> LaunchedNames() =>
        [.. typeof(KernelNames).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!)];

    [Fact]
    public void Every_kernel_the_backend_launches_is_an_extern_C_global_function_in_the_sources()
    {
        var defined = KernelSources.KernelFiles();
        var missing = LaunchedNames().Where(n => !defined.ContainsKey(n)).ToList();
        Assert.True(missing.Count == 0, $"launched but not defined in Kernels/*.cu: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_kernel_in_the_sources_is_launched_by_the_backend()
    {
        var launched = LaunchedNames().ToHashSet();
        var unused = KernelSources.KernelFiles().Keys.Where(n => !launched.Contains(n)).ToList();
        Assert.True(unused.Count == 0, $"defined but never launched: {string.Join(", ", unused)}");
    }

    [Fact]
    public void The_backend_launches_kernels_only_through_the_KernelNames_constants()
    {
        // Scan the backend's source files: a string literal passed to Launch would bypass the check above.
        var dir = Path.Combine(RepoRoot(), "src", "TinyGrad", "Backends", "Cuda");
        foreach (var file in Directory.EnumerateFiles(dir, "CudaBackend*.cs"))
        {
            foreach (var line in File.ReadLines(file).Where(l => l.Contains("Launch(", StringComparison.Ordinal) && !l.Contains("private void Launch", StringComparison.Ordinal)))
                Assert.True(line.Contains("KernelNames.", StringComparison.Ordinal), $"{Path.GetFileName(file)}: '{line.Trim()}' launches a kernel not named by KernelNames");
        }
    }

    [Fact]
    public void Parser_finds_extern_C_global_functions_and_ignores_comments_and_device_functions()
    {
        const string source = """
            extern "C" __global__ void first(float* x) {}
            __device__ float helper(float x) { return x; }
            // extern "C" __global__ void commented(float* x) {}
            /* extern "C" __global__ void blockcommented() {} */
            extern "C"  __global__  __launch_bounds__(256) void second (int n) {}
            """;
        Assert.Equal(["first", "second"], KernelSources.KernelNames(source));
    }

    [Fact]
    public void Prelude_defines_every_op_enum_value()
    {
        var prelude = KernelSources.Prelude();
        Assert.Contains("#define UNARY_EXP " + (int)UnaryOp.Exp + "\n", prelude, StringComparison.Ordinal);
        Assert.Contains("#define UNARY_STEP " + (int)UnaryOp.Step + "\n", prelude, StringComparison.Ordinal);
        Assert.Contains("#define BINARY_DIV " + (int)BinaryOp.Div + "\n", prelude, StringComparison.Ordinal);
        Assert.Contains("#define REDUCE_LOGSUMEXP " + (int)ReduceOp.LogSumExp + "\n", prelude, StringComparison.Ordinal);
        Assert.Contains("#define NORM_SIGSOFTMAX " + (int)Normalizer.Sigsoftmax + "\n", prelude, StringComparison.Ordinal);
        // And the kernels use each op's name, so a renamed enum member breaks the (GPU-free) NVRTC test, not a run.
        var elementwise = KernelSources.Raw("elementwise.cu");
        foreach (var op in Enum.GetNames<UnaryOp>()) Assert.Contains("UNARY_" + op.ToUpperInvariant() + ":", elementwise, StringComparison.Ordinal);
        foreach (var op in Enum.GetNames<BinaryOp>()) Assert.Contains("BINARY_" + op.ToUpperInvariant() + ":", elementwise, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_source_file_is_embedded()
    {
        var dir = Path.Combine(RepoRoot(), "src", "TinyGrad", "Backends", "Cuda", "Kernels");
        var onDisk = Directory.EnumerateFiles(dir, "*.cu").Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(onDisk, KernelSources.Files);
        Assert.StartsWith("// Generated from the C# enums", KernelSources.Compose("heads.cu"), StringComparison.Ordinal);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "TinyGrad.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("TinyGrad.sln not found above the test binaries");
    }
}
