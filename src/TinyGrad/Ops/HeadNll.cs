using TinyGrad.Backends;
using TinyGrad.NN.Heads;

namespace TinyGrad;

/// <summary>
/// The fused ops of the single-normaliser heads (softmax, sigsoftmax): hidden g [N, d] → logits
/// z = g·Wᵀ + b [N, V] → log p = w − logsumexp(w), with w = z or z + log σ(z). Each op is one tape node
/// whose backward is written here, beside its forward.
/// </summary>
/// <remarks>
/// <para>The math (Ops/Sigsoftmax.cs has the why). For the sigsoftmax, log f = w − logsumexp(w) with
/// w = z + log σ(z), and the NLL of target t is L = logsumexp(w) − w_t:
///   ∂L/∂wⱼ = fⱼ − [j = t],   dw/dz = 1 + (1 − σ(z)) = 2 − σ(z),   so ∂L/∂zⱼ = (fⱼ − [j = t])·(2 − σ(zⱼ)).
/// The softmax is the same with w = z and dw/dz = 1.</para>
/// <para>Three definitions of the same numbers, each tested against the next: the backend's fused row kernels
/// (IHeadKernels.cs; CPU in CpuBackend.Heads.cs), the plain scalar rows of <see cref="NormalizerReference"/>
/// (double precision), and the composed ops <see cref="Tensor.LogSigsoftmax"/> / <see cref="Tensor.LogSoftmax"/>
/// that <see cref="OutputHead.LogProbsComposed"/> builds on the tape.</para>
/// </remarks>
internal static class HeadNll
{
    /// <summary>
    /// −Σₙ log p(tₙ | gₙ) (or its mean). Builds the logits and nothing else of size N×V. When a gradient will
    /// be needed, the forward's row kernel turns the logits into their gradient in place while each row is in
    /// cache (so the backward is only GEMMs); otherwise it keeps two floats per row (max and log-sum).
    /// </summary>
    /// <remarks>
    /// With L = Σₙ (logsumexp(wₙ) − wₙ,ₜ) · scale: ∂L/∂wₙⱼ = scale·(pₙⱼ − [j = tₙ]), so
    ///   softmax:    ∂L/∂zₙⱼ = scale·(pₙⱼ − [j = tₙ]),
    ///   sigsoftmax: ∂L/∂zₙⱼ = scale·(pₙⱼ − [j = tₙ])·(2 − σ(zₙⱼ)), since dw/dz = 1 + (1 − σ(z)).
    /// Then dg = dz·W, dW = dzᵀ·g, db = Σₙ dz (<see cref="DecoderLogits"/>).
    /// </remarks>
    public static Tensor Nll(string op, Normalizer kind, Tensor hidden, Tensor weight, Tensor bias, int[] targets, Reduction reduction)
    {
        var (n, v) = CheckDecoder(op, hidden, weight, bias);
        var ids = CheckTargets(op, targets, n, v, $"hidden {Shapes.Format(hidden.ShapeRef)}");
        var be = hidden.Backend;
        var logits = new DecoderLogits(hidden, weight, bias);
        var z = Tensor.Uninitialized([n, v], be);
        var perRow = Tensor.Empty([n], be);
        float scale = reduction == Reduction.Mean ? 1f / n : 1f;
        var loss = Tensor.Empty([], be);
        bool record = Autograd.IsGradEnabled && (hidden.RequiresGrad || weight.RequiresGrad || bias.RequiresGrad);
        if (!record)
        {
            logits.Forward(0, n, z.Storage);
            be.Heads().HeadNll(kind, z.Storage, ids, perRow.Storage, Tensor.Empty([n, 2], be).Storage, 0, n, v);
            MeanOrSum(be, perRow, loss, n, scale);
            return loss;
        }

        // Training: the loss and its gradient in one sweep over the logits (HeadNllWithGradient), for an
        // upstream gradient of 1; the backward then only runs the GEMMs, scaled by the actual upstream scalar.
        // The logits buffer becomes dz, so nothing of size N×V is kept beyond it.
        logits.ForwardWithoutBias(0, n, z.Storage);
        var dBias = Tensor.Empty([v], be);
        be.Heads().HeadNllWithGradient(kind, z.Storage, bias.Storage, ids, perRow.Storage, scale, dBias.Storage, n, v);
        MeanOrSum(be, perRow, loss, n, scale);

        return Autograd.Record(op, loss, [hidden, weight, bias], gy =>
        {
            if (be.IsHost)
            {
                float alpha = gy.Item();
                logits.Backward(z.Storage, 0, n, alpha, withBias: false);
                logits.SetBiasGradient(dBias, alpha);
            }
            else
            {
                // Reading gy would synchronise the device: scale the (small) gradients on the device instead.
                logits.Backward(z.Storage, 0, n, withBias: false);
                logits.SetBiasGradient(dBias);
                logits.ScaleBy(gy.Storage);
            }
            logits.Flush();
        });
    }

