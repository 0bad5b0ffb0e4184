namespace TinyGrad.Tests.Analysis;

using TinyGrad;
using TinyGrad.Analysis;

// The decomposition behind the rank: known spectra, tall and wide shapes, sizes that cross the QR's
// 32-column panels and 4-column groups, and degenerate matrices.
public class SingularValuesTests
{
    /// <summary>U·diag(σ)·Vᵀ for random orthogonal U, V (products of random reflections), row-major [rows, cols].</summary>
    internal static double[] WithSpectrum(double[] sigma, int rows, int cols, ulong seed)
    {
        var rng = new Generator(seed);
        var a = new double[rows * cols];
        for (int i = 0; i < sigma.Length; i++) a[i * cols + i] = sigma[i];
        for (int t = 0; t < 4; t++)
        {
            var u = Enumerable.Range(0, rows).Select(_ => rng.NextGaussian()).ToArray();
            double uu = u.Sum(x => x * x);
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int i = 0; i < rows; i++) s += u[i] * a[i * cols + j];
                for (int i = 0; i < rows; i++) a[i * cols + j] -= 2 * s / uu * u[i];
            }
            var v = Enumerable.Range(0, cols).Select(_ => rng.NextGaussian()).ToArray();
            double vv = v.Sum(x => x * x);
            for (int i = 0; i < rows; i++)
            {
                double s = 0;
                for (int j = 0; j < cols; j++) s += v[j] * a[i * cols + j];
                for (int j = 0; j < cols; j++) a[i * cols + j] -= 2 * s / vv * v[j];
            }
        }
        return a;
    }

    [Theory]
    [InlineData(50, 30)]
    [InlineData(30, 50)]
    [InlineData(90, 71)]   // crosses two QR panels, with a partial 4-column group
    [InlineData(71, 300)]
    public void Recovers_a_known_spectrum_to_double_precision(int rows, int cols)
    {
        int n = Math.Min(rows, cols);
        // Twelve decades, so the small values would be lost by any method that squares the matrix.
        var sigma = Enumerable.Range(0, n).Select(i => Math.Pow(10, -12.0 * i / (n - 1))).ToArray();
        var a = WithSpectrum(sigma, rows, cols, 1);
        var got = SingularValues.Compute(a, rows, cols);
        Assert.Equal(n, got.Length);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(got[i] - sigma[i]) < 1e-14, $"σ_{i}: {got[i]:E6} vs {sigma[i]:E6}");
    }

    [Fact]
    public void A_matrix_and_its_transpose_have_the_same_values()
    {
        var rng = new Generator(2);
        int rows = 37, cols = 53;
        var a = Enumerable.Range(0, rows * cols).Select(_ => rng.NextGaussian()).ToArray();
        var t = new double[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        var s1 = SingularValues.Compute(a, rows, cols);
        var s2 = SingularValues.Compute(t, cols, rows);
        for (int i = 0; i < s1.Length; i++) Assert.Equal(s1[i], s2[i], 12);
        // ‖A‖_F² = Σ σ².
        Assert.Equal(a.Sum(x => x * x), s1.Sum(x => x * x), 8);
    }

    [Fact]
    public void Degenerate_matrices()
    {
        // All ones: one singular value √(m·n), the rest zero (to rounding).
        var ones = Enumerable.Repeat(1.0, 12 * 7).ToArray();
        var s = SingularValues.Compute(ones, 12, 7);
        Assert.Equal(Math.Sqrt(84), s[0], 12);
        Assert.All(s[1..], x => Assert.True(x < 1e-13));
        Assert.All(SingularValues.Compute(new double[20], 4, 5), x => Assert.Equal(0, x));
        Assert.Equal(5.0, Assert.Single(SingularValues.Compute([3.0, -4.0], 1, 2)), 14);
        Assert.Equal(5.0, Assert.Single(SingularValues.Compute([3.0, -4.0], 2, 1)), 14);
        var two = SingularValues.Compute([0, -2.0, 3.0, 0], 2, 2);
        Assert.Equal(3.0, two[0], 14);
        Assert.Equal(2.0, two[1], 14);
        Assert.Empty(SingularValues.Compute([], 0, 4));
        Assert.Throws<ArgumentException>(() => SingularValues.Compute(new double[5], 2, 3));
    }
}
