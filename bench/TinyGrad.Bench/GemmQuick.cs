using System.Diagnostics;
using System.Globalization;
using TinyGrad.Backends.Cpu;

namespace TinyGrad.Bench;

/// <summary>One GEMM problem: C[M,N] = op(A)[M,K] · op(B)[K,N].</summary>
public sealed record GemmShape(int M, int K, int N, bool TransA, bool TransB)
{
    /// <summary>"NN", "NT", "TN" or "TT".</summary>
    public string Trans => $"{(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')}";

    /// <summary>Short form used as the benchmark parameter label: "MxKxN trans" (BenchmarkDotNet truncates past 20 characters).</summary>
    public override string ToString() => $"{M}x{K}x{N} {Trans}";

    /// <summary>Floating-point operations of one call (2·M·N·K).</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>The benchmark shapes: the word-LM output layer (700 = 35 steps x batch 20, vocabulary 10,000)
    /// and its two backward GEMMs, the 650-wide variant, the recurrent LSTM steps (M = 20), a small output
    /// layer, and a square reference.</summary>
    public static readonly GemmShape[] Standard =
    [
        new(700, 200, 10000, false, false),
        new(700, 10000, 200, false, true),   // dA = dC · Bᵀ
        new(200, 700, 10000, true, false),   // dB = Aᵀ · dC
        new(700, 650, 10000, false, false),
        new(20, 200, 800, false, false),
        new(20, 650, 2600, false, false),
        new(700, 200, 800, false, false),
        new(1024, 1024, 1024, false, false),
    ];

    /// <summary>Leading dimensions of the operands as stored (row-major, no padding).</summary>
    public (int Lda, int Ldb, int Ldc) LeadingDims => (TransA ? M : K, TransB ? K : N, N);

    /// <summary>Allocates seeded random operands and a zeroed C.</summary>
    public (float[] A, float[] B, float[] C) Allocate(int seed = 1)
    {
        var rng = new Random(seed);
        var a = new float[(long)M * K];
        var b = new float[(long)K * N];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
        return (a, b, new float[(long)M * N]);
    }
}

/// <summary>
/// <c>gemm [--threads N]</c>: a quick head-to-head of TinyGrad's SGEMM against OpenBLAS, one line per shape.
/// </summary>
/// <remarks>
/// The machine is shared and noisy, so the two libraries are measured in alternating rounds (the order
/// flips every round) after a warm-up, and each reports the median round. Before each round the other
/// library's thread pool is given time to go idle, so its spinning workers do not steal the cores.
/// </remarks>
internal static class GemmQuick
{
    private const double RoundSeconds = 0.08;
    private const int Rounds = 9;
    private const double WarmUpSeconds = 0.15;

    public static int Run(string[] args)
    {
        int threads = CpuThreads.Count;
        var shapes = new List<GemmShape>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--threads" && i + 1 < args.Length && int.TryParse(args[i + 1], out int t) && t >= 1)
            {
                threads = t;
                i++;
            }
            else if (args[i] == "--shape" && i + 1 < args.Length && ParseShape(args[i + 1]) is GemmShape shape)
            {
                shapes.Add(shape);
                i++;
            }
            else
            {
                Console.Error.WriteLine($"usage: gemm [--threads N] [--shape M,K,N,TT ...]   (e.g. --shape 700,200,10000,NT; bad argument '{args[i]}')");
                return 2;
            }
        }
        if (shapes.Count == 0) shapes.AddRange(GemmShape.Standard);
        CpuThreads.Count = threads;
        bool haveBlas = OpenBlas.IsAvailable;
        OpenBlas.SetThreads(threads);
        if (OpenBlas.Warning is string warning) Console.Error.WriteLine(warning);

