namespace TinyGrad.Tests.Analysis;

using TinyGrad;
using TinyGrad.Analysis;
using TinyGrad.NN.Heads;

// The numerical rank: known ranks come out, the float32 threshold sees through float32 rounding, and the
// paper's claim holds: a softmax head's log-probability matrix has rank ≤ d + 2, the other heads' do not.
public class RankTests
{
    /// <summary>F·G with F [rows, rank], G [rank, cols] standard normal, plus uniform noise of the given size.</summary>
    private static double[] LowRank(int rows, int cols, int rank, double noise, ulong seed)
    {
        var rng = new Generator(seed);
        var f = Enumerable.Range(0, rows * rank).Select(_ => rng.NextGaussian()).ToArray();
        var g = Enumerable.Range(0, rank * cols).Select(_ => rng.NextGaussian()).ToArray();
        var a = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int k = 0; k < rank; k++) s += f[i * rank + k] * g[k * cols + j];
                a[i * cols + j] = s + noise * (2 * rng.NextDouble() - 1);
            }
        return a;
    }

    [Theory]
    [InlineData(120, 200, 17)]
    [InlineData(200, 90, 40)]
    [InlineData(64, 64, 1)]
    public void Products_of_random_factors_plus_noise_below_the_threshold_have_their_rank(int rows, int cols, int rank)
    {
        // Entries are O(√rank); noise of 1e-9 per entry has spectral norm ~1e-9·(√m + √n) ≈ 3e-8, far below
        // the float32 threshold (~1e-4 here) and far above double rounding, so the rank is the factors' rank.
        var a = LowRank(rows, cols, rank, 1e-9, (ulong)(rows + rank));
        var result = NumericalRank.Of(a, rows, cols);
        Assert.Equal(rank, result.Rank);
        Assert.Equal(NumericalRank.PressTolerance(rows, cols, result.Largest), result.Tolerance);
        Assert.True(result.SingularValues[rank - 1] > 100 * result.Tolerance, result.ToString());
        Assert.True(result.SingularValues[rank] < result.Tolerance / 100, result.ToString());
    }

    [Theory]
    [InlineData(100, 300, 10)]
    [InlineData(150, 150, 20)]
    [InlineData(60, 60, 5)]
    public void Exactly_low_rank_softmax_log_probabilities_converge_and_give_d_plus_1(int rows, int cols, int d)
    {
        // A = H·Wᵀ − logsumexp(H·Wᵀ)·1ᵀ in double, without noise: the bottleneck exactly, rank d + 1 (no bias),
        // with a cluster of exactly-zero singular values below it. Several seeds.
        for (ulong seed = 1; seed <= 6; seed++)
        {
            var z = LowRank(rows, cols, d, 0, seed);
            for (int i = 0; i < rows; i++)
            {
                var row = z.AsSpan(i * cols, cols);
                double m = double.NegativeInfinity, sum = 0;
                foreach (double v in row) m = Math.Max(m, v);
                foreach (double v in row) sum += Math.Exp(v - m);
                double lse = m + Math.Log(sum);
                for (int j = 0; j < cols; j++) row[j] -= lse;
            }
            Assert.Equal(d + 1, NumericalRank.Of(z, rows, cols).Rank);
        }
    }

    [Fact]
    public void Exact_sums_of_graded_rank_one_terms_converge()
    {
        // Σ_k u_k v_kᵀ·10^−k with no noise: exactly-zero singular values below a graded spectrum. These stalled
        // the QL iteration when it deflated against neighbouring entries only (found in review).
        var g = new Generator(1);
        foreach (var (m, n, r) in new[] { (50, 80, 5), (80, 50, 5), (200, 120, 7), (60, 60, 30), (10, 20, 9) })
        {
            var a = new double[m * n];
            for (int k = 0; k < r; k++)
            {
                var u = Enumerable.Range(0, m).Select(_ => g.NextGaussian()).ToArray();
                var v = Enumerable.Range(0, n).Select(_ => g.NextGaussian() * Math.Pow(10, -k)).ToArray();
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) a[i * n + j] += u[i] * v[j];
            }
            var result = NumericalRank.Of(a, m, n);
            // Terms scaled below the float32 threshold do not count, so the rank is at most r and at least the
            // terms within seven decades of the largest.
            Assert.InRange(result.Rank, Math.Min(r, 6), r);
        }
    }

    [Fact]
    public void The_float32_threshold_sees_through_float32_rounding_and_the_double_one_does_not()
    {
        const int rows = 150, cols = 260, rank = 12;
        var exact = LowRank(rows, cols, rank, 0, 9);
        var rounded = exact.Select(x => (double)(float)x).ToArray(); // what a float32 computation hands over
        Assert.Equal(rank, NumericalRank.Of(rounded, rows, cols).Rank);
        // With double's ε in the same rule, the float32 rounding noise counts as signal: full rank.
        Assert.Equal(rows, NumericalRank.Of(rounded, rows, cols, epsilon: Math.Pow(2, -52)).Rank);
    }

    [Fact]
    public void An_explicit_tolerance_replaces_the_default()
    {
        var a = SingularValuesTests.WithSpectrum([10, 1, 0.1, 0.01], 6, 4, 3);
        Assert.Equal(4, NumericalRank.Of(a, 6, 4).Rank);
        var r = NumericalRank.Of(a, 6, 4, tolerance: 0.05);
        Assert.Equal(3, r.Rank);
        Assert.Equal(0.05, r.Tolerance);
        Assert.Equal(2, NumericalRank.Count(r.SingularValues, 0.5));
        Assert.Equal(0.5 * Math.Sqrt(11) * 10 * NumericalRank.Float32Epsilon, NumericalRank.PressTolerance(6, 4, 10), 15);
        Assert.Equal((float)NumericalRank.Float32Epsilon, MathF.BitIncrement(1f) - 1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => NumericalRank.Of(a, 6, 4, tolerance: -1));
        Assert.Contains("rank 3 of 6 × 4", r.ToString());
    }

    private const int Contexts = 300, Words = 500, Hidden = 8;

    private static RankResult HeadRank(HeadKind kind)
    {
        var head = OutputHead.Create(kind, Hidden, Words, new Generator(3), embeddingSize: Hidden, experts: 3);
        using var _ = Autograd.NoGrad();
        return NumericalRank.Of(head.LogProbs(Tensor.Randn([Contexts, Hidden], new Generator(4))));
    }

    [Fact]
    public void A_softmax_heads_log_probability_matrix_has_rank_at_most_d_plus_2()
    {
        var result = HeadRank(HeadKind.Softmax);
        Assert.True(result.Rank <= Hidden + 2, result.ToString());
        Assert.True(result.Rank > Hidden, result.ToString()); // the bound is attained: d directions, the bias, the normaliser
        // And the gap is wide: the (d+3)-th value is float32 noise, hundreds of times below the threshold.
        Assert.True(result.SingularValues[Hidden + 2] < result.Tolerance / 100, result.ToString());
    }

    [Theory]
    [InlineData(HeadKind.Sigsoftmax)]
    [InlineData(HeadKind.Mos)]
    [InlineData(HeadKind.Moss)]
    public void The_other_heads_with_the_same_d_break_the_bound(HeadKind kind)
    {
        var result = HeadRank(kind);
        Assert.True(result.Rank > 5 * (Hidden + 2), result.ToString());
    }

    [Fact]
    public void Rank_takes_a_matrix()
    {
        var e = Assert.Throws<ArgumentException>(() => NumericalRank.Of(Tensor.Zeros(2, 3, 4)));
        Assert.Equal("rank: needs a matrix, got shape [2, 3, 4]", e.Message);
    }
}
