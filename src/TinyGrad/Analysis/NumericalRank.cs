using System.Globalization;
using System.Text;

namespace TinyGrad.Analysis;

/// <summary>The numerical rank of a matrix, the threshold that decided it, and the singular-value spectrum.</summary>
/// <param name="Rank">The number of singular values above <paramref name="Tolerance"/>.</param>
/// <param name="Tolerance">The threshold used.</param>
/// <param name="SingularValues">All min(rows, cols) singular values, largest first.</param>
/// <param name="Rows">Rows of the matrix (contexts, for a log-probability matrix).</param>
/// <param name="Cols">Columns of the matrix (words).</param>
public sealed record RankResult(int Rank, double Tolerance, double[] SingularValues, int Rows, int Cols)
{
    /// <summary>σ_max (0 for an empty matrix).</summary>
    public double Largest => SingularValues.Length > 0 ? SingularValues[0] : 0;

    /// <summary>A short report: the rank, the threshold, and the spectrum around it (σ₁, σ_rank, σ_rank+1, the smallest).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"rank {Rank} of {Rows} × {Cols} (tolerance {Tolerance:G3})");
        if (SingularValues.Length == 0) return sb.ToString();
        sb.Append(CultureInfo.InvariantCulture, $"; σ_1 = {Largest:G4}");
        if (Rank > 0) sb.Append(CultureInfo.InvariantCulture, $", σ_{Rank} = {SingularValues[Rank - 1]:G4}");
        if (Rank < SingularValues.Length) sb.Append(CultureInfo.InvariantCulture, $", σ_{Rank + 1} = {SingularValues[Rank]:G4}");
        sb.Append(CultureInfo.InvariantCulture, $", σ_min = {SingularValues[^1]:G4}");
        return sb.ToString();
    }
}

/// <summary>
/// The numerical rank of a log-probability matrix A (contexts × vocabulary), the measure the sigsoftmax paper
/// is about: the number of singular values above a threshold, computed in double precision
/// (<see cref="SingularValues"/>).
/// </summary>
/// <remarks>
/// <para>Default threshold: σᵢ &gt; tol with tol = ½·√(m + n + 1)·σ_max·ε (Press et al., Numerical Recipes, the
/// rule the published re-analysis used), where ε is the machine epsilon of the precision the probabilities were
/// computed in — float32 here, ε = 2⁻²³ ≈ 1.19e−7 — not double's.</para>
/// <para>Why float32's ε. Log-probabilities made in float32 carry rounding errors of a few ulps per entry. Just
/// storing A in float32 perturbs it by E with ‖E‖₂ ≤ ‖E‖_F ≤ (ε/2)·‖A‖_F ≤ (ε/2)·√min(m, n)·σ_max, which is
/// below tol because √min(m, n) &lt; √(m + n + 1); by Weyl's inequality no singular value that is zero in exact
/// arithmetic is pushed over the threshold by that rounding. The same rule with double's ε would sit 5·10⁸
/// times lower, under the float32 noise, and would call every float32 matrix full rank. (The errors of a real
/// float32 computation are a few ulps, not half of one, but they are uncorrelated, so their spectral norm is
/// far below the Frobenius bound.) Pass an explicit tolerance to use any other rule.</para>
/// </remarks>
public static class NumericalRank
{
    /// <summary>The machine epsilon of float32, 2⁻²³: the spacing of floats just above 1.</summary>
    public const double Float32Epsilon = 1.1920928955078125e-7;

    /// <summary>The Press et al. threshold ½·√(rows + cols + 1)·σ_max·ε.</summary>
    public static double PressTolerance(int rows, int cols, double largest, double epsilon = Float32Epsilon) =>
        0.5 * Math.Sqrt(rows + cols + 1.0) * largest * epsilon;

    /// <summary>The number of singular values strictly above <paramref name="tolerance"/>.</summary>
    public static int Count(ReadOnlySpan<double> singularValues, double tolerance)
    {
        int rank = 0;
        foreach (double s in singularValues) if (s > tolerance) rank++;
        return rank;
    }

    /// <summary>
    /// The numerical rank of the row-major matrix <paramref name="a"/> [rows, cols]: with an explicit
    /// <paramref name="tolerance"/>, or else the Press threshold for data of precision <paramref name="epsilon"/>.
    /// </summary>
    public static RankResult Of(ReadOnlySpan<double> a, int rows, int cols, double? tolerance = null, double epsilon = Float32Epsilon)
    {
        if (tolerance is double t && (t < 0 || double.IsNaN(t)))
            throw new ArgumentOutOfRangeException(nameof(tolerance), $"rank: tolerance {t} must be a non-negative number");
        var sigma = SingularValues.Compute(a, rows, cols);
        double tol = tolerance ?? PressTolerance(rows, cols, sigma.Length > 0 ? sigma[0] : 0, epsilon);
        return new RankResult(Count(sigma, tol), tol, sigma, rows, cols);
    }

    /// <summary>The numerical rank of a 2-D tensor (e.g. a head's <c>LogProbs</c> over many contexts), analysed in double.</summary>
    public static RankResult Of(Tensor matrix, double? tolerance = null, double epsilon = Float32Epsilon)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Rank != 2)
            throw new ArgumentException($"rank: needs a matrix, got shape {Shapes.Format(matrix.ShapeRef)}");
        var values = matrix.ToArray();
        var a = new double[values.Length];
        for (int i = 0; i < values.Length; i++) a[i] = values[i];
        return Of(a, matrix.Size(0), matrix.Size(1), tolerance, epsilon);
    }
}