        foreach (GemmShape shape in shapes)
        {
            (double ours, double? theirs) = Measure(shape, haveBlas);
            string blas = theirs is double g ? F(g) : "NA";
            string ratio = theirs is double g2 ? (ours / g2).ToString("0.00", CultureInfo.InvariantCulture) : "NA";
            Console.WriteLine($"gemm M={shape.M} K={shape.K} N={shape.N} trans={shape.Trans} " +
                $"tinygrad_gflops={F(ours)} openblas_gflops={blas} ratio={ratio}");
        }
        return 0;
    }

    /// <summary>"M,K,N,TT" (TT one of NN, NT, TN, TT), or null.</summary>
    private static GemmShape? ParseShape(string text)
    {
        var parts = text.Split(',');
        if (parts.Length != 4 || parts[3].Length != 2 || parts[3].Any(c => c is not ('N' or 'T'))) return null;
        var dims = new int[3];
        for (int d = 0; d < 3; d++)
        {
            if (!int.TryParse(parts[d], NumberStyles.None, CultureInfo.InvariantCulture, out dims[d]) || dims[d] < 1) return null;
        }
        return new GemmShape(dims[0], dims[1], dims[2], parts[3][0] == 'T', parts[3][1] == 'T');
    }

    private static string F(double x) => x.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Median GFLOP/s of TinyGrad and (when available) OpenBLAS for one shape.</summary>
    internal static (double Ours, double? Theirs) Measure(GemmShape s, bool haveBlas)
    {
        (float[] a, float[] b, float[] c) = s.Allocate();
        (int lda, int ldb, int ldc) = s.LeadingDims;
        void Ours() => Gemm.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, ldc);
        void Theirs() => OpenBlas.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, a, lda, b, ldb, 0f, c, ldc);

        // Warm-up (JIT tiers, page faults, packing buffers, thread pools), and a correctness cross-check.
        double estimate = WarmUp(Ours);
        if (haveBlas)
        {
            float[] mine = (float[])c.Clone();
            Theirs();
            CheckClose(s, mine, c);
            WarmUp(Theirs);
        }
        int iters = (int)Math.Clamp(RoundSeconds / estimate, 1, 2000);

        var oursSamples = new List<double>();
        var theirSamples = new List<double>();
        bool previousWasBlas = haveBlas;
        for (int round = 0; round < Rounds; round++)
        {
            bool oursFirst = round % 2 == 0;
            for (int half = 0; half < 2; half++)
            {
                bool runOurs = (half == 0) == oursFirst;
                if (!runOurs && !haveBlas) continue;
                Idle(previousWasBlas);
                previousWasBlas = !runOurs;
                Action f = runOurs ? Ours : Theirs;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < iters; i++) f();
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds / iters;
                (runOurs ? oursSamples : theirSamples).Add(s.Flops / seconds / 1e9);
            }
        }
        return (Median(oursSamples), haveBlas ? Median(theirSamples) : null);
    }

    /// <summary>
    /// Lets the other library's idle pool threads go to sleep before timing. Ours spin for about 1 ms after
    /// a call; OpenBLAS's pthread workers spin (sched_yield) for about 2^28 cycles, ~100-150 ms measured here,
    /// and would otherwise compete for the two cores with whatever runs next.
    /// </summary>
    private static void Idle(bool afterBlas) => Thread.Sleep(afterBlas ? 160 : 5);

    /// <summary>Runs <paramref name="f"/> for about <see cref="WarmUpSeconds"/> (at least 3 calls); returns the fastest call.</summary>
    private static double WarmUp(Action f)
    {
        double best = double.MaxValue;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 3 || Stopwatch.GetElapsedTime(start).TotalSeconds < WarmUpSeconds; i++)
        {
            best = Math.Min(best, TimeOnce(f));
        }
        return best;
    }

    private static double TimeOnce(Action f)
    {
        long start = Stopwatch.GetTimestamp();
        f();
        return Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-7);
    }

    private static double Median(List<double> xs)
    {
        xs.Sort();
        int n = xs.Count;
        return n % 2 == 1 ? xs[n / 2] : 0.5 * (xs[n / 2 - 1] + xs[n / 2]);
    }

    private static void CheckClose(GemmShape s, float[] ours, float[] reference)
    {
        double maxErr = 0, maxRef = 1e-30;
        for (int i = 0; i < ours.Length; i++)
        {
            maxErr = Math.Max(maxErr, Math.Abs(ours[i] - reference[i]));
            maxRef = Math.Max(maxRef, Math.Abs(reference[i]));
        }
        if (maxErr > 1e-4 * maxRef * Math.Sqrt(s.K))
        {
            Console.Error.WriteLine($"warning: M={s.M} K={s.K} N={s.N} trans={s.Trans}: TinyGrad differs from OpenBLAS " +
                $"by {maxErr:g3} (max |C| {maxRef:g3})");
        }
    }
}
