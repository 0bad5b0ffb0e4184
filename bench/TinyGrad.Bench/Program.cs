using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;

namespace TinyGrad.Bench;

/// <summary>
/// Entry point. The first argument may name a quick-mode verb (a plain console benchmark that prints one
/// line per case); anything else goes to BenchmarkDotNet's switcher over the suites in this assembly
/// (e.g. <c>--filter *Gemm*</c>, or no arguments for the interactive menu).
/// </summary>
public static class Program
{
    /// <summary>Quick-mode verbs. To add one (e.g. "lm"), write a class with <c>static int Run(string[] args)</c>
    /// in its own file and register it here.</summary>
    private static readonly Dictionary<string, Func<string[], int>> s_verbs = new(StringComparer.Ordinal)
    {
        ["gemm"] = GemmQuick.Run,
        ["lstm"] = LstmQuick.Run,
        ["lm"] = LmBench.Run,
        ["fuzz"] = FuzzQuick.Run,
    };

    /// <summary>Dispatches to a quick-mode verb or to BenchmarkDotNet.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && s_verbs.TryGetValue(args[0], out Func<string[], int>? verb))
        {
            return verb(args[1..]);
        }

        IConfig config = DefaultConfig.Instance;
        if (!OpenBlas.IsAvailable)
        {
            Console.Error.WriteLine("libopenblas.so.0 not loadable: OpenBLAS benchmarks are omitted.");
            config = ManualConfig.Create(DefaultConfig.Instance).AddFilter(new SimpleFilter(
                b => !b.Descriptor.WorkloadMethod.Name.StartsWith("OpenBlas", StringComparison.Ordinal)));
        }
        else if (OpenBlas.Warning is string warning)
        {
            Console.Error.WriteLine(warning);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
