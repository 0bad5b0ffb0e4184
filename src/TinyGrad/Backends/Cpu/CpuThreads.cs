namespace TinyGrad.Backends.Cpu;

/// <summary>
/// The number of threads the CPU kernels (GEMM and other parallel loops) may use.
/// </summary>
/// <remarks>
/// The default is the value of the <c>TINYGRAD_THREADS</c> environment variable when it holds a
/// positive integer, otherwise <see cref="Environment.ProcessorCount"/>. The calling thread always
/// takes part in the work, so a count of <c>N</c> uses the caller plus <c>N - 1</c> pooled workers;
/// a count of 1 runs everything on the caller. Changing the count takes effect on the next kernel call.
/// </remarks>
public static class CpuThreads
{
    /// <summary>The name of the environment variable read for the default thread count.</summary>
    public const string EnvironmentVariable = "TINYGRAD_THREADS";

    private static int s_count = DefaultCount();

    /// <summary>
    /// Gets or sets the number of threads CPU kernels may use (the caller included). Must be at least 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is less than 1.</exception>
    public static int Count
    {
        get => Volatile.Read(ref s_count);
        set
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    "CpuThreads.Count must be at least 1 (1 = run on the calling thread only).");
            }
            Volatile.Write(ref s_count, value);
        }
    }

    /// <summary>
    /// The default thread count: <c>TINYGRAD_THREADS</c> when it parses as a positive integer,
    /// otherwise <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    public static int DefaultCount()
    {
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (int.TryParse(env, System.Globalization.NumberStyles.Integer,
                System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= 1)
        {
            return n;
        }
        return Math.Max(1, Environment.ProcessorCount);
    }
}
