using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, Storage x, Storage y, int outer, int axis, int inner)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        float[] src = Data(x), dst = Data(y);
        if (inner == 1)
        {
            // The common case (reducing the last axis): each output is one SIMD pass over a row.
            float[]? scratch = op == ReduceOp.LogSumExp ? new float[axis] : null;
            for (int o = 0; o < outer; o++)
            {
                var row = src.AsSpan(o * axis, axis);
                dst[o] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(row),
                    ReduceOp.Max => axis == 0 ? float.NegativeInfinity : TensorPrimitives.Max(row),
                    _ => LogSumExp(row, scratch!),
                };
            }
            return;
        }
        // Reducing a middle axis: accumulate whole inner rows at a time.
        for (int o = 0; o < outer; o++)
        {
            var acc = dst.AsSpan(o * inner, inner);
            int baseOffset = o * axis * inner;
            switch (op)
            {
                case ReduceOp.Sum:
                    // Column slices of the output on the pool (a bias gradient: Σ over 700 rows of 10,000); each
                    // column is still summed over the axis in order, so the result does not depend on the threads.
                    int slice = Math.Max(1024, ChunkLength / Math.Max(1, axis));
                    int slices = (inner + slice - 1) / slice;
                    float[] from = src;
                    int at = baseOffset, rowsToSum = axis, width = inner;
                    float[] to = dst;
                    int outAt = o * inner;
                    CpuThreadPool.ParallelFor(slices, sl =>
                    {
                        int c0 = sl * slice, len = Math.Min(slice, width - c0);
                        var part = to.AsSpan(outAt + c0, len);
                        part.Clear();
                        for (int a = 0; a < rowsToSum; a++) TensorPrimitives.Add(part, from.AsSpan(at + a * width + c0, len), part);
                    });
                    break;
                case ReduceOp.Max:
                    acc.Fill(float.NegativeInfinity);
                    for (int a = 0; a < axis; a++) TensorPrimitives.Max(acc, src.AsSpan(baseOffset + a * inner, inner), acc);
                    break;
                default:
                    var column = new float[axis];
                    var scratch = new float[axis];
                    for (int i = 0; i < inner; i++)
                    {
                        for (int a = 0; a < axis; a++) column[a] = src[baseOffset + a * inner + i];
                        acc[i] = LogSumExp(column, scratch);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// log Σ eˣ = m + log Σ e^(x − m) with m = max x, so every exponent is ≤ 0. A row whose maximum is
    /// ±∞ returns that maximum directly (x − m would be NaN).
    /// </summary>
    internal static float LogSumExp(ReadOnlySpan<float> row, Span<float> scratch)
    {
        if (row.Length == 0) return float.NegativeInfinity;
        float m = TensorPrimitives.Max(row);
        if (float.IsInfinity(m) || float.IsNaN(m)) return m;
        var t = scratch[..row.Length];
        TensorPrimitives.Subtract(row, m, t);
        TensorPrimitives.Exp(t, t);
        return m + MathF.Log(TensorPrimitives.Sum(t));
    }

    /// <inheritdoc/>
    public void MaxBackward(Storage x, Storage y, Storage gy, Storage gx, int outer, int axis, int inner)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        float[] xs = Data(x), ys = Data(y), gys = Data(gy), gxs = Data(gx);
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                float m = ys[o * inner + i];
                for (int a = 0; a < axis; a++)
                {
                    int at = (o * axis + a) * inner + i;
                    if (xs[at] == m || float.IsNaN(m) && float.IsNaN(xs[at])) // a NaN maximum is its own position
                    {
                        gxs[at] += gys[o * inner + i];
                        break;
                    }
                }
            }
        }
    }
}
