using System.Collections.Concurrent;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// A caching device allocator: blocks are rounded to size classes (<see cref="AllocationBuckets"/>) and a freed
/// block waits on its class's free list for the next request, so a training loop that asks for the same sizes
/// every step stops calling cuMemAlloc (slow, and synchronising) after the first step.
/// </summary>
/// <remarks>
/// <para>Freeing is split in two for the garbage collector. A storage's finalizer runs on the GC's finalizer
/// thread, where no CUDA context is current and calling the driver could crash or deadlock; so
/// <see cref="Return"/> only enqueues the block (lock-free, no CUDA call), and the next <see cref="Rent"/>, on a
/// thread that holds the context, drains the queue into the free lists.</para>
/// <para>Reusing a block at once is safe because all work goes to one stream: any kernel that still reads the old
/// owner's data was queued before any kernel of the new owner.</para>
/// <para>When the device is full, Rent collects garbage (finalizers return blocks), retries from the free lists,
/// then releases every cached block to the driver and retries once more before giving up.</para>
/// <para>Reuse is ordered by the stream; a real free is not. Before blocks go back to the driver (when the cache is
/// released, on request or because the device is full) the stream is synchronised once, so no kernel still queued
/// can touch memory the driver may hand to someone else (cuMemFree itself makes no promise for a non-blocking
/// stream's pending work).</para>
/// The raw allocate, free and synchronise are injected, so the bookkeeping is unit-tested without a GPU.
/// </remarks>
/// <param name="allocate">The raw allocation: a device pointer, or null when the device is full.</param>
/// <param name="free">The raw free.</param>
/// <param name="synchronize">Waits for all work queued on the stream; called before any raw free (none: nothing to wait for).</param>
internal sealed class CachingAllocator(Func<long, ulong?> allocate, Action<ulong> free, Action? synchronize = null)
{
    private readonly object _lock = new();
    private readonly Dictionary<long, Stack<ulong>> _free = [];
    private readonly ConcurrentQueue<(ulong Pointer, long Size)> _returned = new();
    private long _cachedBytes, _inUseBytes;

    /// <summary>Bytes handed out and not yet returned.</summary>
    public long BytesInUse => Interlocked.Read(ref _inUseBytes);

    /// <summary>Bytes held on free lists (drained returns included).</summary>
    public long BytesCached
    {
        get
        {
            lock (_lock)
            {
                Drain();
                return _cachedBytes;
            }
        }
    }

    /// <summary>A block of at least <paramref name="bytes"/>; <paramref name="size"/> is its class, to pass back to <see cref="Return"/>.</summary>
    /// <exception cref="OutOfMemoryException">The device has no room even after the cache was released.</exception>
    public ulong Rent(long bytes, out long size)
    {
        size = AllocationBuckets.RoundUp(bytes);
        lock (_lock)
        {
            Drain();
            if (TryPop(size, out var pointer)) return Handed(pointer, size);
            if (allocate(size) is ulong fresh) return Handed(fresh, size);
        }
        // Full: let unreachable storages come back first (outside the lock: finalizers call Return, which never locks).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        lock (_lock)
        {
            Drain();
            if (TryPop(size, out var pointer)) return Handed(pointer, size);
            ReleaseCachedLocked();
            if (allocate(size) is ulong fresh) return Handed(fresh, size);
        }
        throw new OutOfMemoryException($"cuda: out of device memory allocating {bytes:N0} bytes ({BytesInUse:N0} bytes in use by live tensors)");
    }

    /// <summary>Gives a block back. Safe on any thread, including the finalizer thread: it only enqueues.</summary>
    public void Return(ulong pointer, long size)
    {
        Interlocked.Add(ref _inUseBytes, -size);
        _returned.Enqueue((pointer, size));
    }

    /// <summary>Frees every cached block to the driver (call with the context current).</summary>
    public void ReleaseCached()
    {
        lock (_lock)
        {
            Drain();
            ReleaseCachedLocked();
        }
    }

    private ulong Handed(ulong pointer, long size)
    {
        Interlocked.Add(ref _inUseBytes, size);
        return pointer;
    }

    private bool TryPop(long size, out ulong pointer)
    {
        pointer = 0;
        if (!_free.TryGetValue(size, out var stack) || stack.Count == 0) return false;
        pointer = stack.Pop();
        _cachedBytes -= size;
        return true;
    }

    private void Drain()
    {
        while (_returned.TryDequeue(out var block))
        {
            if (!_free.TryGetValue(block.Size, out var stack)) _free[block.Size] = stack = new Stack<ulong>();
            stack.Push(block.Pointer);
            _cachedBytes += block.Size;
        }
    }

    private void ReleaseCachedLocked()
    {
        if (_cachedBytes == 0) return; // nothing to free, so nothing to wait for
        synchronize?.Invoke();
        foreach (var stack in _free.Values)
            while (stack.Count > 0) free(stack.Pop());
        _cachedBytes = 0;
    }
}
