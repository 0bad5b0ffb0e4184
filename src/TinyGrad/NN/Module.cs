using TinyGrad.Inspection;

namespace TinyGrad.NN;

/// <summary>
/// The base of every layer, shaped like PyTorch's nn.Module: named parameters and submodules registered
/// in order, a train/eval mode, and a state dict whose dotted names match PyTorch's
/// (<c>rnns.0.weight_ih_l0</c>), so checkpoints move between the two.
/// </summary>
/// <remarks>
/// Forward hooks (<see cref="RegisterForwardHook"/>) fire after these forward methods, with this output:
/// <list type="bullet">
/// <item><see cref="Linear.Forward"/>: y [..., out].</item>
/// <item><see cref="Embedding.Forward"/>: the looked-up vectors [..shape, dim] (after embedding dropout).</item>
/// <item><see cref="LSTM.Forward"/>: the last layer's output [T, B, H] (the returned state is not passed, and a
/// replacement changes what the next layer sees, not the state carried to the next window).</item>
/// <item><see cref="LSTMCell.Forward"/>: the new hidden state h [B, H] (the cell state c is not passed).</item>
/// <item><see cref="Dropout.Forward"/>, <see cref="LockedDropout.Forward"/>: the (dropped) output.</item>
/// <item>An output head's <see cref="Heads.OutputHead.LogProbs"/> and <see cref="Heads.OutputHead.LogProbsComposed"/>:
/// the log-probabilities [N, V]. The fused loss <see cref="Heads.OutputHead.Nll"/> builds no such matrix and fires
/// nothing itself, and the fused paths do not call their decoder's Forward (they read its weights), so a hook on
/// <c>decoder</c> fires only in LogProbsComposed; the mixtures' <c>prior</c> and <c>latent</c> fire on every path.</item>
/// <item><see cref="Models.WordLM"/> fires no hooks of its own: its <c>encoder</c> and each <c>rnns.{l}</c> fire theirs
/// inside <see cref="Models.WordLM.Forward"/>, the head's on LogProbs.</item>
/// </list>
/// </remarks>
public abstract class Module
{
    private readonly List<ParameterSlot> _parameters = [];
    private readonly List<KeyValuePair<string, Module>> _modules = [];
    private HookList.Entry<Func<Module, Tensor, Tensor?>>[]? _forwardHooks; // null when none: the forward path's only cost

    /// <summary>
    /// Registers <paramref name="hook"/> to run after this module's forward pass (PyTorch's
    /// <c>register_forward_hook</c>), called as <c>hook(module, output)</c>. Returning a tensor of the same shape
    /// replaces the output, which is how units are masked or ablated without editing weights
    /// (<see cref="UnitMask.Ablate"/>); returning null leaves it. Hooks run in registration order, each seeing the
    /// output as the previous one left it. Which modules fire and with which output: see the remarks on <see cref="Module"/>.
    /// </summary>
    /// <returns>A handle whose <see cref="RemovableHandle.Remove"/> (or Dispose) takes the hook off.</returns>
    public RemovableHandle RegisterForwardHook(Func<Module, Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        var entry = new HookList.Entry<Func<Module, Tensor, Tensor?>>(hook);
        _forwardHooks = HookList.Add(_forwardHooks, entry);
        return new RemovableHandle(() => _forwardHooks = HookList.Remove(_forwardHooks, entry));
    }

    /// <summary>True while at least one forward hook is registered on this module.</summary>
    public bool HasForwardHooks => _forwardHooks is not null;

    /// <summary>
    /// Runs the forward hooks over <paramref name="output"/> and returns what the forward method should return: the
    /// output itself when there are none (one null check, no allocation), or the last replacement. Layers call it on
    /// their output just before returning.
    /// </summary>
    protected Tensor RunForwardHooks(Tensor output)
    {
        var hooks = _forwardHooks;
        if (hooks is null) return output;
        ArgumentNullException.ThrowIfNull(output);
        foreach (var entry in hooks)
        {
            if (entry.Hook(this, output) is not Tensor replaced) continue;
            // Layers after this one (and the state this one returns) were shaped for the original output.
            if (!Shapes.Equal(replaced.ShapeRef, output.ShapeRef))
                throw new InvalidOperationException(
                    $"{GetType().Name}: a forward hook returned shape {Shapes.Format(replaced.ShapeRef)} for an output of shape {Shapes.Format(output.ShapeRef)}; a replacement must keep the shape");
            output = replaced;
        }
        return output;
    }

