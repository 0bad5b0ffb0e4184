namespace TinyGrad.Tests.Backends;

using TinyGrad.Backends;

/// <summary>The kernel tests' inputs and readbacks: seeded uniform arrays, and a storage read back to the host.</summary>
internal static class HostArrays
{
    /// <summary><paramref name="n"/> values uniform in ±<paramref name="scale"/>, from <paramref name="seed"/>.</summary>
    public static float[] Random(int n, float scale, int seed)
    {
        var rnd = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(rnd.NextDouble() * 2 - 1) * scale)];
    }

    /// <summary>The first <paramref name="n"/> elements of <paramref name="s"/>.</summary>
    public static float[] Read(IBackend be, Storage s, int n)
    {
        var a = new float[n];
        be.ToHost(s, a);
        return a;
    }
}
