using TinyGrad.NN;

namespace TinyGrad.Inspection;

/// <summary>
/// Masking (ablating) units without editing weights: a unit is one index of a layer output's last axis (one
/// hidden unit of an LSTM layer, one feature of a Linear output). <see cref="Ablate"/> puts a forward hook on a
/// module that zeroes the chosen units of its output; removing the hook restores the model exactly.
/// </summary>
/// <example><code>
/// using (UnitMask.Ablate(model.Rnns[0], 17))          // unit 17 of layer 0 is silenced for the next layers
///     ablatedLoss = model.TrainingLoss(...).Nll.Item();
/// </code></example>
public static class UnitMask
{
    /// <summary>
    /// <paramref name="x"/> with <paramref name="units"/> of its last axis set to 0: x ⊙ m, where m is 1 except
    /// 0 at those units (broadcast over the other axes). Multiplying by 1 is exact, so every other element keeps its
    /// bits, and the gradient reaching the masked units' inputs is exactly 0. Differentiable.
    /// </summary>
    public static Tensor Zero(Tensor x, params int[] units)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(units);
        if (x.Rank == 0) throw new ArgumentException("unit_mask: a scalar has no units");
        int n = x.Size(-1);
        var mask = new float[n];
        Array.Fill(mask, 1f);
        foreach (int u in units)
        {
            if ((uint)u >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(units), $"unit_mask: unit {u} is out of range [0, {n}) for an output of shape {Shapes.Format(x.ShapeRef)}");
            mask[u] = 0f;
        }
        return x * Tensor.FromArray(mask, [n], x.Device);
    }

    /// <summary>
    /// Zeroes <paramref name="units"/> of <paramref name="module"/>'s output on every forward pass from now on, by a
    /// forward hook (<see cref="Module.RegisterForwardHook"/>; which output each module passes is listed there).
    /// On an <see cref="LSTM"/> that is the layer's output as the next layer and the head see it; the layer's own
    /// recurrence still uses the unit (hook an <see cref="LSTMCell"/> to remove it from the recurrence too).
    /// </summary>
    /// <returns>The hook's handle: Remove() or Dispose() it to restore the original outputs.</returns>
    public static RemovableHandle Ablate(Module module, params int[] units)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(units);
        var chosen = (int[])units.Clone(); // later edits to the caller's array do not change the hook
        return module.RegisterForwardHook((_, output) => Zero(output, chosen));
    }
}
