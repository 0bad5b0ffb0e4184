namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The size classes of the caching allocator. A freed block goes back to the free list of its class and serves
/// any later request of the same class, so the training loop, which asks for the same sizes every step, stops
/// calling cuMemAlloc after its first step. Pure arithmetic, unit-tested.
/// </summary>
/// <remarks>
/// Small requests (up to 1 MiB) round up to a multiple of 512 bytes (waste under 512 bytes). Larger ones round up
/// to one of four steps per power of two (2ᵖ·{1, 1.25, 1.5, 1.75}), and to at least a multiple of 2 MiB, so at most
/// a quarter of a block is waste while the number of classes stays small.
/// </remarks>
public static class AllocationBuckets
{
    /// <summary>The granularity of small blocks.</summary>
    public const long SmallGranule = 512;

    /// <summary>The largest request treated as small.</summary>
    public const long SmallLimit = 1L << 20;

    /// <summary>The granularity floor of large blocks.</summary>
    public const long LargeGranule = 2L << 20;

    /// <summary>The block size that serves a request of <paramref name="bytes"/> (at least <see cref="SmallGranule"/>).</summary>
    public static long RoundUp(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes <= SmallLimit) return Math.Max(SmallGranule, RoundTo(bytes, SmallGranule));
        int power = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)bytes); // 2^power ≤ bytes
        long step = Math.Max(LargeGranule, 1L << (power - 2));
        return RoundTo(bytes, step);
    }

    private static long RoundTo(long value, long granule) => (value + granule - 1) / granule * granule;
}
