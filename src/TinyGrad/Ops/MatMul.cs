using TinyGrad.Backends;

namespace TinyGrad;

// Matrix products through the backend's GEMM. Transposed operands are a flag to the kernel, never a copy.
public sealed partial class Tensor
{
    /// <summary>This · b.</summary>
    public Tensor MatMul(Tensor b) => MatMul(this, b);

    /// <summary>
    /// op(a) · op(b) where op transposes the last two axes when asked. Shapes: [M,K]·[K,N] → [M,N];
    /// batched [B,M,K]·[B,K,N] → [B,M,N]; and [B,M,K]·[K,N] → [B,M,N] (the rows of all batches in one GEMM).
    /// With transposeB, b is stored [N,K] (a Linear layer's weight).
    /// </summary>
    /// <remarks>
    /// Backward of C = A·B: dA = dC·Bᵀ and dB = Aᵀ·dC. With a stored transposed the same identities give
    /// the four cases below; each is again one GEMM with transpose flags, so no operand is ever copied.
    /// </remarks>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        SameDevice("matmul", a, b);
        if (a.Rank == 3 && b.Rank == 2 && !transposeA)
        {
            // Checked here, before the fold, so the message shows the caller's shapes rather than the folded ones.
            if (a._shape[2] != (transposeB ? b._shape[1] : b._shape[0]))
                throw new ArgumentException($"matmul: shapes {Shapes.Format(a._shape)} and {Shapes.Format(b._shape)}{(transposeB ? "ᵀ" : "")}: inner dimensions differ ({a._shape[2]} vs {(transposeB ? b._shape[1] : b._shape[0])})");
            int batch = a._shape[0], rows = a._shape[1];
            var flat = MatMul(a.Reshape(batch * rows, a._shape[2]), b, false, transposeB);
            return flat.Reshape(batch, rows, flat._shape[1]);
        }
        var (m, n, k, batches) = MatMulDims(a, b, transposeA, transposeB);
        int[] shape = a.Rank == 3 ? [batches, m, n] : [m, n];
        var c = Uninitialized(shape, a.Backend); // the GEMM runs with β = 0: every element is written
        // Stored A is [m, k] (or [k, m] when transposed), B [k, n] (or [n, k]); a batch steps one matrix at a time.
        var av = (transposeA ? MatrixView.RowMajor(a.Storage, k, m).T : MatrixView.RowMajor(a.Storage, m, k)) with { BatchStride = (long)m * k };
        var bv = (transposeB ? MatrixView.RowMajor(b.Storage, n, k).T : MatrixView.RowMajor(b.Storage, k, n)) with { BatchStride = (long)k * n };
        var cv = MatrixView.RowMajor(c.Storage, m, n) with { BatchStride = (long)m * n };
        a.Backend.Gemm(1f, av, bv, 0f, cv, batches);
        return Autograd.Record("matmul", c, [a, b], gy =>
        {
            if (a.RequiresGrad)
            {
                a.AccumulateGrad((transposeA, transposeB) switch
                {
                    (false, false) => MatMul(gy, b, false, true),  // dC·Bᵀ
                    (false, true) => MatMul(gy, b, false, false),  // dC·B        (B stored [N,K])
                    (true, false) => MatMul(b, gy, false, true),   // B·dCᵀ       (A stored [K,M])
                    (true, true) => MatMul(b, gy, true, true),     // Bᵀ·dCᵀ
                });
            }
            if (b.RequiresGrad)
            {
                b.AccumulateGrad((transposeA, transposeB) switch
                {
                    (false, false) => MatMul(a, gy, true, false),  // Aᵀ·dC
                    (false, true) => MatMul(gy, a, true, false),   // dCᵀ·A       (B stored [N,K])
                    (true, false) => MatMul(a, gy, false, false),  // A·dC        (A stored [K,M])
                    (true, true) => MatMul(gy, a, true, true),     // dCᵀ·Aᵀ
                });
            }
        });
    }

    private static (int M, int N, int K, int Batches) MatMulDims(Tensor a, Tensor b, bool transposeA, bool transposeB)
    {
        string Describe() => $"matmul: shapes {Shapes.Format(a._shape)}{(transposeA ? "ᵀ" : "")} and {Shapes.Format(b._shape)}{(transposeB ? "ᵀ" : "")}";
        bool batched = a.Rank == 3 && b.Rank == 3;
        if (a.Rank == 3 && b.Rank == 2)
            throw new ArgumentException($"{Describe()}: a 3-D·2-D product folds the batch into rows, which a transposed 3-D operand does not allow; transpose it first or use a batched 3-D·3-D product");
        if (!(a.Rank == 2 && b.Rank == 2) && !batched)
            throw new ArgumentException($"{Describe()}: expected 2-D·2-D, 3-D·3-D or (untransposed) 3-D·2-D operands");
        int r = a.Rank;
        int m = transposeA ? a._shape[r - 1] : a._shape[r - 2];
        int ka = transposeA ? a._shape[r - 2] : a._shape[r - 1];
        int kb = transposeB ? b._shape[r - 1] : b._shape[r - 2];
        int n = transposeB ? b._shape[r - 2] : b._shape[r - 1];
        if (ka != kb) throw new ArgumentException($"{Describe()}: inner dimensions differ ({ka} vs {kb})");
        if (batched && a._shape[0] != b._shape[0])
            throw new ArgumentException($"{Describe()}: batch sizes differ ({a._shape[0]} vs {b._shape[0]})");
        return (m, n, ka, batched ? a._shape[0] : 1);
    }
}
