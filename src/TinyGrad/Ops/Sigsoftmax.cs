namespace TinyGrad;

// The paper this project reproduces (Kanai et al., "Sigsoftmax: Reanalysis of the Softmax Bottleneck", 2018) in
// one place: the definition, composed from primitive ops, and the scalar math every fused kernel is held to.
//
// Softmax:    p = softmax(z),                  log p = z − logsumexp(z).
// Sigsoftmax: pᵢ = e^zᵢ·σ(zᵢ) / Σⱼ e^zⱼ·σ(zⱼ),  log p = w − logsumexp(w) with w = z + log σ(z).
//
// Why it breaks the softmax bottleneck: with z = W·g + b, softmax's log p = W·g + b − c(g) is linear in the
// context vector g (plus a per-row constant), so the matrix of log-probabilities over all contexts has rank at
// most d + 2. log σ(z) is not linear in z, so w, and with it log p, escapes that bound at no extra parameters.
//
// The gradient of the NLL of target t: L = logsumexp(w) − w_t, so ∂L/∂wⱼ = pⱼ − [j = t], and by the chain rule
// ∂L/∂zⱼ = (pⱼ − [j = t])·w'(zⱼ), with w' = 1 (softmax) or 1 + (1 − σ(z)) = 2 − σ(z) (sigsoftmax, since
// d/dz log σ(z) = 1 − σ(z)). The fused forward and its recorded backward are in HeadNll.cs (one decoder) and
// MixtureNll.cs (MoS, MoSS); the CPU's row kernels in Backends/Cpu/CpuBackend.Heads.cs, CUDA's in heads.cu.

/// <summary>How an output head turns logits z into log-probabilities: log p = w − logsumexp(w).</summary>
public enum Normalizer
{
    /// <summary>w = z: the softmax, p ∝ eᶻ.</summary>
    Softmax,

    /// <summary>w = z + log σ(z): the sigsoftmax, p ∝ eᶻ·σ(z) (Kanai et al., 2018).</summary>
    Sigsoftmax,
}

public sealed partial class Tensor
{
    /// <summary>
    /// sigsoftmax(z)ᵢ = e^zᵢ·σ(zᵢ) / Σⱼ e^zⱼ·σ(zⱼ) along <paramref name="axis"/>: the exponential of
    /// <see cref="LogSigsoftmax"/>. Composed, so its gradient comes from the ops it is made of.
    /// </summary>
    public Tensor Sigsoftmax(int axis = -1) => LogSigsoftmax(axis).Exp();

    /// <summary>
    /// log sigsoftmax(z) = w − logsumexp(w) with w = z + log σ(z), along <paramref name="axis"/>: the definition the
    /// fused sigsoftmax heads are tested against. In log space throughout: finite for logits of ±1e4, where
    /// e^(z − max z)·σ(z) underflows to 0 for a whole row and the normaliser becomes 0/0.
    /// </summary>
    public Tensor LogSigsoftmax(int axis = -1) => (this + LogSigmoid()).LogSoftmax(axis);

    /// <summary>log p with the given normaliser: <see cref="LogSoftmax"/> or <see cref="LogSigsoftmax"/>.</summary>
    public Tensor LogNormalize(Normalizer normalizer, int axis = -1) =>
        normalizer == Normalizer.Softmax ? LogSoftmax(axis) : LogSigsoftmax(axis);
}

/// <summary>
/// The scalar reference of the heads' math, written plainly in double precision: one element, one row. It is the
/// definition the fused kernels (every backend, every SIMD path) are tested against, and what their comments
/// point to. Slow on purpose: no vectors, no fusion, no shortcuts beyond the log-space identities.
/// </summary>
public static class NormalizerReference
{
    /// <summary>log σ(z) = −log(1 + e^−z) = min(z, 0) − log1p(e^−|z|): the exponent is never positive.</summary>
    public static double LogSigmoid(double z) => Math.Min(z, 0) - Math.Log(1 + Math.Exp(-Math.Abs(z)));

    /// <summary>σ(z), computed on the side where e^−|z| cannot overflow.</summary>
    public static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>w(z): z for the softmax, z + log σ(z) for the sigsoftmax.</summary>
    public static double W(Normalizer kind, double z) => kind == Normalizer.Softmax ? z : z + LogSigmoid(z);

    /// <summary>w'(z) = dw/dz: 1 for the softmax, 2 − σ(z) for the sigsoftmax.</summary>
    public static double DW(Normalizer kind, double z) => kind == Normalizer.Softmax ? 1 : 2 - Sigmoid(z);

