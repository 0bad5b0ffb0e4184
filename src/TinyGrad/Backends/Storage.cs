namespace TinyGrad.Backends;

/// <summary>
/// A flat buffer of float32 values owned by a backend. Tensors are views of a storage
/// with a shape; several tensors may share one storage (a reshape is free).
/// </summary>
public abstract class Storage
{
    /// <summary>Number of float32 elements in the buffer.</summary>
    public abstract int Length { get; }

    /// <summary>The backend that owns this buffer and runs kernels on it.</summary>
    public abstract IBackend Backend { get; }
}
