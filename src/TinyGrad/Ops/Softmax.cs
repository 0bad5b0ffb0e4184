namespace TinyGrad;

/// <summary>How a loss combines its per-row values.</summary>
public enum Reduction
{
    /// <summary>The mean over rows.</summary>
    Mean,
    /// <summary>The sum over rows.</summary>
    Sum,
}

// Softmax, log-softmax and the fused cross-entropy. All work along the last axis with the maximum
// subtracted first, so logits of ±1e4 give finite results.
public sealed partial class Tensor
{
    private Tensor SoftmaxLike(int axis, bool log)
    {
        string name = log ? "log_softmax" : "softmax";
        int a = Shapes.Axis(axis, _shape, name);
        if (a != Rank - 1)
            return Transpose(a, -1).SoftmaxLike(-1, log).Transpose(a, -1); // rare: move the axis last and back
        int cols = _shape[^1], rows = Numel / Math.Max(1, cols);
        var y = Empty(_shape, Backend);
        Backend.Softmax(Storage, y.Storage, rows, cols, log);
        return Autograd.Record(name, y, [this], gy =>
        {
            // softmax:     dx = y ⊙ (dy − Σⱼ dyⱼ yⱼ)      (Jacobian diag(y) − y yᵀ)
            // log_softmax: dx = dy − softmax(x) · Σⱼ dyⱼ   (Jacobian I − 1·softmaxᵀ)
            var gx = Zeros(_shape, Device);
            Backend.SoftmaxBackward(y.Storage, gy.Storage, gx.Storage, rows, cols, log);
            AccumulateGrad(gx);
        });
    }

    /// <summary>eˣ / Σ eˣ along an axis (default: the last).</summary>
    public Tensor Softmax(int axis = -1) => SoftmaxLike(axis, log: false);

    /// <summary>x − logsumexp(x) along an axis (default: the last).</summary>
    public Tensor LogSoftmax(int axis = -1) => SoftmaxLike(axis, log: true);

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
        var perRow = Empty([rows], logits.Backend);
        var stats = Empty([rows, 2], logits.Backend);
        logits.Backend.CrossEntropy(logits.Storage, rows, cols, ids, perRow.Storage, stats.Storage);
        var loss = Empty([], logits.Backend);
        float scale = reduction == Reduction.Mean ? (rows == 0 ? float.NaN : 1f / rows) : 1f;
        // Scale each row before the sum: the mean of two losses of 3e38 is 3e38, where the sum would overflow.
        if (scale != 1f) logits.Backend.Unary(Backends.UnaryOp.MulScalar, perRow.Storage, perRow.Storage, rows, scale);
        logits.Backend.Reduce(Backends.ReduceOp.Sum, perRow.Storage, loss.Storage, 1, rows, 1);
        return Autograd.Record("cross_entropy", loss, [logits], gy =>
        {
            var gx = Zeros(logits._shape, logits.Device);
            logits.Backend.CrossEntropyBackward(logits.Storage, stats.Storage, rows, cols, ids, gy.Storage, scale, gx.Storage);
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