    /// <summary>True in training mode (dropout active), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>
    /// Registers a parameter under <paramref name="name"/>; it becomes a leaf that requires a gradient. Keep the
    /// returned slot in a typed field and read <see cref="ParameterSlot.Value"/> in the forward pass.
    /// </summary>
    protected ParameterSlot RegisterParameter(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (_parameters.Any(p => p.Name == name) || _modules.Any(m => m.Key == name))
            throw new ArgumentException($"{GetType().Name}: the name '{name}' is already taken");
        var slot = new ParameterSlot(name, AsParameter(name, value));
        _parameters.Add(slot);
        return slot;
    }

    /// <summary>
    /// Puts another tensor of the same shape into <paramref name="slot"/> (weight tying shares one tensor between
    /// modules: the embedding's weight becomes the decoder's).
    /// </summary>
    protected void ReplaceParameter(ParameterSlot slot, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(slot);
        ArgumentNullException.ThrowIfNull(value);
        if (!_parameters.Contains(slot)) throw new ArgumentException($"{GetType().Name}: '{slot.Name}' is not this module's parameter");
        if (!Shapes.Equal(slot.Value.ShapeRef, value.ShapeRef))
            throw new ArgumentException($"{GetType().Name}: parameter '{slot.Name}' has shape {Shapes.Format(slot.Value.ShapeRef)}, cannot share one of shape {Shapes.Format(value.ShapeRef)}");
        slot.Value = AsParameter(slot.Name, value);
    }

    private Tensor AsParameter(string name, Tensor value)
    {
        if (!value.IsLeaf)
            throw new ArgumentException($"{GetType().Name}: parameter '{name}' must be a leaf tensor (Detach() it first)");
        value.RequiresGrad = true;
        value.Name ??= name;
        return value;
    }

