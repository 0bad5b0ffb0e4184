namespace TinyGrad.Tests.Backends;

using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

// .ci/run runs the whole suite once per SIMD path and names the path in TINYGRAD_SIMD_PATH. This checks that the
// runtime really runs that path: .NET ignores a switch it does not know (DOTNET_EnableAVX512F=0 switches nothing
// off on .NET 10), and a matrix that silently tests AVX-512 three times proves nothing about the AVX2 machines.
public sealed class SimdPathTests
{
    [SkippableFact]
    public void The_suite_runs_on_the_simd_path_ci_asked_for()
    {
        string? path = Environment.GetEnvironmentVariable("TINYGRAD_SIMD_PATH");
        Skip.If(path is null, "TINYGRAD_SIMD_PATH is not set (only .ci/run sets it)");
        string actual = $"Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}";
        switch (path)
        {
            case "default":
                break;
            case "avx2":
                Assert.False(Vector512.IsHardwareAccelerated || Avx512F.IsSupported, $"AVX-512 is still on: {actual}");
                Assert.True(Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported, $"AVX2 should be on: {actual}");
                break;
            case "portable":
                Assert.False(Vector256.IsHardwareAccelerated || Avx2.IsSupported, $"AVX2 is still on: {actual}");
                break;
            default:
                Assert.Fail($"TINYGRAD_SIMD_PATH={path}: expected default, avx2 or portable");
                break;
        }
    }
}
