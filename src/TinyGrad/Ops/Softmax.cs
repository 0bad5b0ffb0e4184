using TinyGrad.Backends;

namespace TinyGrad;

/// <summary>How a loss combines its per-row values.</summary>
public enum Reduction
{
    /// <summary>The mean over rows.</summary>
    Mean,
    /// <summary>The sum over rows.</summary>
    Sum,
}

// Softmax, log-softmax and the fused cross-entropy: the softmax normaliser of the heads' kernel family
// (IHeadKernels with Normalizer.Softmax), so one set of row kernels, one reference and one set of tests serve
// both the heads and these ops. All work along the last axis with the maximum subtracted first, so logits of ±1e4
// give finite results.
public sealed partial class Tensor
{
    /// <summary>eˣ / Σ eˣ along an axis (default: the last): the exponential of <see cref="LogSoftmax"/>.</summary>
    public Tensor Softmax(int axis = -1) => LogSoftmax(axis).Exp();

    /// <summary>x − logsumexp(x) along an axis (default: the last).</summary>
    public Tensor LogSoftmax(int axis = -1)
    {
        int a = Shapes.Axis(axis, _shape, "log_softmax");
        if (a != Rank - 1)
            return Transpose(a, -1).LogSoftmax(-1).Transpose(a, -1); // rare: move the axis last and back
        int cols = _shape[^1], rows = Numel / Math.Max(1, cols);
        var y = Empty(_shape, Backend);
        var stats = Empty([rows, 2], Backend);
        Backend.Heads().HeadLogNormalize(Normalizer.Softmax, Storage, y.Storage, stats.Storage, 0, rows, cols);
        return Autograd.Record("log_softmax", y, [this], gy =>
        {
            // log pⱼ = xⱼ − logsumexp(x): ∂/∂xᵢ Σⱼ gyⱼ log pⱼ = gyᵢ − pᵢ·Σⱼ gyⱼ (Jacobian I − 1·pᵀ).
            var gx = Uninitialized(_shape, Backend);
            Backend.Heads().HeadLogNormalizeBackward(Normalizer.Softmax, Storage, stats.Storage, gy.Storage, gx.Storage, 0, rows, cols);
            AccumulateGrad(gx);
        });
    }

    /// <summary>
    /// Fused log-softmax + negative log-likelihood of <paramref name="targets"/> (one class index per row of
    /// logits [N, C]): loss_r = logsumexp(x_r) − x_r[t_r], reduced by mean or sum. The log-probability
    /// matrix is never built; the backward is (softmax(x) − onehot(t)) · dloss (/N for the mean).
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Rank != 2)
            throw new ArgumentException($"cross_entropy: logits must be [N, C], got shape {Shapes.Format(logits._shape)}");
        int rows = logits._shape[0], cols = logits._shape[1];
        if (targets.Length != rows)
            throw new ArgumentException($"cross_entropy: {targets.Length} targets for logits of shape {Shapes.Format(logits._shape)}");
        CheckIndices("cross_entropy", targets, cols, logits._shape);
        var ids = (int[])targets.Clone();
        var be = logits.Backend;
        var perRow = Empty([rows], be);
        var stats = Empty([rows, 2], be);
        // The heads' fused NLL with the softmax normaliser: loss_r = log Σ e^(x − m) − (x_t − m).
        be.Heads().HeadNll(Normalizer.Softmax, logits.Storage, ids, perRow.Storage, stats.Storage, 0, rows, cols);
        var loss = Empty([], be);
        float scale = reduction == Reduction.Mean ? (rows == 0 ? float.NaN : 1f / rows) : 1f;
        // Scale each row before the sum: the mean of two losses of 3e38 is 3e38, where the sum would overflow.
        if (scale != 1f) be.Unary(Backends.UnaryOp.MulScalar, perRow.Storage, perRow.Storage, rows, scale);
        be.Reduce(Backends.ReduceOp.Sum, perRow.Storage, loss.Storage, 1, rows, 1);
        return Autograd.Record("cross_entropy", loss, [logits], gy =>
        {
            // ∂loss/∂x_r = scale·gy·(softmax(x_r) − onehot(t_r)): the row weight scale·gy, broadcast on the device
            // (reading gy to the host would make a GPU wait).
            var rowGrad = Uninitialized([rows], be);
            be.CopyBlocks(gy.Storage, 0, 0, rowGrad.Storage, 0, 1, 1, rows);
            if (scale != 1f) be.Unary(Backends.UnaryOp.MulScalar, rowGrad.Storage, rowGrad.Storage, rows, scale);
            var gx = Uninitialized(logits._shape, be);
            be.Heads().HeadNllBackward(Normalizer.Softmax, logits.Storage, ids, stats.Storage, rowGrad.Storage, gx.Storage, 0, rows, cols);
            logits.AccumulateGrad(gx);
        });
    }

    /// <summary>Negative log-likelihood of targets given log-probabilities [N, C] (composed: −gather, reduced).</summary>
    public static Tensor NllLoss(Tensor logProbs, int[] targets, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        if (logProbs.Rank != 2)
            throw new ArgumentException($"nll_loss: log-probabilities must be [N, C], got shape {Shapes.Format(logProbs._shape)}");
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Length != logProbs._shape[0])
            throw new ArgumentException($"nll_loss: {targets.Length} targets for log-probabilities of shape {Shapes.Format(logProbs._shape)}");
        CheckIndices("nll_loss", targets, logProbs._shape[1], logProbs._shape);
        var picked = -logProbs.Gather(targets);
        return reduction == Reduction.Mean ? picked.Mean() : picked.Sum();
    }
}
