using BenchmarkDotNet.Attributes;
using TinyGrad.Backends.Cpu;

namespace TinyGrad.Bench;

/// <summary>
/// BenchmarkDotNet suite: TinyGrad's SGEMM and OpenBLAS side by side at the standard shapes, on 1 and 2
/// threads. The OpenBLAS rows are filtered out (see <see cref="Program"/>) when libopenblas.so.0 is missing.
/// Each benchmark runs in its own process, so the two libraries' thread pools never meet.
/// </summary>
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>The shape under test.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Standard[0];

    /// <summary>Threads for both libraries.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Values for <see cref="Shape"/>.</summary>
    public static IEnumerable<GemmShape> Shapes => GemmShape.Standard;

    /// <summary>Allocates the operands and sets both libraries' thread counts.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_a, _b, _c) = Shape.Allocate();
        CpuThreads.Count = Threads;
        OpenBlas.SetThreads(Threads);
    }

    /// <summary>TinyGrad.Backends.Cpu.Gemm.Sgemm.</summary>
    [Benchmark(Baseline = true)]
    public void TinyGradSgemm()
    {
        GemmShape s = Shape;
        (int lda, int ldb, int ldc) = s.LeadingDims;
        Gemm.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, _a, 0, lda, _b, 0, ldb, 0f, _c, 0, ldc);
    }

    /// <summary>OpenBLAS cblas_sgemm, same operands.</summary>
    [Benchmark]
    public void OpenBlasSgemm()
    {
        GemmShape s = Shape;
        (int lda, int ldb, int ldc) = s.LeadingDims;
        OpenBlas.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, _a, lda, _b, ldb, 0f, _c, ldc);
    }
}
