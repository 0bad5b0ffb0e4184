using System.Collections;
using System.Reflection;
using TinyGrad.Backends.Cuda;
using Xunit;

namespace TinyGrad.GpuCheck;

/// <summary>
/// Runs the GPU-relevant tests of TinyGrad.Tests without the .NET SDK or a test host: every test class whose name ends
/// in "Cuda" (the per-device suites), plus the CPU-vs-GPU parity, NVRTC and probing tests. A minimal xunit-compatible
/// runner: [Fact]/[SkippableFact] methods, and [Theory]/[SkippableTheory] with [MemberData] or [InlineData].
/// Usage: <c>TinyGrad.GpuCheck [name-substring]</c>. Exit code 0 when nothing failed.
/// </summary>
public static class Program
{
    private static readonly string[] s_extraClasses = ["CudaParityTests", "NvrtcCompileTests", "CudaLibraryProbeTests"];

    /// <summary>Runs the tests and prints one line per failure and a summary.</summary>
    public static int Main(string[] args)
    {
        string? filter = args.Length > 0 ? args[0] : null;
        Console.WriteLine(CudaBackend.IsAvailable ? $"cuda: {CudaBackend.Instance.Describe()}" : $"cuda: {CudaBackend.UnavailableReason}");
        var assembly = typeof(TinyGrad.Tests.Backends.OnDevice).Assembly;
        var classes = assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true } && (t.Name.EndsWith("Cuda", StringComparison.Ordinal) || s_extraClasses.Contains(t.Name)))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
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
