namespace TinyGrad.Backends;

// The output heads' kernels (softmax, sigsoftmax and their mixtures): an opt-in kernel family. A backend that
// implements it runs these row kernels itself; any other backend gets ReferenceHeadKernels, the definition written
// with the core (and NormalizerReference's double-precision rows), through KernelFamilies.Heads().
// The heads make logits with Gemm;
// these kernels do everything row-wise that follows, in one or two passes over a row, so no N×V
// intermediate beyond the logits themselves is ever written.
//
// Row conventions. The "chunk" matrices — z, its gradient dz, a kernel's own output y and its gradient,
// the mixture components comp — hold `rows` consecutive rows of `cols` starting at element 0 of their
// storage. Everything indexed per row of the whole batch — targets, stats, per-row losses, per-row
// gradient weights, the mixture's prior and output — is read and written from row `firstRow`. So a
// mixture head can feed its logits one chunk of rows at a time, and a plain head passes firstRow = 0.
//
// stats[2r] = m, stats[2r+1] = log Σⱼ e^(wⱼ − m), with m = maxⱼ wⱼ. They are kept apart, not folded into
// one logsumexp, because m + log Σ rounds away ~1e−3 at |m| ≈ 1e4 (the same reason as Tensor.CrossEntropy's).
/// <summary>The output heads' row kernels (see the conventions above); <see cref="ReferenceHeadKernels"/> is the definition.</summary>
public interface IHeadKernels
{
    /// <summary>
    /// Row-wise log-normalisation: y = (w − m) − log Σ e^(w − m), with w = z or z + log σ(z) per
    /// <paramref name="kind"/>; writes the row stats. <paramref name="y"/> may be <paramref name="z"/>.
    /// </summary>
    void HeadLogNormalize(Normalizer kind, Storage z, Storage y, Storage stats, int firstRow, int rows, int cols);

    /// <summary>
    /// Backward of <see cref="HeadLogNormalize"/> from its input z and stats: with p = e^(w − m − log Σ) and
    /// w' = dw/dz (1, or 2 − σ(z) for the sigsoftmax), dz = (gy − p·Σⱼ gyⱼ) ⊙ w'. Overwrites
    /// <paramref name="dz"/>, which may be <paramref name="z"/> or <paramref name="gy"/>.
    /// </summary>
    void HeadLogNormalizeBackward(Normalizer kind, Storage z, Storage stats, Storage gy, Storage dz, int firstRow, int rows, int cols);

    /// <summary>
    /// Fused log-normalisation + negative log-likelihood per row: loss[r] = log Σ e^(w − m) − (w[t_r] − m),
    /// and the row stats. Never writes log-probabilities.
    /// </summary>
    void HeadNll(Normalizer kind, Storage z, int[] targets, Storage loss, Storage stats, int firstRow, int rows, int cols);

    /// <summary>
    /// Backward of <see cref="HeadNll"/>: dz[r, j] = rowGrad[r]·(p_rj − [j = t_r])·w'_rj, from z and the saved
    /// stats. Overwrites <paramref name="dz"/>, which may be <paramref name="z"/>.
    /// </summary>
    void HeadNllBackward(Normalizer kind, Storage z, int[] targets, Storage stats, Storage rowGrad, Storage dz, int firstRow, int rows, int cols);

    /// <summary>
    /// The training step's fused head: <see cref="HeadNll"/> and its backward in one sweep over each row while
    /// the row is in cache. On entry <paramref name="z"/> holds the logits without the bias [rows, cols];
    /// the kernel adds <paramref name="bias"/>, writes loss[r] = −log p(t_r), overwrites z with
    /// dz = <paramref name="scale"/>·(p − onehot(t))·w' (the gradient for an upstream gradient of 1; the caller
    /// scales the GEMMs that consume it), and writes dBias = Σ_r dz (overwriting <paramref name="dBias"/>).
    /// </summary>
    /// <remarks>
    /// Against HeadNll then HeadNllBackward this saves a pass over N×V, one exponential per element (the
    /// forward's eᵂ is the backward's p up to a factor), the bias broadcast and the bias-gradient reduction.
    /// </remarks>
    void HeadNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage loss, float scale, Storage dBias, int rows, int cols);

    /// <summary>
    /// The mixture NLL from per-expert NLLs: for rows n in [firstRow, firstRow + rows), with cₙₖ = logPrior[n, k] −
    /// compLoss[n, k] (both [N, K]), writes nll[n] = −logsumexp_k cₙₖ and weights[n, k] = scale·e^(cₙₖ − logsumexp_k c),
    /// the posterior of each expert given the target, scaled (the row weights of <see cref="HeadNllBackward"/>).
    /// </summary>
    void MixturePosterior(Storage logPrior, Storage compLoss, Storage nll, Storage weights, float scale, int firstRow, int rows, int experts);

    /// <summary>
    /// The mixture over <paramref name="experts"/> components: comp holds, for each of <paramref name="rows"/>
    /// rows, K component log-probability rows (row n·K + k); logPrior is [N, K] and y is [N, cols], both read or
    /// written from firstRow. y[n, j] = log Σₖ e^(logPrior[n, k] + comp[n·K + k, j]), shifted by the maximum.
    /// </summary>
    void MixtureLogSumExp(Storage comp, Storage logPrior, Storage y, int firstRow, int rows, int experts, int cols);

    /// <summary>
    /// Backward of <see cref="MixtureLogSumExp"/> given its output y and upstream gy (both [N, cols], from
    /// firstRow): with the posterior r = e^(logPrior + comp − y), dComp[n·K + k, j] = gy[n, j]·r and
    /// dLogPrior[n, k] = Σⱼ dComp[n·K + k, j] (overwritten, from firstRow). dComp may be comp.
    /// </summary>
    void MixtureLogSumExpBackward(Storage comp, Storage logPrior, Storage y, Storage gy, Storage dComp, Storage dLogPrior,
        int firstRow, int rows, int experts, int cols);

    /// <summary>
    /// The mixture heads' training kernel, for positions [firstRow, firstRow + rows): z holds their K expert rows
    /// each ([rows·K, cols] from element 0, logits without the bias). For each position n it adds the bias,
    /// computes every expert's −log q_nk(t_n), the position's loss[n] = −log Σ_k π_nk q_nk(t_n) and the scaled
    /// posterior weights[n, k] = scale·r_nk (as <see cref="MixturePosterior"/>), and overwrites z with
    /// dz = scale·r_nk·(q_nk − onehot(t_n))·w' (for an upstream gradient of 1); it adds Σ_rows dz into
    /// <paramref name="dBias"/>. <paramref name="targets"/> has one word per position (length N).
    /// </summary>
    /// <remarks>
    /// A position's K rows (K·V floats: 600 KB at K = 15, V = 10k) stay in cache from the first sweep to the
    /// last, so the chunk's logits cross memory once instead of five times (bias, NLL, backward, bias sum).
    /// </remarks>
    void MixtureNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage logPrior, Storage loss,
        Storage weights, float scale, Storage dBias, int firstRow, int rows, int experts, int cols);
}
