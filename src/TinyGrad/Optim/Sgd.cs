using TinyGrad.Backends;

namespace TinyGrad.Optim;

/// <summary>
/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, step for step
/// PyTorch's torch.optim.SGD: g ← g + wd·p; buf ← momentum·buf + (1 − dampening)·g (buf = g at first);
/// g ← nesterov ? g + momentum·buf : buf; p ← p − lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly Tensor?[] _momentum;

    /// <summary>Creates the optimizer.</summary>
    public Sgd(IEnumerable<Tensor> parameters, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(parameters, lr)
    {
        if (momentum < 0 || weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(momentum), $"Sgd: momentum {momentum} and weight decay {weightDecay} must be ≥ 0");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Sgd: Nesterov momentum needs momentum > 0 and zero dampening");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _momentum = new Tensor?[Parameters.Count];
    }

    /// <summary>The momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>The dampening of the momentum.</summary>
    public float Dampening { get; }

    /// <summary>The L2 penalty added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether the step uses Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void SaveState(OptimizerState state)
    {
        for (int i = 0; i < _momentum.Length; i++)
            if (_momentum[i] is Tensor b) state.Buffers[$"momentum_buffer.{i}"] = b.Clone();
    }

    /// <inheritdoc/>
    protected override void LoadState(OptimizerState state, Func<string, int, Tensor?> buffer)
    {
        for (int i = 0; i < _momentum.Length; i++) _momentum[i] = buffer("momentum_buffer", i);
    }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor param, Tensor grad)
    {
        bool first = false;
        if (Momentum != 0f && _momentum[index] is null)
        {
            _momentum[index] = StateLike(param);
            first = true;
        }
        param.Backend.Optimizer().SgdStep(param.Storage, grad.Storage, _momentum[index]?.Storage, param.Numel,
            new SgdHyper(LearningRate, Momentum, Dampening, WeightDecay, Nesterov), first);
    }
}
