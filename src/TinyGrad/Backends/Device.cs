namespace TinyGrad.Backends;

/// <summary>
/// Where a tensor's data lives. Each device has exactly one backend that allocates
/// storages and runs kernels on them.
/// </summary>
public sealed class Device : IEquatable<Device>
{
    private readonly Func<IBackend> _backend;
    private IBackend? _instance;

    private Device(string name, Func<IBackend> backend)
    {
        Name = name;
        _backend = backend;
    }

    /// <summary>The CPU: managed float arrays and SIMD kernels.</summary>
    public static Device Cpu { get; } = new("cpu", () => TinyGrad.Backends.Cpu.CpuBackend.Instance);

    /// <summary>Registers a device whose backend is created on first use (how a CUDA backend plugs in).</summary>
    public static Device Register(string name, Func<IBackend> backend) => new(name, backend);

    /// <summary>The device's name, as PyTorch spells it ("cpu", "cuda").</summary>
    public string Name { get; }

    /// <summary>The backend that serves this device, created lazily.</summary>
    public IBackend Backend => _instance ??= _backend();

    /// <inheritdoc/>
    public bool Equals(Device? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    /// <inheritdoc/>
    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
