using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TinyGrad.Backends.Cpu;

namespace TinyGrad.Analysis;

/// <summary>
/// The singular values of a dense matrix, in double precision, by the textbook route: Householder QR of the
/// matrix made tall, Householder bidiagonalisation of the small triangular factor R, and the singular values
/// of the bidiagonal matrix from the symmetric tridiagonal Golub–Kahan matrix by implicit QL.
/// </summary>
/// <remarks>
/// <para>Every step is an orthogonal transformation of the matrix itself, so the computed values are those
/// of a matrix within a few double-precision ulps (relative to σ_max) of the input. The Gram matrix AᵀA would
/// square the condition number and lose every singular value below √ε_double·σ_max ≈ 1e−8·σ_max, which is the
/// very range a rank analysis looks at.</para>
/// <para>Why written here rather than taken from a library: the offline package cache has none, and the
/// managed (non-MKL) SVD of MathNet.Numerics is unblocked and single-threaded. This one is about 250 lines,
/// blocks the QR (the O(m·n²) step) so that each trailing column stays in cache while a panel of 32
/// reflectors is applied, and spreads columns over the CPU thread pool: 2,000 × 10,000 takes seconds.</para>
/// </remarks>
public static class SingularValues
{
    private const int Panel = 32;

    /// <summary>The min(rows, cols) singular values of the row-major <paramref name="a"/>, largest first.</summary>
    public static double[] Compute(ReadOnlySpan<double> a, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || a.Length != (long)rows * cols)
            throw new ArgumentException($"singular_values: {a.Length} values do not fill a {rows} × {cols} matrix");
        int m = Math.Max(rows, cols), n = Math.Min(rows, cols);
        if (n == 0) return [];
        // The tall matrix M (m ≥ n), stored column by column: for a wide A, M = Aᵀ and A's rows are M's columns
        // already; for a tall A, M = A is transposed into column storage. Both have A's singular values.
        var q = new double[(long)m * n];
        if (rows <= cols) a.CopyTo(q);
        else
        {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) q[(long)j * m + i] = a[i * cols + j];
        }
        var r = TriangularFactor(q, m, n);
        var (d, e) = Bidiagonalize(r, n);
        return BidiagonalValues(d, e);
    }

    /// <summary>R [n, n] (column-major) of the QR factorisation of the column-major q [m, n]; q is overwritten.</summary>
    private static double[] TriangularFactor(double[] q, int m, int n)
    {
        for (int k0 = 0; k0 < n; k0 += Panel)
        {
            int kb = Math.Min(Panel, n - k0), end = k0 + kb;
            // The panel, column by column: each reflector zeroes its column below the diagonal and is applied
            // to the rest of the panel at once. Its vector is kept below the diagonal (vₖ = 1 implied).
            var tau = new double[kb];
            for (int k = k0; k < end; k++)
            {
                tau[k - k0] = Reflector(q.AsSpan(k * m + k, m - k));
                for (int j = k + 1; j < end; j++) Reflect(q, m, k, tau[k - k0], j * m);
            }
            // The trailing columns take the whole panel's reflectors in order, four columns per pass over a
            // reflector (it is read once for four columns), each column staying in cache for all 32.
            int first = end, groups = (n - first + 3) / 4;
            CpuThreadPool.ParallelFor(groups, g =>
            {
                int c0 = first + 4 * g, count = Math.Min(4, n - c0);
                for (int k = k0; k < end; k++)
                {
                    if (count == 4) Reflect4(q, m, k, tau[k - k0], c0 * m);
                    else for (int c = 0; c < count; c++) Reflect(q, m, k, tau[k - k0], (c0 + c) * m);
                }
            });
        }
        var r = new double[(long)n * n];
        for (int j = 0; j < n; j++) q.AsSpan(j * m, j + 1).CopyTo(r.AsSpan(j * n, j + 1));
        return r;
    }

    /// <summary>
    /// Makes x into a Householder reflector (LAPACK's dlarfg): H = I − τ·v·vᵀ with v = (1, x[1..]) maps x to
    /// (β, 0, …, 0). Writes β into x[0] and v's tail into x[1..]; returns τ (0 when x is already β·e₁).
    /// </summary>
    private static double Reflector(Span<double> x)
    {
        if (x.Length <= 1) return 0;
        double alpha = x[0];
        double tail = TensorPrimitives.Norm(x[1..]);
        if (tail == 0) return 0;
        double beta = -Math.CopySign(Hypot(alpha, tail), alpha);
        double tau = (beta - alpha) / beta;
        TensorPrimitives.Multiply(x[1..], 1.0 / (alpha - beta), x[1..]);
        x[0] = beta;
        return tau;
    }

    /// <summary>Applies the reflector stored in column k (from row k) of q to the column starting at <paramref name="col"/>, rows k..m−1.</summary>
    private static void Reflect(double[] q, int m, int k, double tau, int col)
    {
        if (tau == 0) return;
        var v = q.AsSpan(k * m + k + 1, m - k - 1);
        var y = q.AsSpan(col + k, m - k);
        double s = tau * (y[0] + TensorPrimitives.Dot(v, y[1..]));
        y[0] -= s;
        TensorPrimitives.MultiplyAdd(v, -s, y[1..], y[1..]);
    }

    /// <summary><see cref="Reflect"/> on four adjacent columns: one pass for the four dot products, one for the four updates.</summary>
    private static void Reflect4(double[] q, int m, int k, double tau, int col)
    {
        if (tau == 0) return;
        int len = m - k - 1, v0 = k * m + k + 1, y0 = col + k + 1;
        ref double qr = ref MemoryMarshal.GetArrayDataReference(q);
        Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i <= len - 4; i += 4)
        {
            var v = Vector256.LoadUnsafe(ref qr, (nuint)(v0 + i));
            a0 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + i)), a0);
            a1 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + m + i)), a1);
            a2 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + 2 * m + i)), a2);
            a3 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + 3 * m + i)), a3);
        }
        double d0 = Vector256.Sum(a0), d1 = Vector256.Sum(a1), d2 = Vector256.Sum(a2), d3 = Vector256.Sum(a3);
        for (int t = i; t < len; t++)
        {
            double v = q[v0 + t];
            d0 += v * q[y0 + t];
            d1 += v * q[y0 + m + t];
            d2 += v * q[y0 + 2 * m + t];
            d3 += v * q[y0 + 3 * m + t];
        }
        double s0 = tau * (q[y0 - 1] + d0), s1 = tau * (q[y0 + m - 1] + d1), s2 = tau * (q[y0 + 2 * m - 1] + d2), s3 = tau * (q[y0 + 3 * m - 1] + d3);
        q[y0 - 1] -= s0;
        q[y0 + m - 1] -= s1;
        q[y0 + 2 * m - 1] -= s2;
        q[y0 + 3 * m - 1] -= s3;
        Vector256<double> n0 = Vector256.Create(-s0), n1 = Vector256.Create(-s1), n2 = Vector256.Create(-s2), n3 = Vector256.Create(-s3);
        for (i = 0; i <= len - 4; i += 4)
        {
            var v = Vector256.LoadUnsafe(ref qr, (nuint)(v0 + i));
            Vector256.FusedMultiplyAdd(v, n0, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + i))).StoreUnsafe(ref qr, (nuint)(y0 + i));
            Vector256.FusedMultiplyAdd(v, n1, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + m + i))).StoreUnsafe(ref qr, (nuint)(y0 + m + i));
            Vector256.FusedMultiplyAdd(v, n2, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + 2 * m + i))).StoreUnsafe(ref qr, (nuint)(y0 + 2 * m + i));
            Vector256.FusedMultiplyAdd(v, n3, Vector256.LoadUnsafe(ref qr, (nuint)(y0 + 3 * m + i))).StoreUnsafe(ref qr, (nuint)(y0 + 3 * m + i));
        }
        for (int t = i; t < len; t++)
        {
            double v = q[v0 + t];
            q[y0 + t] -= s0 * v;
            q[y0 + m + t] -= s1 * v;
            q[y0 + 2 * m + t] -= s2 * v;
            q[y0 + 3 * m + t] -= s3 * v;
        }
    }

    /// <summary>
    /// Householder bidiagonalisation of the column-major a [n, n] (overwritten): alternately a reflector from
    /// the left zeroes column k below the diagonal and one from the right zeroes row k beyond the superdiagonal.
    /// Returns the diagonal d and superdiagonal e.
    /// </summary>
    private static (double[] D, double[] E) Bidiagonalize(double[] a, int n)
    {
        var d = new double[n];
        var e = new double[Math.Max(0, n - 1)];
        var u = new double[n];
        var w = new double[n];
        for (int k = 0; k < n; k++)
        {
            // Left: the column k, rows k..n−1, applied to every later column (each one is independent).
            double tl = Reflector(a.AsSpan(k * n + k, n - k));
            d[k] = a[k * n + k];
            int kk = k;
            if (tl != 0) CpuThreadPool.ParallelFor(n - k - 1, j => Reflect(a, n, kk, tl, (kk + 1 + j) * n));
            if (k == n - 1) break;

            // Right: row k from column k+1 on (strided in column storage, so gathered), applied to rows k+1..n−1:
            // wᵢ = Σⱼ uⱼ·a[i, j], then a[i, j] −= τ·wᵢ·uⱼ. Split by blocks of rows, both steps on one block at a time.
            int len = n - k - 1;
            for (int j = 0; j < len; j++) u[j] = a[(k + 1 + j) * n + k];
            double tr = Reflector(u.AsSpan(0, len));
            e[k] = u[0];
            if (tr == 0) continue;
            u[0] = 1;
            const int Block = 64;
            int rowsLeft = n - k - 1, blocks = (rowsLeft + Block - 1) / Block;
            CpuThreadPool.ParallelFor(blocks, b =>
            {
                int i0 = kk + 1 + b * Block, count = Math.Min(Block, n - i0);
                var wb = w.AsSpan(i0, count);
                wb.Clear();
                for (int j = 0; j < len; j++) TensorPrimitives.MultiplyAdd(a.AsSpan((kk + 1 + j) * n + i0, count), u[j], wb, wb);
                for (int j = 0; j < len; j++)
                {
                    var col = a.AsSpan((kk + 1 + j) * n + i0, count);
                    TensorPrimitives.MultiplyAdd(wb, -tr * u[j], col, col);
                }
            });
        }
        return (d, e);
    }

    /// <summary>
    /// Singular values of the bidiagonal (d, e): the eigenvalues of the 2n × 2n Golub–Kahan matrix (zero diagonal,
    /// off-diagonal d₀, e₀, d₁, e₁, …, d_{n−1}) are ±σᵢ. Found by implicit QL with Wilkinson shifts (Numerical
    /// Recipes' tqli, values only, O(n²)); absolute accuracy ~ε·σ_max, far below any rank threshold.
    /// </summary>
    private static double[] BidiagonalValues(double[] d, double[] e)
    {
        int n = d.Length, size = 2 * n;
        var diag = new double[size];
        var off = new double[size]; // off[i] couples i and i+1; off[size − 1] = 0
        for (int i = 0; i < n; i++)
        {
            off[2 * i] = d[i];
            if (i < n - 1) off[2 * i + 1] = e[i];
        }
        TridiagonalEigenvalues(diag, off);
        Array.Sort(diag);
        Array.Reverse(diag);
        var sigma = new double[n];
        for (int i = 0; i < n; i++) sigma[i] = Math.Abs(diag[i]);
        Array.Sort(sigma);
        Array.Reverse(sigma);
        return sigma;
    }

    /// <summary>Eigenvalues of the symmetric tridiagonal (diag, off) into diag; off is destroyed.</summary>
    private static void TridiagonalEigenvalues(double[] diag, double[] off)
    {
        int n = diag.Length;
        // Deflate against the norm of the whole matrix, not just the two neighbouring diagonal entries: for a
        // cluster of zero eigenvalues (an exactly low-rank input) those are ~0 and the local test never passes.
        double norm = 0;
        for (int i = 0; i < n; i++) norm = Math.Max(norm, Math.Abs(diag[i]) + (i < n - 1 ? Math.Abs(off[i]) : 0));
        for (int l = 0; l < n; l++)
        {
            for (int iter = 0; ; iter++)
            {
                int m = l;
                for (; m < n - 1; m++)
                {
                    double dd = Math.Abs(diag[m]) + Math.Abs(diag[m + 1]);
                    if (Math.Abs(off[m]) <= double.Epsilon + 2.2e-16 * Math.Max(dd, norm)) break;
                }
                if (m == l) break;
                if (iter == 100) throw new ArithmeticException($"singular_values: the QL iteration did not converge at {l} of {n}");
                double g = (diag[l + 1] - diag[l]) / (2 * off[l]);
                double r = Hypot(g, 1);
                g = diag[m] - diag[l] + off[l] / (g + Math.CopySign(r, g));
                double s = 1, c = 1, p = 0;
                int i = m - 1;
                for (; i >= l; i--)
                {
                    double f = s * off[i], b = c * off[i];
                    off[i + 1] = r = Hypot(f, g);
                    if (r == 0)
                    {
                        diag[i + 1] -= p;
                        off[m] = 0;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = diag[i + 1] - p;
                    r = (diag[i] - g) * s + 2 * c * b;
                    p = s * r;
                    diag[i + 1] = g + p;
                    g = c * r - b;
                }
                if (r == 0 && i >= l) continue;
                diag[l] -= p;
                off[l] = g;
                off[m] = 0;
            }
        }
    }

    private static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        double big = Math.Max(ax, ay), small = Math.Min(ax, ay);
        if (big == 0) return 0;
        double t = small / big;
        return big * Math.Sqrt(1 + t * t);
    }
}
