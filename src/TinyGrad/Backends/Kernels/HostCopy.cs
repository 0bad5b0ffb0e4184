namespace TinyGrad.Backends;

/// <summary>
/// Reads and writes parts of a storage through the core alone (CopyBlocks, ToHost, FromHost), whatever the device:
/// how the reference kernel families see their inputs.
/// </summary>
internal static class HostCopy
{
    /// <summary>Elements [offset, offset + length) of <paramref name="storage"/>.</summary>
    public static float[] Read(IBackend be, Storage storage, int offset, int length)
    {
        var data = new float[length];
        if (length == 0) return data;
        if (offset == 0)
        {
            be.ToHost(storage, data);
            return data;
        }
        var part = be.AllocateUninitialized(length);
        be.CopyBlocks(storage, offset, length, part, 0, length, length, 1);
        be.ToHost(part, data);
        return data;
    }

    /// <summary>Writes <paramref name="data"/> over elements [offset, offset + data.Length) of <paramref name="storage"/>.</summary>
    public static void Write(IBackend be, Storage storage, int offset, ReadOnlySpan<float> data)
    {
        if (data.Length == 0) return;
        be.CopyBlocks(be.FromHost(data), 0, data.Length, storage, offset, data.Length, data.Length, 1);
    }
}
