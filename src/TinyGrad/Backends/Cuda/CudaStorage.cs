namespace TinyGrad.Backends.Cuda;

/// <summary>
/// A buffer in GPU memory, from the backend's caching allocator. Only the CUDA backend reads <see cref="Pointer"/>.
/// The block goes back to the allocator when the storage is disposed or, failing that, finalized; tensors share
/// storages (a reshape is a view), so dispose one only when no tensor uses it any more.
/// </summary>
public sealed class CudaStorage : Storage, IDisposable
{
    private readonly CudaBackend _backend;
    private readonly long _blockSize;
    private int _released;

    internal CudaStorage(CudaBackend backend, ulong pointer, long blockSize, int length)
    {
        _backend = backend;
        Pointer = pointer;
        _blockSize = blockSize;
        Length = length;
        GC.AddMemoryPressure(blockSize); // the GC cannot see device memory; this makes it collect dead tensors sooner
    }

    /// <summary>Releases the block if <see cref="Dispose"/> was never called (on the finalizer thread: only enqueues).</summary>
    ~CudaStorage() => Release();

    /// <summary>The device address of element 0.</summary>
    internal ulong Pointer { get; }

    /// <inheritdoc/>
    public override int Length { get; }

    /// <inheritdoc/>
    public override IBackend Backend => _backend;

    /// <summary>Returns the block to the allocator now. The storage must not be used afterwards.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        _backend.Allocator.Return(Pointer, _blockSize);
        GC.RemoveMemoryPressure(_blockSize);
    }
}
