namespace TinyGrad.Optim;

/// <summary>
/// The base of all optimizers (PyTorch's torch.optim.Optimizer with one parameter group): it owns the
/// parameter list, the learning rate and <see cref="ZeroGrad"/>. Subclasses implement one update rule
/// through the backend's fused kernels, so a step is one pass over each parameter on any device.
/// </summary>
public abstract class Optimizer
{
    /// <summary>Takes the parameters to update; each must be a leaf that requires a gradient.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, float lr)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = [.. parameters];
        if (Parameters.Count == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list");
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i] ?? throw new ArgumentException($"{GetType().Name}: parameter {i} is null");
            if (!p.IsLeaf || !p.RequiresGrad)
                throw new ArgumentException($"{GetType().Name}: parameter {i} ({p.Name ?? Shapes.Format(p.ShapeRef)}) must be a leaf with RequiresGrad set");
        }
        if (Parameters.Distinct().Count() != Parameters.Count)
            throw new ArgumentException($"{GetType().Name}: a parameter appears twice in the list");
        LearningRate = lr;
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The learning rate; a trainer may change it between steps.</summary>
    public float LearningRate
    {
        get;
        set => field = value >= 0 && float.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"{GetType().Name}: learning rate {value} must be finite and ≥ 0");
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad is not Tensor g) continue;
            if (g.Device != p.Device || !Shapes.Equal(g.ShapeRef, p.ShapeRef)) // same count is not enough: a transposed gradient would be applied silently
                throw new InvalidOperationException($"{GetType().Name}: gradient {Shapes.Format(g.ShapeRef)} on {g.Device} does not fit parameter {i} {Shapes.Format(p.ShapeRef)} on {p.Device}");
            Update(i, p, g);
        }
    }

    /// <summary>
    /// A copy of everything the optimizer carries between steps (PyTorch's optimizer.state_dict): named
    /// buffers per parameter index (e.g. <c>exp_avg.3</c>) and scalars (the learning rate, step counts), so a
    /// checkpointed run resumes with the same updates.
    /// </summary>
    public OptimizerState GetState()
    {
        var state = new OptimizerState(GetType().Name, [], new() { ["lr"] = LearningRate });
        using var _ = Autograd.NoGrad();
        SaveState(state);
        return state;
    }

    /// <summary>Restores a state from <see cref="GetState"/> of the same kind of optimizer over parameters of the same shapes.</summary>
    public void LoadState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != GetType().Name)
            throw new ArgumentException($"{GetType().Name}: cannot load the state of a {state.Kind}");
        foreach (var (name, buffer) in state.Buffers)
        {
            int dot = name.LastIndexOf('.');
            if (dot < 0 || !int.TryParse(name[(dot + 1)..], out int i) || i < 0 || i >= Parameters.Count)
                throw new ArgumentException($"{GetType().Name}: state buffer '{name}' names no parameter (there are {Parameters.Count})");
            if (!Shapes.Equal(buffer.ShapeRef, Parameters[i].ShapeRef))
                throw new ArgumentException($"{GetType().Name}: state buffer '{name}' has shape {Shapes.Format(buffer.ShapeRef)}, parameter {i} {Shapes.Format(Parameters[i].ShapeRef)}");
        }
        LearningRate = (float)state.Scalars.GetValueOrDefault("lr", LearningRate);
        LoadState(state, (name, i) => state.Buffers.TryGetValue($"{name}.{i}", out var t)
            ? Tensor.FromArray(t.ToArray(), Parameters[i].ShapeRef, Parameters[i].Device)
            : null);
    }

    /// <summary>Adds this optimizer's buffers (as copies) and scalars to <paramref name="state"/>.</summary>
    protected abstract void SaveState(OptimizerState state);

    /// <summary>Restores buffers (<paramref name="buffer"/>(name, index) gives a private copy, or null) and scalars.</summary>
    protected abstract void LoadState(OptimizerState state, Func<string, int, Tensor?> buffer);

    /// <summary>The update rule for one parameter and its gradient (runs under no-grad).</summary>
    protected abstract void Update(int index, Tensor param, Tensor grad);

    /// <summary>A zero buffer shaped like a parameter, for optimizer state.</summary>
    protected static Tensor StateLike(Tensor p) => Tensor.Zeros(p.ShapeRef, p.Device);
}

/// <summary>What an optimizer carries between steps: its kind, named buffers and scalars.</summary>
/// <param name="Kind">The optimizer's type name (a state loads only into the same kind).</param>
/// <param name="Buffers">Tensors named <c>{buffer}.{parameter index}</c>.</param>
/// <param name="Scalars">Numbers such as <c>lr</c> and <c>step.{index}</c>.</param>
public sealed record OptimizerState(string Kind, Dictionary<string, Tensor> Buffers, Dictionary<string, double> Scalars);
