using System.Collections;
using System.Reflection;
using TinyGrad.Backends.Cuda;
using Xunit;

namespace TinyGrad.GpuCheck;

/// <summary>
/// Runs the GPU-relevant tests of TinyGrad.Tests without the .NET SDK or a test host: every test class whose name ends
/// in "Cuda" (the per-device suites), plus the CPU-vs-GPU parity, NVRTC and probing tests. A minimal xunit-compatible
/// runner: [Fact]/[SkippableFact] methods, and [Theory]/[SkippableTheory] with [MemberData] or [InlineData].
/// Usage: <c>TinyGrad.GpuCheck [--without-gpu | --cpu-twins] [name-substring]</c>.
/// </summary>
/// <remarks>
/// Output: first one line <c>cuda: &lt;card&gt;, sm_XY, driver …</c> (<see cref="CudaBackend.Describe"/>), then one
/// line per failure, then <c>N passed, M failed, K skipped</c>. Exit code 0 when nothing failed, 1 when a test
/// failed, 2 when no GPU is usable: then the only line is <c>cuda: CUDA is not available: &lt;why&gt;</c> and nothing runs,
/// because every GPU test would skip and "0 failed" would look like a pass. <c>--without-gpu</c> runs the tests
/// anyway (they skip), and <c>--cpu-twins</c> runs the CPU twins of the <c>*Cuda</c> classes (<c>LstmTestsCpu</c> for
/// <c>LstmTestsCuda</c>: the same test bodies), to check the published runner itself on a machine without a GPU.
/// </remarks>
public static class Program
{
    private static readonly string[] s_extraClasses = ["CudaParityTests", "NvrtcCompileTests", "CudaLibraryProbeTests"];

    /// <summary>The exit code when no GPU is usable (distinct from 1, a failed test).</summary>
    public const int NoGpuExitCode = 2;

    /// <summary>Runs the tests and prints one line per failure and a summary.</summary>
    public static int Main(string[] args)
    {
        bool cpuTwins = args.Contains("--cpu-twins");
        bool withoutGpu = cpuTwins || args.Contains("--without-gpu");
        string? filter = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        string? reason;
        try
        {
            reason = CudaBackend.UnavailableReason;
        }
        catch (Exception e)
        {
            // Anything else the first CUDA call throws also means no GPU run: still one line, still before any test.
            reason = $"CUDA is not available: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
        }
        if (reason is not null)
        {
            Console.WriteLine($"cuda: {reason}"); // "CUDA is not available: …", one line
            if (!withoutGpu) return NoGpuExitCode;
        }
        else Console.WriteLine($"cuda: {CudaBackend.Instance.Describe()}");
        var assembly = typeof(TinyGrad.Tests.Backends.OnDevice).Assembly;
        var concrete = assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true }).ToList();
        var cudaClasses = concrete.Where(t => t.Name.EndsWith("Cuda", StringComparison.Ordinal) || s_extraClasses.Contains(t.Name)).ToList();
        // The CPU twin of LstmTestsCuda is LstmTestsCpu: the same test bodies, which run here without a GPU.
        var twinNames = cudaClasses.Where(t => t.Name.EndsWith("Cuda", StringComparison.Ordinal)).Select(t => t.FullName![..^"Cuda".Length] + "Cpu").ToHashSet();
        var classes = (cpuTwins ? concrete.Where(t => twinNames.Contains(t.FullName!)) : cudaClasses).OrderBy(t => t.FullName, StringComparer.Ordinal);
        int passed = 0, failed = 0, skipped = 0;
        foreach (var type in classes)
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                bool isTheory = method.GetCustomAttributes().Any(a => a is TheoryAttribute);
                bool isFact = !isTheory && method.GetCustomAttributes().Any(a => a is FactAttribute);
                if (!isTheory && !isFact) continue;
                foreach (var row in isTheory ? Rows(type, method) : [[]])
                {
                    string name = $"{type.Name}.{method.Name}({string.Join(", ", row.Select(r => r?.ToString()))})";
                    if (filter is not null && !name.Contains(filter, StringComparison.Ordinal)) continue;
                    switch (RunOne(type, method, row, out var message))
                    {
                        case Outcome.Passed: passed++; break;
                        case Outcome.Skipped: skipped++; break;
                        default:
                            failed++;
                            Console.WriteLine($"FAIL {name}: {message}");
                            break;
                    }
                }
            }
        }
        Console.WriteLine($"{passed} passed, {failed} failed, {skipped} skipped");
        return failed == 0 ? 0 : 1;
    }

    private enum Outcome { Passed, Failed, Skipped }

    private static Outcome RunOne(Type type, MethodInfo method, object?[] row, out string message)
    {
        message = "";
        object? instance = null;
        try
        {
            instance = Activator.CreateInstance(type);
            method.Invoke(instance, row);
            return Outcome.Passed;
        }
        catch (Exception e)
        {
            while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
            if (e is SkipException) return Outcome.Skipped;
            message = e.Message.ReplaceLineEndings(" ");
            return Outcome.Failed;
        }
        finally
        {
            (instance as IDisposable)?.Dispose();
        }
    }

    private static IEnumerable<object?[]> Rows(Type type, MethodInfo method)
    {
        foreach (var inline in method.GetCustomAttributes<InlineDataAttribute>())
            foreach (var row in inline.GetData(method)) yield return row;
        foreach (var member in method.GetCustomAttributes<MemberDataAttribute>())
        {
            var source = (member.MemberType ?? type).GetMember(member.MemberName,
                BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.FlattenHierarchy).Single();
            var value = source switch
            {
                PropertyInfo p => p.GetValue(null),
                MethodInfo m => m.Invoke(null, member.Parameters),
                FieldInfo f => f.GetValue(null),
                _ => null,
            };
            foreach (var row in (IEnumerable)value!) yield return (object?[])row;
        }
    }
}
