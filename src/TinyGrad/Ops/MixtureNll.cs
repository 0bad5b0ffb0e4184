using TinyGrad.Backends;
using TinyGrad.NN.Heads;

namespace TinyGrad;

/// <summary>
/// The fused ops of the mixture heads (MoS, MoSS). Inputs: the log prior log π [N, K] and the latent
/// contexts h [N·K, E] (row n·K + k is expert k of position n), both made by ordinary ops on the tape, and
/// the shared decoder W [V, E], b [V]. Component k of row n is log qₙₖ = normalise(W·hₙₖ + b), and
/// log pₙ = logsumexp_k(log πₙₖ + log qₙₖ).
/// </summary>
/// <remarks>
/// The component logits are N·K·V numbers (700 × 15 × 10,000 floats = 420 MB), so they are made and consumed
/// one chunk of rows at a time and never stored: extra memory is O(chunk·K·V) whatever N is. The NLL finishes
/// its gradient inside the forward's chunk loop; the log-probabilities' backward makes each chunk again.
/// </remarks>
internal static class MixtureNll
{
    /// <summary>
    /// −Σₙ log pₙ(tₙ) (or its mean). Per (n, k) row only the target's component log-probability is needed,
    /// so the forward runs the fused NLL kernel on each chunk of logits and combines over experts at [N, K].
    /// </summary>
    /// <remarks>
    /// <para>With ℓₙₖ = −log qₙₖ(tₙ) (the kernel's per-row loss) and cₙₖ = log πₙₖ − ℓₙₖ: Lₙ = −logsumexp_k cₙₖ.
    /// Its gradient is the posterior of each expert given the target, rₙₖ = e^(cₙₖ + Lₙ):
    ///   ∂Lₙ/∂log πₙₖ = −rₙₖ,   ∂Lₙ/∂ℓₙₖ = rₙₖ,
    /// and ℓₙₖ is an ordinary one-row NLL, so ∂Lₙ/∂zₙₖⱼ = rₙₖ·(qₙₖⱼ − [j = tₙ])·w'(zₙₖⱼ): the single head's
    /// backward kernel with row weight scale·rₙₖ. Then dh, dW, db through <see cref="DecoderLogits"/>.</para>
    /// <para>A chunk holds whole rows n (all K experts), so rₙₖ is known as soon as the chunk's NLLs are. The
    /// gradient is therefore computed in the forward, chunk by chunk, for an upstream gradient of 1, while the
    /// chunk's logits are at hand; the backward only multiplies it by the upstream scalar. That saves making
    /// every chunk's logits a second time (a quarter of the GEMM work) and keeps the memory O(chunk·K·V)
    /// plus one gradient per input. Outside a gradient scope (or with nothing requiring one) it is skipped.</para>
    /// </remarks>
    public static Tensor Nll(string op, Normalizer kind, Tensor logPrior, Tensor latent, Tensor weight, Tensor bias,
        int[] targets, Reduction reduction, int chunkRows)
    {
        var (n, k, v) = Check(op, logPrior, latent, weight, bias);
        var ids = HeadNll.CheckTargets(op, targets, n, v, $"log prior {Shapes.Format(logPrior.ShapeRef)}");
        var rowTargets = new int[n * k]; // one target per (n, k) row: every expert predicts the same word
        for (int i = 0; i < rowTargets.Length; i++) rowTargets[i] = ids[i / k];
        var be = latent.Backend;
        int chunkN = Math.Max(1, Math.Min(chunkRows, n)), nk = n * k;
        float scale = reduction == Reduction.Mean ? 1f / n : 1f;
        bool decoderGrads = Autograd.IsGradEnabled && (latent.RequiresGrad || weight.RequiresGrad || bias.RequiresGrad);

        var logits = new DecoderLogits(latent, weight, bias);
        var compLoss = Tensor.Empty([n, k], be);
        var stats = Tensor.Empty([nk, 2], be);
        var perRow = Tensor.Empty([n], be);
        var rowWeights = Tensor.Empty([n, k], be); // scale·rₙₖ
        var z = Tensor.Uninitialized([chunkN * k, v], be);
        var dBias = decoderGrads ? Tensor.Zeros([v], be.Device) : null;
        for (int start = 0; start < n; start += chunkN)
        {
            int rows = Math.Min(chunkN, n - start);
            if (dBias is null)
            {
                logits.Forward(start * k, rows * k, z.Storage);
                be.Heads().HeadNll(kind, z.Storage, rowTargets, compLoss.Storage, stats.Storage, start * k, rows * k, v);
                be.Heads().MixturePosterior(logPrior.Storage, compLoss.Storage, perRow.Storage, rowWeights.Storage, scale, start, rows, k);
                continue;
            }
            // The chunk's loss and gradient for an upstream 1 in one kernel, while its logits are here: they
            // become dz in place (bias added and its gradient summed on the way), then dh and dW by GEMM.
            logits.ForwardWithoutBias(start * k, rows * k, z.Storage);
            be.Heads().MixtureNllWithGradient(kind, z.Storage, bias.Storage, ids, logPrior.Storage, perRow.Storage, rowWeights.Storage,
                scale, dBias.Storage, start, rows, k, v);
            logits.Backward(z.Storage, start * k, rows * k, withBias: false);
        }
        if (dBias is not null) logits.SetBiasGradient(dBias);
        var loss = Tensor.Empty([], be);
        HeadNll.MeanOrSum(be, perRow, loss, n, scale);

        return Autograd.Record(op, loss, [logPrior, latent, weight, bias], gy =>
        {
            if (logPrior.RequiresGrad)
            {
                // ∂L/∂log π = −scale·r·gy.
                var dPrior = Tensor.Empty([n, k], be);
                be.Binary(BinaryOp.Mul, rowWeights.Storage, [k, 1], gy.Storage, [0, 0], dPrior.Storage, [n, k]);
                be.Unary(UnaryOp.Neg, dPrior.Storage, dPrior.Storage, nk);
                logPrior.AccumulateGrad(dPrior);
            }
            logits.ScaleBy(gy.Storage);
            logits.Flush();
        });
    }

