namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cuda;

// The caching allocator's bookkeeping with a fake device (pointers are counters), so no GPU is needed.
public class AllocatorTests
{
    [Theory]
    [InlineData(0, 512)]
    [InlineData(1, 512)]
    [InlineData(512, 512)]
    [InlineData(513, 1024)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((1 << 20) + 1, 2 << 20)]
    [InlineData(28_000_000, 29_360_128)] // 2^24·1.75 = 28 MiB: a 700 × 10,000 logits matrix
    [InlineData(1L << 30, 1L << 30)]
    [InlineData((1L << 30) + 1, (1L << 30) + (1L << 28))]
    public void Sizes_round_up_to_their_class(long bytes, long expected) => Assert.Equal(expected, AllocationBuckets.RoundUp(bytes));

    [Fact]
    public void Rounding_wastes_at_most_a_quarter_above_one_MiB_and_is_monotone()
    {
        long previous = 0;
        for (long bytes = 1; bytes < 1L << 34; bytes = bytes * 5 / 4 + 7)
        {
            long size = AllocationBuckets.RoundUp(bytes);
            Assert.True(size >= bytes && size >= previous, $"{bytes} → {size}");
            if (bytes > AllocationBuckets.SmallLimit) Assert.True(size <= bytes + bytes / 4 + AllocationBuckets.LargeGranule, $"{bytes} → {size}");
            previous = size;
        }
    }

    private sealed class FakeDevice
    {
        public ulong Next = 0x1000;
        public long Capacity = long.MaxValue, Used;
        public readonly List<ulong> Freed = [];
        private readonly Dictionary<ulong, long> _sizes = [];

        public ulong? Allocate(long bytes)
        {
            if (Used + bytes > Capacity) return null;
            Used += bytes;
            _sizes[Next] = bytes;
            return Next++;
        }

        public void Free(ulong p)
        {
            Freed.Add(p);
            Used -= _sizes[p];
        }
    }

    [Fact]
    public void A_returned_block_serves_the_next_request_of_its_class()
    {
        var device = new FakeDevice();
        var allocator = new CachingAllocator(device.Allocate, device.Free);
        ulong a = allocator.Rent(1000, out long size);
        Assert.Equal(1024, size);
        allocator.Return(a, size);
        Assert.Equal(a, allocator.Rent(600, out _)); // 600 rounds to 1024 too
        Assert.NotEqual(a, allocator.Rent(100, out _)); // another class: a fresh block
        Assert.Equal(0x1002UL, device.Next);
    }

    [Fact]
    public void Blocks_returned_from_another_thread_are_reused_after_the_queue_drains()
    {
        var device = new FakeDevice();
        var allocator = new CachingAllocator(device.Allocate, device.Free);
        ulong a = allocator.Rent(4096, out long size);
        // A finalizer runs on its own thread; Return only enqueues.
        var t = new Thread(() => allocator.Return(a, size));
        t.Start();
        t.Join();
        Assert.Equal(size, allocator.BytesCached);
        Assert.Equal(0, allocator.BytesInUse);
        Assert.Equal(a, allocator.Rent(4096, out _));
        Assert.Equal(size, allocator.BytesInUse);
    }

    [Fact]
    public void When_the_device_is_full_the_cache_is_released_and_the_request_retried()
    {
        var device = new FakeDevice { Capacity = 4096 };
        var allocator = new CachingAllocator(device.Allocate, device.Free);
        ulong a = allocator.Rent(2048, out long sa);
        ulong b = allocator.Rent(2048, out long sb);
        allocator.Return(a, sa);
        allocator.Return(b, sb);
        // 4096 fits no cached class (2048): the cached blocks go back to the device, then the allocation succeeds.
        allocator.Rent(4096, out _);
        Assert.Equal([b, a], device.Freed);
        Assert.Throws<OutOfMemoryException>(() => allocator.Rent(4096, out _));
    }

    [Fact]
    public void The_stream_is_synchronised_once_before_blocks_go_back_to_the_driver()
    {
        var device = new FakeDevice();
        var log = new List<string>();
        var allocator = new CachingAllocator(device.Allocate, p => { log.Add($"free {p:x}"); device.Free(p); }, () => log.Add("sync"));
        ulong a = allocator.Rent(1000, out long sa), b = allocator.Rent(5000, out long sb);
        allocator.Return(a, sa);
        allocator.Return(b, sb);
        allocator.Rent(1000, out _); // reuse is ordered by the stream: no wait
        Assert.Empty(log);
        allocator.ReleaseCached();
        Assert.Equal(["sync", $"free {b:x}"], log);
        allocator.ReleaseCached(); // nothing cached: nothing to wait for
        Assert.Equal(2, log.Count);
    }

    [Fact]
    public void A_full_device_synchronises_before_releasing_the_cache()
    {
        var device = new FakeDevice { Capacity = 6144 };
        var log = new List<string>();
        var allocator = new CachingAllocator(device.Allocate, p => { log.Add("free"); device.Free(p); }, () => log.Add("sync"));
        ulong a = allocator.Rent(2048, out long sa);
        allocator.Rent(2048, out _);
        allocator.Return(a, sa);
        allocator.Rent(4096, out _); // fits only once the cached 2048 block is back with the driver
        Assert.Equal(["sync", "free"], log);
    }
}
