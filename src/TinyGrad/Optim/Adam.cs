using TinyGrad.Backends;

namespace TinyGrad.Optim;

/// <summary>
/// Adam (Kingma and Ba), step for step PyTorch's torch.optim.Adam: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
/// p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε). Weight decay is the L2 form (g ← g + wd·p);
/// <see cref="AdamW"/> decouples it.
/// </summary>
public class Adam : Optimizer
{
    private readonly Tensor?[] _m, _v;
    private readonly int[] _steps;
    private readonly bool _decoupled;

    /// <summary>Creates the optimizer.</summary>
    public Adam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
        : this(parameters, lr, beta1, beta2, eps, weightDecay, decoupled: false)
    {
    }

    private protected Adam(IEnumerable<Tensor> parameters, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
        : base(parameters, lr)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(beta1), $"{GetType().Name}: betas ({beta1}, {beta2}) must lie in [0, 1)");
        if (eps < 0 || weightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(eps), $"{GetType().Name}: eps {eps} and weight decay {weightDecay} must be ≥ 0");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _decoupled = decoupled;
        _m = new Tensor?[Parameters.Count];
        _v = new Tensor?[Parameters.Count];
        _steps = new int[Parameters.Count];
    }

    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Eps { get; }

    /// <summary>The weight decay (L2 for Adam, decoupled for AdamW).</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    protected override void SaveState(OptimizerState state)
    {
        for (int i = 0; i < _steps.Length; i++)
        {
            if (_m[i] is not Tensor m || _v[i] is not Tensor v) continue;
            state.Buffers[$"exp_avg.{i}"] = m.Clone();
            state.Buffers[$"exp_avg_sq.{i}"] = v.Clone();
            state.Scalars[$"step.{i}"] = _steps[i];
        }
    }

    /// <inheritdoc/>
    protected override void LoadState(OptimizerState state, Func<string, int, Tensor?> buffer)
    {
        for (int i = 0; i < _steps.Length; i++)
        {
            _m[i] = buffer("exp_avg", i);
            _v[i] = buffer("exp_avg_sq", i);
            _steps[i] = (int)state.Scalars.GetValueOrDefault($"step.{i}", 0);
        }
    }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor param, Tensor grad)
    {
        var m = _m[index] ??= StateLike(param);
        var v = _v[index] ??= StateLike(param);
        int step = ++_steps[index];
        param.Backend.Optimizer().AdamStep(param.Storage, grad.Storage, m.Storage, v.Storage, param.Numel,
            new AdamHyper(LearningRate, Beta1, Beta2, Eps, WeightDecay, _decoupled), step);
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter): Adam with decoupled weight decay, p ← p·(1 − lr·wd) before the Adam step,
/// as PyTorch's torch.optim.AdamW (default weight decay 0.01).
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer.</summary>
    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 1e-2f)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, decoupled: true)
    {
    }
}
