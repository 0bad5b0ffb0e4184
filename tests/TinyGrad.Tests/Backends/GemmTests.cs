using TinyGrad.Backends.Cpu;
using Xunit;

namespace TinyGrad.Tests.Backends;

/// <summary>
/// SGEMM against a naive double-accumulating reference, on every micro-kernel this CPU supports
/// (AVX-512, AVX2, portable), on 1 and 2 threads, and through each driver mode (N-split, M-split,
/// direct B, several k blocks, several shared blocks).
/// </summary>
// These tests switch global settings (kernel override, thread count, blocking knobs): run them alone.
[CollectionDefinition(nameof(GemmTests), DisableParallelization = true)]
public sealed class GemmTestsCollection;

[Collection(nameof(GemmTests))]
public sealed class GemmTests
{
    // Kernels are passed by name: the enum is internal, and theory parameters of public tests must be public.
    public static IEnumerable<object[]> Kernels() =>
        new[] { GemmKernelKind.Avx512, GemmKernelKind.Avx2, GemmKernelKind.Portable }
            .Where(GemmKernelTable.IsSupported)
            .SelectMany(k => new[] { 1, 2 }.Select(t => new object[] { k.ToString(), t }));

    public static IEnumerable<object[]> KernelsAndTrans() =>
        Kernels().SelectMany(kt => new[] { (false, false), (false, true), (true, false), (true, true) }
            .Select(tr => new object[] { kt[0], kt[1], tr.Item1, tr.Item2 }));

