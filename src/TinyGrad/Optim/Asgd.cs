using TinyGrad.Backends;

namespace TinyGrad.Optim;

/// <summary>
/// Averaged SGD, step for step PyTorch's torch.optim.ASGD: an SGD step with decay, plus a running average
/// <c>ax</c> of the iterates that starts after <c>t0</c> steps. With lambd = 0 and t0 = 0 it is the averaged
/// SGD of NT-ASGD (Merity et al. 2018): a trainer switches to it when validation stalls and evaluates with
/// the averaged weights swapped in (<see cref="SwapAverage"/>).
/// </summary>
/// <remarks>
/// Per step t (from 1): g ← g + wd·p; p ← p·(1 − λη) − η·g; ax ← ax + μ·(p − ax) (ax ← p when μ = 1);
/// then η ← lr / (1 + λ·lr·t)^α and μ ← 1 / max(1, t − t0).
/// </remarks>
public sealed class Asgd : Optimizer
{
    private readonly Tensor?[] _average;
    private readonly int[] _steps;
    private readonly double[] _eta, _mu;

    /// <summary>Creates the optimizer (PyTorch's defaults).</summary>
    public Asgd(IEnumerable<Tensor> parameters, float lr = 1e-2f, float lambd = 1e-4f, float alpha = 0.75f, float t0 = 1e6f, float weightDecay = 0f)
        : base(parameters, lr)
    {
        if (lambd < 0 || weightDecay < 0 || t0 < 0)
            throw new ArgumentOutOfRangeException(nameof(lambd), $"Asgd: lambd {lambd}, t0 {t0} and weight decay {weightDecay} must be ≥ 0");
        Lambd = lambd;
        Alpha = alpha;
        T0 = t0;
        WeightDecay = weightDecay;
        _average = new Tensor?[Parameters.Count];
        _steps = new int[Parameters.Count];
        _eta = Enumerable.Repeat((double)lr, Parameters.Count).ToArray();
        _mu = Enumerable.Repeat(1.0, Parameters.Count).ToArray();
    }

    /// <summary>The decay term λ.</summary>
    public float Lambd { get; }

    /// <summary>The power α of the step-size decay.</summary>
    public float Alpha { get; }

    /// <summary>The step at which averaging starts.</summary>
    public float T0 { get; }

    /// <summary>The L2 penalty added to the gradient.</summary>
    public float WeightDecay { get; }

    /// <summary>The running average of parameter <paramref name="index"/>, or null before its first step.</summary>
    public Tensor? Average(int index) => _average[index];

    /// <inheritdoc/>
    protected override void SaveState(OptimizerState state)
    {
        for (int i = 0; i < _steps.Length; i++)
        {
            if (_average[i] is Tensor ax) state.Buffers[$"ax.{i}"] = ax.Clone();
            state.Scalars[$"step.{i}"] = _steps[i];
            state.Scalars[$"eta.{i}"] = _eta[i];
            state.Scalars[$"mu.{i}"] = _mu[i];
        }
    }

    /// <inheritdoc/>
    protected override void LoadState(OptimizerState state, Func<string, int, Tensor?> buffer)
    {
        for (int i = 0; i < _steps.Length; i++)
        {
            _average[i] = buffer("ax", i);
            _steps[i] = (int)state.Scalars.GetValueOrDefault($"step.{i}", 0);
            _eta[i] = state.Scalars.GetValueOrDefault($"eta.{i}", LearningRate);
            _mu[i] = state.Scalars.GetValueOrDefault($"mu.{i}", 1.0);
        }
    }

    /// <inheritdoc/>
    protected override void Update(int index, Tensor param, Tensor grad)
    {
        var ax = _average[index] ??= StateLike(param);
        int step = ++_steps[index];
        float eta = (float)_eta[index];
        var backend = param.Backend;
        // p·(1 − λη) − η(g + wd·p) = p·(1 − λη − η·wd) − η·g: one scale, then a plain SGD step.
        float shrink = 1f - Lambd * eta - eta * WeightDecay;
        if (shrink != 1f) backend.Unary(Backends.UnaryOp.MulScalar, param.Storage, param.Storage, param.Numel, shrink);
        backend.Optimizer().SgdStep(param.Storage, grad.Storage, null, param.Numel, new SgdHyper(eta), firstStep: false);
        backend.Optimizer().Lerp(ax.Storage, param.Storage, param.Numel, (float)_mu[index]);
        _eta[index] = LearningRate / Math.Pow(1 + Lambd * LearningRate * (double)step, Alpha);
        _mu[index] = 1.0 / Math.Max(1.0, step - (double)T0);
    }

    /// <summary>
    /// Exchanges every parameter's values with its running average (parameters not yet stepped are left
    /// alone). Call it before evaluating with the averaged weights and again afterwards to restore.
    /// </summary>
    public void SwapAverage()
    {
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (_average[i] is not Tensor ax) continue;
            var p = Parameters[i];
            var backend = p.Backend;
            int n = p.Numel;
            var tmp = backend.Allocate(n);
            backend.CopyBlocks(p.Storage, 0, n, tmp, 0, n, n, 1);
            backend.CopyBlocks(ax.Storage, 0, n, p.Storage, 0, n, n, 1);
            backend.CopyBlocks(tmp, 0, n, ax.Storage, 0, n, n, 1);
        }
    }
}