    /// <summary>The log-probability matrix [N, V], one chunk of rows at a time.</summary>
    /// <remarks>
    /// log pₙⱼ = logsumexp_k aₙₖⱼ with aₙₖⱼ = log πₙₖ + log qₙₖⱼ. For an upstream G [N, V]:
    ///   ∂/∂aₙₖⱼ = Gₙⱼ·e^(aₙₖⱼ − log pₙⱼ) (the posterior of expert k for word j), so
    ///   ∂/∂log πₙₖ = Σⱼ Gₙⱼ·e^(aₙₖⱼ − log pₙⱼ), and ∂/∂log qₙₖⱼ is the same term before the sum;
    /// it then passes through each expert's log-normaliser as in <see cref="HeadNll.LogProbs"/>.
    /// The backward rebuilds each chunk's logits and component log-probabilities (two chunk buffers).
    /// </remarks>
    public static Tensor LogProbs(string op, Normalizer kind, Tensor logPrior, Tensor latent, Tensor weight, Tensor bias, int chunkRows)
    {
        var (n, k, v) = Check(op, logPrior, latent, weight, bias);
        var be = latent.Backend;
        int chunkN = Math.Max(1, Math.Min(chunkRows, n)), nk = n * k;
        var logits = new DecoderLogits(latent, weight, bias);
        var y = Tensor.Empty([n, v], be);
        var stats = Tensor.Empty([nk, 2], be);
        var comp = Tensor.Empty([chunkN * k, v], be);
        for (int start = 0; start < n; start += chunkN)
        {
            int rows = Math.Min(chunkN, n - start);
            logits.Forward(start * k, rows * k, comp.Storage);
            be.Heads().HeadLogNormalize(kind, comp.Storage, comp.Storage, stats.Storage, start * k, rows * k, v);
            be.Heads().MixtureLogSumExp(comp.Storage, logPrior.Storage, y.Storage, start, rows, k, v);
        }
        bool record = Autograd.IsGradEnabled && (logPrior.RequiresGrad || latent.RequiresGrad || weight.RequiresGrad || bias.RequiresGrad);
        if (!record) return y;

        return Autograd.Record(op, y, [logPrior, latent, weight, bias], gy =>
        {
            var dPrior = Tensor.Empty([n, k], be);
            var z = Tensor.Empty([chunkN * k, v], be);
            var q = Tensor.Empty([chunkN * k, v], be);
            for (int start = 0; start < n; start += chunkN)
            {
                int rows = Math.Min(chunkN, n - start);
                logits.Forward(start * k, rows * k, z.Storage);
                // Rewrites the same stats the forward saved (same inputs, same arithmetic), so no second copy is needed.
                be.Heads().HeadLogNormalize(kind, z.Storage, q.Storage, stats.Storage, start * k, rows * k, v);
                be.Heads().MixtureLogSumExpBackward(q.Storage, logPrior.Storage, y.Storage, gy.Storage, q.Storage, dPrior.Storage, start, rows, k, v);
                be.Heads().HeadLogNormalizeBackward(kind, z.Storage, stats.Storage, q.Storage, z.Storage, start * k, rows * k, v);
                logits.Backward(z.Storage, start * k, rows * k);
            }
            logPrior.AccumulateGrad(dPrior);
            logits.Flush();
        });
    }

    private static (int N, int K, int V) Check(string op, Tensor logPrior, Tensor latent, Tensor weight, Tensor bias)
    {
        ArgumentNullException.ThrowIfNull(logPrior);
        var (rows, v) = HeadNll.CheckDecoder(op, latent, weight, bias);
        if (logPrior.Rank != 2 || logPrior.ShapeRef[0] * logPrior.ShapeRef[1] != rows || logPrior.ShapeRef[1] == 0)
            throw new ArgumentException($"{op}: log prior {Shapes.Format(logPrior.ShapeRef)} does not match latent {Shapes.Format(latent.ShapeRef)} (expected [N, K] with N·K rows)");
        Tensor.SameDevice(op, logPrior, latent);
        return (logPrior.ShapeRef[0], logPrior.ShapeRef[1], v);
    }
}
