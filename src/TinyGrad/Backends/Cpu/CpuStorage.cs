namespace TinyGrad.Backends.Cpu;

/// <summary>A CPU buffer: a managed float array. Only the CPU backend reads <see cref="Data"/>.</summary>
public sealed class CpuStorage : Storage
{
    internal CpuStorage(float[] data) => Data = data;

    /// <summary>The elements.</summary>
    internal float[] Data { get; }

    /// <inheritdoc/>
    public override int Length => Data.Length;

    /// <inheritdoc/>
    public override IBackend Backend => CpuBackend.Instance;
}
