namespace TinyGrad.Tests.Backends;

using TinyGrad.Backends;
using TinyGrad.Backends.Cpu;

/// <summary>
/// A third backend made of the core alone: its own <see cref="Storage"/> and the 18 members of <see cref="IBackend"/>
/// (here borrowed from the CPU's core, unwrapping each storage), and no kernel family. Everything fused it runs
/// through the families' references. It shows that a new device needs only the core, and it runs the suites that
/// hold the CPU's fused kernels to those references from the other side.
/// </summary>
public sealed class CoreOnlyBackend : IBackend
{
    private static readonly IBackend Cpu = CpuBackend.Instance;

    /// <summary>The one instance.</summary>
    public static CoreOnlyBackend Instance { get; } = new();

    /// <summary>The device, registered as "core-only".</summary>
    public static Device Device { get; } = TinyGrad.Backends.Device.Register("core-only", () => Instance);

    private sealed class CoreStorage(Storage inner) : Storage
    {
        public Storage Inner { get; } = inner;

        public override int Length => Inner.Length;

        public override IBackend Backend => Instance;
    }

    private static Storage In(Storage s) => s is CoreStorage c ? c.Inner : throw new ArgumentException($"core-only backend: a storage from '{s.Backend.Device}'");

    Device IBackend.Device => Device;

    /// <inheritdoc/>
    public bool IsHost => false; // behave like a device: the ops must not read scalars back

    /// <inheritdoc/>
    public Storage Allocate(int length) => new CoreStorage(Cpu.Allocate(length));

    /// <inheritdoc/>
    public Storage AllocateUninitialized(int length) => new CoreStorage(Cpu.AllocateUninitialized(length));

    /// <inheritdoc/>
    public Storage FromHost(ReadOnlySpan<float> data) => new CoreStorage(Cpu.FromHost(data));

    /// <inheritdoc/>
    public void ToHost(Storage src, Span<float> dst) => Cpu.ToHost(In(src), dst);

    /// <inheritdoc/>
    public void Fill(Storage dst, float value) => Cpu.Fill(In(dst), value);

    /// <inheritdoc/>
    public void CopyBlocks(Storage src, int srcOffset, int srcStride, Storage dst, int dstOffset, int dstStride, int blockLength, int blocks, bool accumulate = false) =>
        Cpu.CopyBlocks(In(src), srcOffset, srcStride, In(dst), dstOffset, dstStride, blockLength, blocks, accumulate);

    /// <inheritdoc/>
    public void Unary(UnaryOp op, Storage x, Storage y, int n, float s = 0f) => Cpu.Unary(op, In(x), In(y), n, s);

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Storage a, int[] aStrides, Storage b, int[] bStrides, Storage y, int[] shape) =>
        Cpu.Binary(op, In(a), aStrides, In(b), bStrides, In(y), shape);

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Storage x, Storage y, int outer, int axis, int inner) => Cpu.Reduce(op, In(x), In(y), outer, axis, inner);

    /// <inheritdoc/>
    public void MaxBackward(Storage x, Storage y, Storage gy, Storage gx, int outer, int axis, int inner) =>
        Cpu.MaxBackward(In(x), In(y), In(gy), In(gx), outer, axis, inner);

    /// <inheritdoc/>
    public void Permute(Storage x, int[] shape, int[] perm, Storage y) => Cpu.Permute(In(x), shape, perm, In(y));

    /// <inheritdoc/>
    public void Gemm(float alpha, MatrixView a, MatrixView b, float beta, MatrixView c, int batchCount = 1) =>
        Cpu.Gemm(alpha, a with { Storage = In(a.Storage) }, b with { Storage = In(b.Storage) }, beta, c with { Storage = In(c.Storage) }, batchCount);

    /// <inheritdoc/>
    public void IndexSelectRows(Storage table, int rowLength, int[] indices, Storage y) => Cpu.IndexSelectRows(In(table), rowLength, indices, In(y));

    /// <inheritdoc/>
    public void IndexAddRows(Storage gy, int rowLength, int[] indices, Storage gTable) => Cpu.IndexAddRows(In(gy), rowLength, indices, In(gTable));

    /// <inheritdoc/>
    public void GatherColumns(Storage x, int rows, int cols, int[] indices, Storage y) => Cpu.GatherColumns(In(x), rows, cols, indices, In(y));

    /// <inheritdoc/>
    public void ScatterAddColumns(Storage gy, int rows, int cols, int[] indices, Storage gx) => Cpu.ScatterAddColumns(In(gy), rows, cols, indices, In(gx));
}
