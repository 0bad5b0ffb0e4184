namespace TinyGrad.Backends;

/// <summary>The hyper-parameters of one SGD step (PyTorch's names).</summary>
/// <param name="Lr">The learning rate.</param>
/// <param name="Momentum">The momentum factor (0: none, and no buffer).</param>
/// <param name="Dampening">Dampening of the momentum.</param>
/// <param name="WeightDecay">L2 penalty, added to the gradient.</param>
/// <param name="Nesterov">Nesterov momentum.</param>
public readonly record struct SgdHyper(float Lr, float Momentum = 0f, float Dampening = 0f, float WeightDecay = 0f, bool Nesterov = false);

/// <summary>The hyper-parameters of one Adam step (PyTorch's names).</summary>
/// <param name="Lr">The learning rate.</param>
/// <param name="Beta1">The decay of the first moment.</param>
/// <param name="Beta2">The decay of the second moment.</param>
/// <param name="Eps">Added to the denominator.</param>
/// <param name="WeightDecay">The weight decay (L2 on the gradient, or decoupled).</param>
/// <param name="Decoupled">AdamW: p ·= 1 − lr·wd instead of g += wd·p.</param>
public readonly record struct AdamHyper(float Lr, float Beta1, float Beta2, float Eps, float WeightDecay, bool Decoupled);

/// <summary>
/// The optimizers' update kernels, an opt-in kernel family: each updates a parameter (and its state) in place in
/// one pass. <see cref="ReferenceOptimizerKernels"/> is the definition, and what a backend without this family runs;
/// a new optimizer can be written the same way, with no backend edits.
/// </summary>
public interface IOptimizerKernels
{
    /// <summary>
    /// One SGD step in place over <paramref name="n"/> elements, PyTorch's rule: g = grad + wd·p;
    /// buf = momentum·buf + (1 − dampening)·g (buf = g on the first step); g = nesterov ? g + momentum·buf : buf;
    /// p −= lr·g. <paramref name="momentumBuffer"/> is null when momentum is 0.
    /// </summary>
    void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, SgdHyper h, bool firstStep);

    /// <summary>
    /// One Adam step in place over <paramref name="n"/> elements at step <paramref name="step"/> (from 1), PyTorch's
    /// rule: m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
    /// </summary>
    void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, AdamHyper h, int step);

    /// <summary>avg += w·(x − avg), or avg = x when w is 1 (the running average of averaged SGD).</summary>
    void Lerp(Storage avg, Storage x, int n, float w);

    /// <summary>
    /// One step of dynamic evaluation (Krause et al., 2018; <see cref="Models.DynamicEvaluation"/>) in place:
    /// p += pull·(p₀ − p) − (lr·g)/denom, in that order of float32 operations, where p₀ is the trained value,
    /// pull = λ·d the per-weight decay toward it and denom = RMS + ε the per-weight gradient scale.
    /// </summary>
    void DynamicEvaluationStep(Storage param, Storage grad, Storage trained, Storage pull, Storage denom, int n, float lr);
}
