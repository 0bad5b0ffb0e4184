namespace TinyGrad.Backends.Cuda;

/// <summary>
/// One kernel argument as cuLaunchKernel wants it: the bytes of an int, float, long or device pointer, kept in an
/// 8-byte slot (a 4-byte value sits in the low half, which is where the kernel reads it on a little-endian host).
/// Implicit conversions let a launch list its arguments plainly, with no boxing.
/// </summary>
internal readonly struct KernelArg
{
    private KernelArg(ulong bits) => Bits = bits;

    /// <summary>The slot's bytes.</summary>
    public ulong Bits { get; }

    public static implicit operator KernelArg(int value) => new((uint)value);

    public static implicit operator KernelArg(float value) => new(BitConverter.SingleToUInt32Bits(value));

    public static implicit operator KernelArg(long value) => new((ulong)value);

    /// <summary>A device pointer (CUdeviceptr).</summary>
    public static implicit operator KernelArg(ulong pointer) => new(pointer);

    public static implicit operator KernelArg(bool value) => new(value ? 1u : 0u);
}
