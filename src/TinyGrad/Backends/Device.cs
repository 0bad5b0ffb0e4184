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

    // Every device by name: the built-in two, then any a program registers (a third backend plugs in here, and the
    // command line's --device NAME and the bench reach it without edits).
    private static readonly Dictionary<string, Device> s_registry = new(StringComparer.Ordinal)
    {
        ["cpu"] = Cpu,
        ["cuda"] = Cuda,
    };

    /// <summary>
    /// Registers a device under <paramref name="name"/>, whose backend is created on first use; returns it. A name
    /// already taken is an error (registering the same name twice would make lookups ambiguous).
    /// </summary>
    public static Device Register(string name, Func<IBackend> backend)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(backend);
        lock (s_registry)
        {
            if (s_registry.ContainsKey(name)) throw new ArgumentException($"device '{name}' is already registered", nameof(name));
            var device = new Device(name, backend);
            s_registry[name] = device;
            return device;
        }
    }

    /// <summary>The names of every registered device ("cpu", "cuda", then those added with <see cref="Register"/>).</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (s_registry) return [.. s_registry.Keys];
        }
    }

    /// <summary>The device registered as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No device has that name; the message lists those that do.</exception>
    public static Device Named(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (s_registry)
        {
            return s_registry.TryGetValue(name, out var device)
                ? device
                : throw new ArgumentException($"unknown device '{name}' (registered: {string.Join(", ", s_registry.Keys)})", nameof(name));
        }
    }

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
