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

    /// <summary>
    /// An NVIDIA GPU through CUDA (cuBLAS and runtime-compiled kernels). Naming it loads nothing: the native
    /// libraries are found and loaded the first time its <see cref="Backend"/> is used, which throws a
    /// <see cref="Cuda.CudaUnavailableException"/> listing what was searched when there is no usable GPU.
    /// Check <see cref="Cuda.CudaBackend.IsAvailable"/> first to choose a device without an exception.
    /// </summary>
    public static Device Cuda { get; } = new("cuda", () => TinyGrad.Backends.Cuda.CudaBackend.Instance);

    // The ambient default device (PyTorch's torch.set_default_device), per async flow so that parallel
    // tests or requests each keep their own.
    private static readonly AsyncLocal<Device?> s_default = new();

    /// <summary>
    /// Where creation functions (<see cref="Tensor.Zeros(int[])"/>, <see cref="Tensor.FromArray(float[], int[])"/>,
    /// layer initialisation, …) put tensors when no device is named: <see cref="Cpu"/> unless a
    /// <see cref="UseDefault"/> scope says otherwise.
    /// </summary>
    public static Device Default => s_default.Value ?? Cpu;

    /// <summary>
    /// Makes <paramref name="device"/> the default for the current async flow until the returned scope is
    /// disposed (then the previous default comes back): <c>using var _ = Device.UseDefault(Device.Cuda);</c>.
    /// </summary>
    public static IDisposable UseDefault(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var previous = s_default.Value;
        s_default.Value = device;
        return new DefaultScope(previous);
    }

    private sealed class DefaultScope(Device? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            s_default.Value = previous;
        }
    }

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
