using TinyGrad.Inspection;

namespace TinyGrad;

// Gradient hooks and retained gradients: PyTorch's tensor.register_hook and tensor.retain_grad. The tape calls
// these from Autograd.Backward; see there for when each fires.
public sealed partial class Tensor
{
    private HookList.Entry<Func<Tensor, Tensor?>>[]? _gradHooks;

    /// <summary>
    /// Registers <paramref name="hook"/> to be called with this tensor's gradient during <see cref="Backward"/>
    /// (PyTorch's <c>register_hook</c>). It may return a replacement gradient of the same shape, which is then
    /// used in its place; null keeps the gradient. Hooks run in registration order, each seeing the previous one's result.
    /// </summary>
    /// <remarks>
    /// <para>An intermediate tensor's hooks run once per backward pass, with its complete gradient (every use of it
    /// has been replayed), just before that gradient flows on into the op that made it: a replacement changes
    /// every gradient upstream.</para>
    /// <para>A leaf's hooks run once per backward pass, after the replay, with the gradient of that pass summed over
    /// all its uses, before it is added into <see cref="Grad"/> (so the hook sees this pass's gradient, not the
    /// accumulated one, as in PyTorch).</para>
    /// <para>The hook runs with gradients off: whatever it computes is not recorded.</para>
    /// </remarks>
    /// <returns>A handle whose <see cref="RemovableHandle.Remove"/> takes the hook off.</returns>
    public RemovableHandle RegisterHook(Func<Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!RequiresGrad)
            throw new InvalidOperationException($"register_hook: tensor{NameSuffix()} of shape {Shapes.Format(_shape)} does not require a gradient, so no gradient would ever reach the hook");
        var entry = new HookList.Entry<Func<Tensor, Tensor?>>(hook);
        _gradHooks = HookList.Add(_gradHooks, entry);
        return new RemovableHandle(() => _gradHooks = HookList.Remove(_gradHooks, entry));
    }

    /// <summary>
    /// Keeps this intermediate tensor's gradient in <see cref="Grad"/> after <see cref="Backward"/> (PyTorch's
    /// <c>retain_grad</c>); without it the tape frees an intermediate's gradient as soon as it has been used.
    /// The kept gradient is the one that flowed on (after any <see cref="RegisterHook"/> replacement). On a leaf
    /// this does nothing: leaves keep their gradient anyway. Returns this tensor.
    /// </summary>
    public Tensor RetainGrad()
    {
        if (!RequiresGrad)
            throw new InvalidOperationException($"retain_grad: tensor{NameSuffix()} of shape {Shapes.Format(_shape)} does not require a gradient");
        if (!IsLeaf) RetainsGrad = true;
        return this;
    }

    /// <summary>True for an intermediate tensor whose gradient <see cref="RetainGrad"/> asked to keep (PyTorch's <c>retains_grad</c>).</summary>
    public bool RetainsGrad { get; private set; }

    internal bool HasGradHooks => _gradHooks is not null;

    /// <summary>Runs the gradient hooks over <paramref name="g"/>; returns the gradient to use (g itself when none replaced it).</summary>
    internal Tensor RunGradHooks(Tensor g)
    {
        var hooks = _gradHooks;
        if (hooks is null) return g;
        using var _ = Autograd.NoGrad();
        foreach (var entry in hooks)
        {
            if (entry.Hook(g) is not Tensor replaced) continue;
            if (!Shapes.Equal(replaced._shape, _shape) || replaced.Device != Device)
                throw new InvalidOperationException(
                    $"register_hook: a hook on tensor{NameSuffix()} of shape {Shapes.Format(_shape)} on {Device} returned a gradient of shape {Shapes.Format(replaced._shape)} on {replaced.Device}");
            g = replaced;
        }
        return g;
    }

    private string NameSuffix() => Name is null ? "" : $" '{Name}'";
}