    /// <summary>
    /// The log-probability matrix [N, V]. Without a gradient to record it is normalised in place in the
    /// logits' buffer; otherwise the logits are kept for the backward.
    /// </summary>
    /// <remarks>
    /// log pⱼ = wⱼ − logsumexp(w): ∂/∂wᵢ Σⱼ Gⱼ log pⱼ = Gᵢ − pᵢ·Σⱼ Gⱼ, so
    /// ∂/∂zᵢ = (Gᵢ − pᵢ·Σⱼ Gⱼ)·w'(zᵢ), with w' = 1 (softmax) or 2 − σ(zᵢ) (sigsoftmax).
    /// </remarks>
    public static Tensor LogProbs(string op, Normalizer kind, Tensor hidden, Tensor weight, Tensor bias)
    {
        var (n, v) = CheckDecoder(op, hidden, weight, bias);
        var be = hidden.Backend;
        var logits = new DecoderLogits(hidden, weight, bias);
        var z = Tensor.Empty([n, v], be);
        logits.Forward(0, n, z.Storage);
        bool record = Autograd.IsGradEnabled && (hidden.RequiresGrad || weight.RequiresGrad || bias.RequiresGrad);
        var y = record ? Tensor.Empty([n, v], be) : z;
        var stats = Tensor.Empty([n, 2], be);
        be.Heads().HeadLogNormalize(kind, z.Storage, y.Storage, stats.Storage, 0, n, v);
        if (!record) return y;

        return Autograd.Record(op, y, [hidden, weight, bias], gy =>
        {
            be.Heads().HeadLogNormalizeBackward(kind, z.Storage, stats.Storage, gy.Storage, z.Storage, 0, n, v);
            logits.Backward(z.Storage, 0, n);
            logits.Flush();
        });
    }

    /// <summary>Checks hidden [N, in] against the decoder W [V, in] and b [V]; returns (N, V).</summary>
    /// <summary>
    /// loss = scale·Σₙ perRow[n], scaling each row before the sum: a mean of two losses of 3e38 is 3e38, where
    /// summing first would overflow to ∞. (perRow is overwritten.)
    /// </summary>
    internal static void MeanOrSum(IBackend be, Tensor perRow, Tensor loss, int n, float scale)
    {
        if (scale != 1f) be.Unary(UnaryOp.MulScalar, perRow.Storage, perRow.Storage, n, scale);
        be.Reduce(ReduceOp.Sum, perRow.Storage, loss.Storage, 1, n, 1);
    }

    internal static (int N, int V) CheckDecoder(string op, Tensor hidden, Tensor weight, Tensor bias)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        if (weight.Rank != 2 || !Shapes.Equal(bias.ShapeRef, [weight.ShapeRef[0]]))
            throw new ArgumentException($"{op}: decoder weight {Shapes.Format(weight.ShapeRef)} and bias {Shapes.Format(bias.ShapeRef)} must be [V, in] and [V]");
        if (hidden.Rank != 2 || hidden.ShapeRef[1] != weight.ShapeRef[1])
            throw new ArgumentException($"{op}: hidden {Shapes.Format(hidden.ShapeRef)} does not match decoder {Shapes.Format(weight.ShapeRef)}");
        if (hidden.ShapeRef[0] == 0)
            throw new ArgumentException($"{op}: hidden {Shapes.Format(hidden.ShapeRef)} has no rows");
        Tensor.SameDevice(op, hidden, weight);
        Tensor.SameDevice(op, hidden, bias);
        return (hidden.ShapeRef[0], weight.ShapeRef[0]);
    }

    /// <summary>Checks one target per row of <paramref name="source"/> (named in errors), each a word id in [0, V); returns a private copy (the caller may reuse its array).</summary>
    internal static int[] CheckTargets(string op, int[] targets, int rows, int vocab, string source)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Length != rows)
            throw new ArgumentException($"{op}: {targets.Length} targets for {source} ({rows} rows)");
        for (int i = 0; i < targets.Length; i++)
        {
            if ((uint)targets[i] >= (uint)vocab)
                throw new ArgumentOutOfRangeException(nameof(targets), $"{op}: target {targets[i]} at position {i} is out of range [0, {vocab})");
        }
        return (int[])targets.Clone();
    }
}
