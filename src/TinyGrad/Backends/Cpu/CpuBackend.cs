using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

/// <summary>
/// The CPU backend: managed arrays, TensorPrimitives for SIMD elementwise math, and our own
/// packed, register-tiled GEMM (<see cref="Gemm"/>). It implements the core and every fused kernel family, one
/// partial file per family (Heads, Lstm, Optim, Clip), each tested against the family's reference.
/// </summary>
public sealed partial class CpuBackend : IBackend, IHeadKernels, ILstmKernels, IOptimizerKernels, IClipKernels
{
    /// <summary>The one CPU backend.</summary>
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    /// <inheritdoc/>
    public Device Device => Device.Cpu;

    /// <inheritdoc/>
    public bool IsHost => true;

    internal static float[] Data(Storage s) => s is CpuStorage c
        ? c.Data
        : throw new ArgumentException($"cpu backend: expected a cpu storage, got one from '{s.Backend.Device}'");

    /// <inheritdoc/>
    public Storage Allocate(int length)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        return new CpuStorage(new float[length]);
    }

    /// <inheritdoc/>
    public Storage AllocateUninitialized(int length)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        // Large arrays skip the runtime's zeroing pass (28 MB for a 700 × 10,000 logits matrix).
        return new CpuStorage(GC.AllocateUninitializedArray<float>(length));
    }

    /// <inheritdoc/>
    public Storage FromHost(ReadOnlySpan<float> data) => new CpuStorage(data.ToArray());

    /// <inheritdoc/>
    public void ToHost(Storage src, Span<float> dst) => Data(src).AsSpan(0, dst.Length).CopyTo(dst);

    /// <inheritdoc/>
    public void Fill(Storage dst, float value)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        Array.Fill(Data(dst), value);
    }

    /// <inheritdoc/>
    public void CopyBlocks(Storage src, int srcOffset, int srcStride, Storage dst, int dstOffset, int dstStride,
        int blockLength, int blocks, bool accumulate = false)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        float[] s = Data(src), d = Data(dst);
        // Many small blocks (the LSTM's per-step slices) run inline; a large copy (a bias broadcast over a
        // mixture chunk's logits) is split over the pool. Blocks never overlap in dst, so any order is the same.
        if ((long)blocks * blockLength >= 2 * ChunkLength && blocks > 1)
        {
            ForRows(blocks, blockLength, i => CopyBlock(s, srcOffset + i * srcStride, d, dstOffset + i * dstStride, blockLength, accumulate));
            return;
        }
        for (int i = 0; i < blocks; i++) CopyBlock(s, srcOffset + i * srcStride, d, dstOffset + i * dstStride, blockLength, accumulate);
    }

    private static void CopyBlock(float[] s, int from, float[] d, int to, int length, bool accumulate)
    {
        var source = s.AsSpan(from, length);
        var target = d.AsSpan(to, length);
        if (accumulate) TensorPrimitives.Add(target, source, target);
        else source.CopyTo(target);
    }

    /// <inheritdoc/>
    public void Permute(Storage x, int[] shape, int[] perm, Storage y)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        float[] src = Data(x), dst = Data(y);
        int rank = shape.Length;
        if (rank == 2 && perm[0] == 1)
        {
            Transpose(src, dst, shape[0], shape[1]);
            return;
        }
        var srcStrides = Shapes.Strides(shape);
        // Output dimension k walks the input with the stride of input axis perm[k].
        var outShape = new int[rank];
        var walk = new int[rank];
        for (int k = 0; k < rank; k++)
        {
            outShape[k] = shape[perm[k]];
            walk[k] = srcStrides[perm[k]];
        }
        if (rank == 0 || dst.Length == 0)
        {
            if (dst.Length > 0) dst[0] = src[0];
            return;
        }
        // Iterate output rows (all but the last output axis); the last axis is a strided gather.
        int last = outShape[rank - 1], lastStride = walk[rank - 1];
        int rows = Shapes.Numel(outShape) / last;
        var index = new int[rank];
        for (int r = 0, o = 0; r < rows; r++)
        {
            int baseOffset = 0;
            for (int k = 0; k < rank - 1; k++) baseOffset += index[k] * walk[k];
            for (int j = 0; j < last; j++) dst[o++] = src[baseOffset + j * lastStride];
            for (int k = rank - 2; k >= 0; k--)
            {
                if (++index[k] < outShape[k]) break;
                index[k] = 0;
            }
        }
    }

    // dst [cols, rows] = srcᵀ for src [rows, cols], in 32 × 32 tiles so that both sides stay in cache lines
    // (a plain strided gather misses on nearly every read for a 2,600 × 650 matrix); each tile writes dst rows
    // contiguously.
    private static void Transpose(float[] src, float[] dst, int rows, int cols)
    {
        const int Tile = 32;
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(rows, r0 + Tile);
            for (int c0 = 0; c0 < cols; c0 += Tile)
            {
                int c1 = Math.Min(cols, c0 + Tile);
                for (int c = c0; c < c1; c++)
                {
                    for (int r = r0; r < r1; r++) dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Gemm(float alpha, MatrixView a, MatrixView b, float beta, MatrixView c, int batchCount = 1)
    {
        var (m, n, k) = MatrixView.ProductShape(a, b, c);
        // Profiled per shape: which of the step's GEMMs is slow matters more than their total.
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Gemm,
            Diagnostics.Profiler.Enabled ? $"{(a.Transposed ? 'T' : 'N')}{(b.Transposed ? 'T' : 'N')} {m}x{n}x{k}" + (batchCount > 1 ? $" x{batchCount}" : "") : "");
        float[] ad = Data(a.Storage), bd = Data(b.Storage), cd = Data(c.Storage);
        for (int i = 0; i < batchCount; i++)
        {
            Cpu.Gemm.Sgemm(a.Transposed, b.Transposed, m, n, k, alpha,
                ad, checked((int)(a.Offset + i * a.BatchStride)), a.Ld,
                bd, checked((int)(b.Offset + i * b.BatchStride)), b.Ld,
                beta, cd, checked((int)(c.Offset + i * c.BatchStride)), c.Ld);
        }
    }

    /// <inheritdoc/>
    public void IndexSelectRows(Storage table, int rowLength, int[] indices, Storage y)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Embedding);
        float[] t = Data(table), d = Data(y);
        for (int i = 0; i < indices.Length; i++)
            t.AsSpan(indices[i] * rowLength, rowLength).CopyTo(d.AsSpan(i * rowLength, rowLength));
    }

    /// <inheritdoc/>
    public void IndexAddRows(Storage gy, int rowLength, int[] indices, Storage gTable)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Embedding);
        float[] g = Data(gy), t = Data(gTable);
        for (int i = 0; i < indices.Length; i++)
        {
            var row = t.AsSpan(indices[i] * rowLength, rowLength);
            TensorPrimitives.Add(row, g.AsSpan(i * rowLength, rowLength), row);
        }
    }

    /// <inheritdoc/>
    public void GatherColumns(Storage x, int rows, int cols, int[] indices, Storage y)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] s = Data(x), d = Data(y);
        for (int r = 0; r < rows; r++) d[r] = s[r * cols + indices[r]];
    }

    /// <inheritdoc/>
    public void ScatterAddColumns(Storage gy, int rows, int cols, int[] indices, Storage gx)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] g = Data(gy), d = Data(gx);
        for (int r = 0; r < rows; r++) d[r * cols + indices[r]] += g[r];
    }
}