    /// <summary>
    /// A row's m = maxⱼ wⱼ and log Σⱼ e^(wⱼ − m): logsumexp(w) = m + that, kept as two numbers (the kernels' row
    /// stats) because their sum rounds away ~1e−3 in float32 at |m| ≈ 1e4.
    /// </summary>
    public static (double M, double LogSum) RowStats(Normalizer kind, ReadOnlySpan<float> z)
    {
        double m = double.NegativeInfinity;
        foreach (float x in z) m = Math.Max(m, W(kind, x));
        if (double.IsInfinity(m)) m = 0; // a row of −∞ (or an +∞ logit): keep w − m free of ∞ − ∞
        double sum = 0;
        foreach (float x in z) sum += Math.Exp(W(kind, x) - m);
        return (m, Math.Log(sum));
    }

    /// <summary>log pⱼ = wⱼ − logsumexp(w) for one row of logits (the maximum is subtracted before exponentiating).</summary>
    public static double[] LogProbs(Normalizer kind, ReadOnlySpan<float> z)
    {
        var (m, logSum) = RowStats(kind, z);
        var logp = new double[z.Length];
        for (int j = 0; j < z.Length; j++) logp[j] = W(kind, z[j]) - m - logSum;
        return logp;
    }

    /// <summary>−log p(t) for one row.</summary>
    public static double Nll(Normalizer kind, ReadOnlySpan<float> z, int target) => -LogProbs(kind, z)[target];

    /// <summary>∂(−log p(t))/∂zⱼ = (pⱼ − [j = t])·w'(zⱼ) for one row.</summary>
    public static double[] NllGradient(Normalizer kind, ReadOnlySpan<float> z, int target)
    {
        var logp = LogProbs(kind, z);
        var g = new double[z.Length];
        for (int j = 0; j < z.Length; j++) g[j] = (Math.Exp(logp[j]) - (j == target ? 1 : 0)) * DW(kind, z[j]);
        return g;
    }

    /// <summary>
    /// The backward of <see cref="LogProbs"/> for an upstream gradient G: ∂/∂zᵢ Σⱼ Gⱼ log pⱼ = (Gᵢ − pᵢ·Σⱼ Gⱼ)·w'(zᵢ).
    /// </summary>
    public static double[] LogProbsBackward(Normalizer kind, ReadOnlySpan<float> z, ReadOnlySpan<float> gy)
    {
        var logp = LogProbs(kind, z);
        double total = 0;
        foreach (float g in gy) total += g;
        var d = new double[z.Length];
        for (int j = 0; j < z.Length; j++) d[j] = (gy[j] - Math.Exp(logp[j]) * total) * DW(kind, z[j]);
        return d;
    }

    /// <summary>
    /// A mixture's row (MoS, MoSS): log pⱼ = logsumexp_k(log πₖ + log qₖⱼ), with qₖ = normalise(zₖ) for each
    /// expert's logits zₖ (a row each of <paramref name="z"/>, K·V long) and log π the log prior [K].
    /// </summary>
    public static double[] MixtureLogProbs(Normalizer kind, ReadOnlySpan<float> logPrior, ReadOnlySpan<float> z)
    {
        int k = logPrior.Length, v = z.Length / k;
        var experts = new double[k][];
        for (int e = 0; e < k; e++) experts[e] = LogProbs(kind, z.Slice(e * v, v));
        var y = new double[v];
        for (int j = 0; j < v; j++)
        {
            double m = double.NegativeInfinity;
            for (int e = 0; e < k; e++) m = Math.Max(m, logPrior[e] + experts[e][j]);
            if (double.IsInfinity(m)) m = 0;
            double s = 0;
            for (int e = 0; e < k; e++) s += Math.Exp(logPrior[e] + experts[e][j] - m);
            y[j] = m + Math.Log(s);
        }
        return y;
    }

    /// <summary>
    /// A mixture's NLL of target t and the posterior of each expert given it, rₖ = πₖ·qₖ(t) / Σ πₑ·qₑ(t): the
    /// weight with which expert k's own NLL gradient enters (∂L/∂zₖⱼ = rₖ·(qₖⱼ − [j = t])·w'(zₖⱼ), ∂L/∂log πₖ = −rₖ).
    /// </summary>
    public static (double Nll, double[] Posterior) MixtureNll(Normalizer kind, ReadOnlySpan<float> logPrior, ReadOnlySpan<float> z, int target)
    {
        int k = logPrior.Length, v = z.Length / k;
        var c = new double[k];
        for (int e = 0; e < k; e++) c[e] = logPrior[e] - Nll(kind, z.Slice(e * v, v), target);
        double m = c.Max();
        if (double.IsInfinity(m)) m = 0;
        double logSum = Math.Log(c.Sum(x => Math.Exp(x - m)));
        return (-(m + logSum), [.. c.Select(x => Math.Exp(x - m - logSum))]); // (c − m) − log Σ keeps log Σ at any |m|
    }
}
