using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// The decoder's logits z = x·Wᵀ + b for a block of rows of x (every head's one big GEMM), and the way back:
/// the gradients of x, W and b from dz, accumulated block by block so that a mixture head can work through
/// its rows in chunks and never hold more than one chunk of logits.
/// </summary>
/// <remarks>
/// Backward of z = x·Wᵀ + b: dx = dz·W, dW = dzᵀ·x, db = Σ_rows dz — one GEMM each (W is stored [V, in], so
/// neither needs a transpose copy), with dW and db summed over the chunks.
/// </remarks>
internal sealed class DecoderLogits
{
    private readonly Tensor _x, _weight, _bias;
    private readonly IBackend _be;
    private readonly int _in, _vocab;
    private Tensor? _dx, _dWeight, _dBias, _dBiasChunk;

    /// <summary>Logits of the rows of <paramref name="x"/> [rows, in] under <paramref name="weight"/> [V, in] and <paramref name="bias"/> [V].</summary>
    public DecoderLogits(Tensor x, Tensor weight, Tensor bias)
    {
        _x = x;
        _weight = weight;
        _bias = bias;
        _be = x.Backend;
        _in = weight.ShapeRef[1];
        _vocab = weight.ShapeRef[0];
    }

    /// <summary>Writes z for rows [firstRow, firstRow + rows) of x into <paramref name="z"/> (from element 0).</summary>
    public void Forward(int firstRow, int rows, Storage z)
    {
        // Every row starts as the bias (a block copy with source stride 0), then the GEMM adds x·Wᵀ on top (beta = 1).
        _be.CopyBlocks(_bias.Storage, 0, 0, z, 0, _vocab, _vocab, rows);
        _be.Gemm(1f, X(firstRow, rows), W.T, 1f, Z(z, rows));
    }

    /// <summary>Writes x·Wᵀ without the bias for rows [firstRow, firstRow + rows) (for a kernel that adds the bias as it reads z).</summary>
    public void ForwardWithoutBias(int firstRow, int rows, Storage z) => _be.Gemm(1f, X(firstRow, rows), W.T, 0f, Z(z, rows));

    // x's rows [firstRow, firstRow + rows), the weight [V, in], and a chunk of logits [rows, V].
    private MatrixView X(int firstRow, int rows) => MatrixView.RowMajor(_x.Storage, rows, _in, firstRow * _in);

    private MatrixView W => MatrixView.RowMajor(_weight.Storage, _vocab, _in);

    private MatrixView Z(Storage z, int rows) => MatrixView.RowMajor(z, rows, _vocab);

    /// <summary>
    /// Adds the contribution of <paramref name="alpha"/>·dz for rows [firstRow, firstRow + rows) to the gradients
    /// of x, W and b. When a kernel already summed dz over the rows for the bias, pass <paramref name="withBias"/>
    /// false and hand that sum over with <see cref="SetBiasGradient"/>.
    /// </summary>
    public void Backward(Storage dz, int firstRow, int rows, float alpha = 1f, bool withBias = true)
    {
        if (_x.RequiresGrad)
        {
            _dx ??= Tensor.Uninitialized(_x.Shape, _be); // each chunk writes its rows with β = 0, and the chunks cover x
            _be.Gemm(alpha, Z(dz, rows), W, 0f, MatrixView.RowMajor(_dx.Storage, rows, _in, firstRow * _in)); // dx = dz·W
        }
        if (_weight.RequiresGrad)
        {
            bool first = _dWeight is null;
            _dWeight ??= Tensor.Uninitialized(_weight.Shape, _be); // β = 0 on the first chunk
            _be.Gemm(alpha, Z(dz, rows).T, X(firstRow, rows), first ? 0f : 1f, MatrixView.RowMajor(_dWeight.Storage, _vocab, _in)); // dW += dzᵀ·x
        }
        if (_bias.RequiresGrad && withBias)
        {
            if (_dBias is null)
            {
                _dBias = Tensor.Empty([_vocab], _be);
                _be.Reduce(ReduceOp.Sum, dz, _dBias.Storage, 1, rows, _vocab);
                if (alpha != 1f) _be.Unary(UnaryOp.MulScalar, _dBias.Storage, _dBias.Storage, _vocab, alpha);
            }
            else
            {
                _dBiasChunk ??= Tensor.Empty([_vocab], _be);
                _be.Reduce(ReduceOp.Sum, dz, _dBiasChunk.Storage, 1, rows, _vocab);
                if (alpha != 1f) _be.Unary(UnaryOp.MulScalar, _dBiasChunk.Storage, _dBiasChunk.Storage, _vocab, alpha);
                _be.CopyBlocks(_dBiasChunk.Storage, 0, _vocab, _dBias.Storage, 0, _vocab, _vocab, 1, accumulate: true);
            }
        }
    }

    /// <summary>Takes over <paramref name="biasGrad"/> (complete: summed over every row) as b's gradient, scaled by <paramref name="alpha"/> in place.</summary>
    public void SetBiasGradient(Tensor biasGrad, float alpha = 1f)
    {
        if (!_bias.RequiresGrad) return;
        if (_dBias is not null)
            throw new InvalidOperationException("DecoderLogits: the bias gradient was already accumulated from dz");
        if (alpha != 1f) _be.Unary(UnaryOp.MulScalar, biasGrad.Storage, biasGrad.Storage, _vocab, alpha);
        _dBias = biasGrad;
    }

    /// <summary>
    /// Multiplies the accumulated gradients by the scalar in <paramref name="scalar"/> (on the device), for
    /// gradients computed ahead of the backward for an upstream gradient of 1.
    /// </summary>
    public void ScaleBy(Storage scalar)
    {
        foreach (var g in new[] { _dx, _dWeight, _dBias })
        {
            if (g is null) continue;
            var shape = g.ShapeRef;
            _be.Binary(BinaryOp.Mul, g.Storage, Shapes.Strides(shape), scalar, new int[shape.Length], g.Storage, shape);
        }
    }

    /// <summary>Hands the accumulated gradients to x, W and b (a tied W adds into the embedding's gradient).</summary>
    public void Flush()
    {
        if (_dx is not null) _x.AccumulateGrad(new GradientBuffer(_dx));
        if (_dWeight is not null) _weight.AccumulateGrad(new GradientBuffer(_dWeight));
        if (_dBias is not null) _bias.AccumulateGrad(new GradientBuffer(_dBias));
    }
}
