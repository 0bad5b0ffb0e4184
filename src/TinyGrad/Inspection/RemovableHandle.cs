namespace TinyGrad.Inspection;

/// <summary>
/// What registering a hook returns (PyTorch's <c>torch.utils.hooks.RemovableHandle</c>): call <see cref="Remove"/>,
/// or dispose it (<c>using var _ = module.RegisterForwardHook(...)</c>), to take the hook off again. Removing twice
/// does nothing.
/// </summary>
public sealed class RemovableHandle : IDisposable
{
    private Action? _remove;

    internal RemovableHandle(Action remove) => _remove = remove;

    /// <summary>True once the hook has been removed.</summary>
    public bool IsRemoved => _remove is null;

    /// <summary>Takes the hook off; the next forward (or backward) pass runs without it.</summary>
    public void Remove() => Interlocked.Exchange(ref _remove, null)?.Invoke();

    /// <summary>Same as <see cref="Remove"/>.</summary>
    public void Dispose() => Remove();
}

/// <summary>
/// A copy-on-write list of hooks. Firing reads the array without copying or allocating, and a hook may remove
/// itself (or add another) while the array it was read from is being walked: the change applies from the next pass.
/// Each registration is its own entry, so one delegate registered twice fires twice and each handle removes one.
/// </summary>
internal static class HookList
{
    /// <summary>One registration (its identity is what a handle removes).</summary>
    internal sealed class Entry<T>(T hook)
    {
        public T Hook { get; } = hook;
    }

    public static Entry<T>[] Add<T>(Entry<T>[]? hooks, Entry<T> entry) => hooks is null ? [entry] : [.. hooks, entry];

    /// <summary>The list without <paramref name="entry"/>; null when nothing is left, so "no hooks" stays one null check.</summary>
    public static Entry<T>[]? Remove<T>(Entry<T>[]? hooks, Entry<T> entry)
    {
        if (hooks is null) return null;
        var rest = hooks.Where(h => !ReferenceEquals(h, entry)).ToArray();
        return rest.Length == 0 ? null : rest;
    }
}