    [Theory]
    [MemberData(nameof(KernelsAndTrans))]
    public void AllTransposeCombinations(string kernel, int threads, bool transA, bool transB)
    {
        using var _ = new Settings(Enum.Parse<GemmKernelKind>(kernel), threads);
        var rng = new Random(1);
        foreach ((int m, int n, int k) in new[] { (13, 17, 19), (37, 70, 29), (20, 100, 45), (60, 21, 33) })
        {
            Check(rng, transA, transB, m, n, k, alpha: 1.5f, beta: 0f);
            Check(rng, transA, transB, m, n, k, alpha: -1f, beta: 0.5f);
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void AlphaAndBeta(string kernel, int threads)
    {
        using var _ = new Settings(Enum.Parse<GemmKernelKind>(kernel), threads);
        var rng = new Random(2);
        foreach ((bool ta, bool tb) in new[] { (false, false), (true, true) })
        {
            Check(rng, ta, tb, 25, 40, 30, alpha: 1f, beta: 0f);      // C starts as NaN: must be ignored
            Check(rng, ta, tb, 25, 40, 30, alpha: 1f, beta: 1f);      // accumulate
            Check(rng, ta, tb, 25, 40, 30, alpha: -0.25f, beta: 2f);
            Check(rng, ta, tb, 25, 40, 30, alpha: 0f, beta: 3f);      // C = beta * C, A and B unused
            Check(rng, ta, tb, 25, 40, 30, alpha: 0f, beta: 0f);
        }
    }

    [Fact]
    public void AlphaZeroDoesNotReadAOrB()
    {
        float[] a = [float.NaN, float.NaN], b = [float.NaN, float.NaN];
        float[] c = [1f, 2f, 3f, 4f];
        Gemm.Sgemm(false, false, 2, 2, 1, 0f, a, 0, 1, b, 0, 2, 2f, c, 0, 2);
        Assert.Equal(new[] { 2f, 4f, 6f, 8f }, c);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void OddAndEdgeSizes(string kernel, int threads)
    {
        using var _ = new Settings(Enum.Parse<GemmKernelKind>(kernel), threads);
        var rng = new Random(3);
        var shapes = new[]
        {
            (1, 1, 1), (1, 33, 1), (25, 1, 7), (12, 32, 5), (13, 33, 2), (11, 15, 3), (7, 8, 9),
            (5, 200, 17), (49, 31, 8), (130, 257, 70), (3, 5, 0), (0, 4, 3), (4, 0, 3),
        };
        foreach ((int m, int n, int k) in shapes)
        {
            foreach ((bool ta, bool tb) in new[] { (false, false), (false, true), (true, false) })
            {
                Check(rng, ta, tb, m, n, k, alpha: 1f, beta: 0f);
                Check(rng, ta, tb, m, n, k, alpha: 0.5f, beta: 1f);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void PaddedLeadingDimensionsAndOffsets(string kernel, int threads)
    {
        using var _ = new Settings(Enum.Parse<GemmKernelKind>(kernel), threads);
        var rng = new Random(4);
        foreach ((bool ta, bool tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            Check(rng, ta, tb, 23, 45, 31, alpha: 1f, beta: 0.5f, ldPad: 7, offset: 5);
            Check(rng, ta, tb, 70, 20, 50, alpha: 2f, beta: 0f, ldPad: 3, offset: 1);
            Check(rng, ta, tb, 20, 70, 50, alpha: 1f, beta: 1f, ldPad: 16, offset: 13);
        }
    }

    /// <summary>The shapes the LSTM language model runs, shrunk; M = 20 takes the direct-B path.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void DriverModes(string kernel, int threads)
    {
        using var _ = new Settings(Enum.Parse<GemmKernelKind>(kernel), threads);
        var rng = new Random(5);
        Check(rng, false, false, 20, 803, 64, alpha: 1f, beta: 0f);   // direct B, ragged last sliver
        Check(rng, false, false, 20, 96, 1000, alpha: 1f, beta: 1f);  // direct B, two k blocks
        Check(rng, false, true, 20, 130, 90, alpha: 1f, beta: 0f);    // M = 20 with Bᵀ: inner products (AVX-512)
        Check(rng, true, true, 13, 7, 5, alpha: 1f, beta: 1f);        // ... Aᵀ copied, k below one vector
        Check(rng, false, true, 7, 11, 16, alpha: 2f, beta: 0f);      // ... k exactly one vector
        Check(rng, true, true, 30, 21, 133, alpha: 1f, beta: 0.5f);
        Check(rng, false, true, 150, 40, 900, alpha: 1f, beta: 0.5f); // M-split, two k blocks
        Check(rng, true, false, 40, 300, 800, alpha: 1f, beta: 0f);   // N-split, two k blocks
    }

    /// <summary>Shrinks the blocking parameters so small problems exercise every loop of the driver.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void TinyBlockingParameters(string kernel, int threads)
    {
        using var _ = new Settings(Enum.Parse<GemmKernelKind>(kernel), threads);
        int kcMax = GemmDriver.KcMax, panel = GemmDriver.PanelBytes, direct = GemmDriver.DirectMaxRows;
        long shared = GemmDriver.SharedBytes, minFlops = GemmDriver.MinFlopsPerThread;
        try
        {
            GemmDriver.KcMax = 16;
            GemmDriver.PanelBytes = 4096;
            GemmDriver.SharedBytes = 8192;
            GemmDriver.DirectMaxRows = 7;
            GemmDriver.MinFlopsPerThread = 1;
            var rng = new Random(6);
            foreach ((bool ta, bool tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                Check(rng, ta, tb, 5, 77, 50, alpha: 1f, beta: 0.5f);    // direct (when !tb), k blocks
                Check(rng, ta, tb, 90, 61, 45, alpha: -1f, beta: 0f);    // M-split, column blocks
                Check(rng, ta, tb, 41, 150, 33, alpha: 1f, beta: 1f);    // N-split, row blocks
            }
        }
        finally
        {
            GemmDriver.KcMax = kcMax; GemmDriver.PanelBytes = panel; GemmDriver.SharedBytes = shared;
            GemmDriver.DirectMaxRows = direct; GemmDriver.MinFlopsPerThread = minFlops;
        }
    }

    [Fact]
    public void ValidatesArguments()
    {
        var a = new float[6]; var b = new float[6]; var c = new float[4];
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(false, false, -1, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1, a, -1, 3, b, 0, 2, 0, c, 0, 2));
        Assert.Throws<ArgumentNullException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1, null!, 0, 3, b, 0, 2, 0, c, 0, 2));
        var ld = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1, a, 0, 2, b, 0, 2, 0, c, 0, 2));
        Assert.Contains("A", ld.Message);
        var shortA = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1, a, 1, 3, b, 0, 2, 0, c, 0, 2));
        Assert.Contains("2x3", shortA.Message);
        var shortB = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 2, 2, 3, 1, a, 0, 3, new float[5], 0, 3, 0, c, 0, 2));
        Assert.Contains("B needs 6 elements", shortB.Message);
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 1, 2));
        // Exactly large enough is fine; empty problems need no storage.
        Gemm.Sgemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 0, 2);
        Gemm.Sgemm(false, false, 0, 0, 0, 1, [], 0, 0, [], 0, 0, 0, [], 0, 0);
    }

    [Fact]
    public void CpuThreadsRejectsNonPositive()
    {
        int before = CpuThreads.Count;
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuThreads.Count = 0);
        Assert.Equal(before, CpuThreads.Count);
    }

    [Fact]
    public void ThreadPoolRunsEveryIndexOnceAndPropagatesErrors()
    {
        using var _ = new Settings(GemmKernelKind.Auto, 2);
        for (int round = 0; round < 50; round++)
        {
            var hits = new int[round * 7 + 1];
            CpuThreadPool.ParallelFor(hits.Length, i =>
            {
                Interlocked.Increment(ref hits[i]);
                if (i == 0) CpuThreadPool.ParallelFor(3, _ => { }); // nested: runs inline
            });
            Assert.All(hits, h => Assert.Equal(1, h));
        }
        var ex = Assert.Throws<InvalidOperationException>(() =>
            CpuThreadPool.ParallelFor(10, i => { if (i == 7) throw new InvalidOperationException("boom"); }));
        Assert.Equal("boom", ex.Message);
        int sum = 0;
        CpuThreadPool.ParallelFor(4, i => Interlocked.Add(ref sum, i)); // the pool still works afterwards
        Assert.Equal(6, sum);
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Forces a kernel and thread count for one test, restoring the previous values.</summary>
    private sealed class Settings : IDisposable
    {
        private readonly GemmKernelKind _kind = Gemm.KernelOverride;
        private readonly int _threads = CpuThreads.Count;

        public Settings(GemmKernelKind kind, int threads)
        {
            Gemm.KernelOverride = kind;
            CpuThreads.Count = threads;
        }

        public void Dispose()
        {
            Gemm.KernelOverride = _kind;
            CpuThreads.Count = _threads;
        }
    }

    /// <summary>
    /// Runs Sgemm on random operands (stored with padded leading dimensions and an offset) and checks every
    /// element of the C array, including the padding, which must be left untouched.
    /// </summary>
    private static void Check(Random rng, bool transA, bool transB, int m, int n, int k, float alpha, float beta,
        int ldPad = 0, int offset = 0)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + ldPad, ldb = bCols + ldPad, ldc = n + ldPad;
        float[] a = RandomArray(rng, offset + aRows * lda + 3);
        float[] b = RandomArray(rng, offset + bRows * ldb + 3);
        float[] c = RandomArray(rng, offset + m * ldc + 3);
        if (beta == 0f) // garbage in C must not leak into the result
        {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[offset + i * ldc + j] = float.NaN;
        }
        float[] before = (float[])c.Clone();

        Gemm.Sgemm(transA, transB, m, n, k, alpha, a, offset, lda, b, offset, ldb, beta, c, offset, ldc);

        // The reference reads op(A) row-wise and op(B) column-wise from plain copies.
        var opA = new double[m * k];
        var opBt = new double[n * k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) opA[i * k + p] = transA ? a[offset + p * lda + i] : a[offset + i * lda + p];
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++) opBt[j * k + p] = transB ? b[offset + j * ldb + p] : b[offset + p * ldb + j];

        for (int idx = 0; idx < c.Length; idx++)
        {
            int rel = idx - offset;
            int i = rel >= 0 && ldc > 0 ? rel / ldc : -1, j = rel >= 0 && ldc > 0 ? rel % ldc : -1;
            if (i < 0 || i >= m || j >= n)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(before[idx]), BitConverter.SingleToInt32Bits(c[idx]));
                continue;
            }
            double sum = 0, magnitude = 0;
            for (int p = 0; p < k; p++)
            {
                double xy = opA[i * k + p] * opBt[j * k + p];
                sum += xy;
                magnitude += Math.Abs(xy);
            }
            double old = beta == 0f ? 0 : before[idx];
            double expected = alpha * sum + beta * old;
            double tolerance = (k + 2) * 1.2e-7 * (Math.Abs(alpha) * magnitude + Math.Abs(beta * old)) + 1e-6;
            double actual = c[idx];
            Assert.True(Math.Abs(actual - expected) <= tolerance,
                $"transA={transA} transB={transB} m={m} n={n} k={k} alpha={alpha} beta={beta} ldPad={ldPad} " +
                $"offset={offset}: C[{i},{j}] = {actual}, expected {expected} (tolerance {tolerance:g3})");
        }
    }

    private static float[] RandomArray(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