    /// <summary>Registers a submodule under <paramref name="name"/> (its parameters appear as <c>name.param</c>).</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (_parameters.Any(p => p.Name == name) || _modules.Any(m => m.Key == name))
            throw new ArgumentException($"{GetType().Name}: the name '{name}' is already taken");
        _modules.Add(new(name, module));
        return module;
    }

    /// <summary>Direct submodules in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren() => _modules;

    /// <summary>
    /// Every parameter with its dotted name, each tensor once (a tied weight is listed under its first
    /// name, like PyTorch's named_parameters).
    /// </summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var entry in AllParameters(""))
            if (seen.Add(entry.Value)) yield return entry;
    }

    /// <summary>Every parameter, each tensor once: what an optimizer takes.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>The number of trainable scalars (a tied weight counted once).</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Numel);

    private IEnumerable<KeyValuePair<string, Tensor>> AllParameters(string prefix)
    {
        foreach (var p in _parameters) yield return new(prefix + p.Name, p.Value);
        foreach (var m in _modules)
            foreach (var p in m.Value.AllParameters(prefix + m.Key + ".")) yield return p;
    }

    /// <summary>Sets training mode here and in every submodule; returns this module.</summary>
    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var m in _modules) m.Value.Train(mode);
        return this;
    }

    /// <summary>Sets evaluation mode (dropout off) here and in every submodule; returns this module.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Moves every parameter to <paramref name="device"/> (PyTorch's module.to): each parameter slot here and in every
    /// submodule gets a copy on the device, so optimizers created afterwards see device tensors. A tensor registered in
    /// several places (a tied weight) is copied once and stays shared. Moved parameters start without a gradient (one already on the device keeps its tensor and gradient); tensors elsewhere that
    /// still reference the old parameters (an optimizer made before) keep the old copies. Returns this module.
    /// </summary>
    public Module To(Backends.Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var _ = Autograd.NoGrad();
        MoveParameters(device, new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance));
        return this;
    }

    private void MoveParameters(Backends.Device device, Dictionary<Tensor, Tensor> moved)
    {
        foreach (var slot in _parameters)
        {
            var p = slot.Value;
            if (!moved.TryGetValue(p, out var copy))
            {
                copy = p.Device == device ? p : p.Detach().To(device);
                copy.RequiresGrad = true;
                copy.Name = p.Name;
                moved[p] = copy;
            }
            slot.Value = copy;
        }
        foreach (var m in _modules) m.Value.MoveParameters(device, moved);
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>
    /// Name → tensor for every parameter, with PyTorch's names. A tied weight appears under each of its
    /// names, as in PyTorch. The tensors are the live parameters (detached views), not copies.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>();
        foreach (var p in AllParameters("")) dict[p.Key] = p.Value.Detach();
        return dict;
    }

    /// <summary>
    /// Copies values into the parameters by name. Every problem is collected first: missing names
    /// (strict only), unexpected names (strict only) and shape mismatches (always); if there is any, one
    /// <see cref="StateDictException"/> lists them all and no parameter is changed.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = AllParameters("").ToList();
        var missing = new List<string>();
        var mismatched = new List<string>();
        foreach (var (name, param) in own)
        {
            if (!state.TryGetValue(name, out var value))
            {
                if (strict) missing.Add(name);
            }
            else if (!Shapes.Equal(value.ShapeRef, param.ShapeRef))
            {
                mismatched.Add($"{name}: checkpoint {Shapes.Format(value.ShapeRef)} vs model {Shapes.Format(param.ShapeRef)}");
            }
        }
        var ownNames = own.Select(p => p.Key).ToHashSet();
        var unexpected = strict ? state.Keys.Where(k => !ownNames.Contains(k)).ToList() : [];
        if (missing.Count + mismatched.Count + unexpected.Count > 0)
            throw new StateDictException(GetType().Name, missing, unexpected, mismatched);

        using var _ = Autograd.NoGrad();
        foreach (var (name, param) in own)
        {
            if (!state.TryGetValue(name, out var value)) continue;
            var source = value.Device == param.Device ? value : value.Detach().To(param.Device);
            int n = param.Numel;
            param.Backend.CopyBlocks(source.Storage, 0, n, param.Storage, 0, n, n, 1);
        }
    }
}

/// <summary>A state dict that does not fit a module: every missing, unexpected and wrongly shaped tensor, by name.</summary>
public sealed class StateDictException : Exception
{
    /// <summary>Creates the exception from the three lists of problems.</summary>
    public StateDictException(string module, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
        : base(Describe(module, missing, unexpected, mismatched))
    {
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    /// <summary>Names the module has and the state dict lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Names the state dict has and the module lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>"name: checkpoint [shape] vs model [shape]" for each shape mismatch.</summary>
    public IReadOnlyList<string> Mismatched { get; }

    private static string Describe(string module, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"unexpected: {string.Join(", ", unexpected)}");
        if (mismatched.Count > 0) parts.Add($"wrong shape: {string.Join("; ", mismatched)}");
        return $"load_state_dict into {module}: {string.Join(" | ", parts)}";
    }
}

/// <summary>
/// A module's named place for one parameter. A layer keeps its slots in typed fields and reads <see cref="Value"/>
/// on the forward pass (no lookup by name). Tying a weight or moving the module to a device puts another tensor in
/// the slot, and every reader sees it at once.
/// </summary>
public sealed class ParameterSlot
{
    internal ParameterSlot(string name, Tensor value)
    {
        Name = name;
        Value = value;
    }

    /// <summary>The parameter's name within its module (<c>weight</c>, <c>bias_ih_l0</c>).</summary>
    public string Name { get; }

    /// <summary>The parameter tensor in this slot now.</summary>
    public Tensor Value { get; internal set; }
}
