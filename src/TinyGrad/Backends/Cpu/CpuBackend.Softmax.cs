using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

// TensorPrimitives.SoftMax does not subtract the maximum (SoftMax([100, 0]) is NaN), so these
// kernels build the stable form from Max, Subtract, Exp and Sum.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Softmax(Storage x, Storage y, int rows, int cols, bool log)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] src = Data(x), dst = Data(y);
        for (int r = 0; r < rows; r++)
        {
            var row = src.AsSpan(r * cols, cols);
            var output = dst.AsSpan(r * cols, cols);
            float m = TensorPrimitives.Max(row);
            if (float.IsNegativeInfinity(m)) m = 0f; // an all −∞ row: keep x − m finite-or-−∞, not NaN
            TensorPrimitives.Subtract(row, m, output);
            if (log)
            {
                // log softmax = (x − m) − log Σ e^(x − m). Exponentiate into the output for the sum, then
                // rebuild x − m and subtract: folding m + lse into one float first would round it at |m| ≈ 1e4.
                TensorPrimitives.Exp(output, output);
                float lse = MathF.Log(TensorPrimitives.Sum(output));
                TensorPrimitives.Subtract(row, m, output);
                TensorPrimitives.Subtract(output, lse, output);
            }
            else
            {
                TensorPrimitives.Exp(output, output);
                TensorPrimitives.Divide(output, TensorPrimitives.Sum(output), output);
            }
        }
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Storage y, Storage gy, Storage gx, int rows, int cols, bool log)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] ys = Data(y), gys = Data(gy), gxs = Data(gx);
        var tmp = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            var yr = ys.AsSpan(r * cols, cols);
            var g = gys.AsSpan(r * cols, cols);
            var dst = gxs.AsSpan(r * cols, cols);
            if (log)
            {
                // gx = gy − softmax · Σ gy, with softmax = e^y.
                float s = TensorPrimitives.Sum(g);
                TensorPrimitives.Exp(yr, tmp);
                TensorPrimitives.MultiplyAdd(tmp, -s, g, tmp);
            }
            else
            {
                // gx = y ⊙ (gy − Σ gy ⊙ y).
                float s = TensorPrimitives.Dot(g, yr);
                TensorPrimitives.Subtract(g, s, tmp);
                TensorPrimitives.Multiply(tmp, yr, tmp);
            }
            TensorPrimitives.Add(dst, tmp, dst);
        }
    }

    /// <inheritdoc/>
    public void CrossEntropy(Storage x, int rows, int cols, int[] targets, Storage loss, Storage stats)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] src = Data(x), l = Data(loss), st = Data(stats);
        var scratch = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            var row = src.AsSpan(r * cols, cols);
            float m = TensorPrimitives.Max(row);
            if (float.IsInfinity(m)) m = 0f; // keep x − m free of ∞ − ∞
            TensorPrimitives.Subtract(row, m, scratch);
            TensorPrimitives.Exp(scratch, scratch);
            float logSum = MathF.Log(TensorPrimitives.Sum(scratch));
            st[2 * r] = m;
            st[2 * r + 1] = logSum;
            l[r] = logSum - (row[targets[r]] - m);
        }
    }

    /// <inheritdoc/>
    public void CrossEntropyBackward(Storage x, Storage stats, int rows, int cols, int[] targets, Storage gy, float scale, Storage gx)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Head);
        float[] src = Data(x), st = Data(stats), dst = Data(gx);
        float g = Data(gy)[0] * scale;
        var tmp = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            // softmax_j = e^((x_j − m) − logsum); d loss / d x_j = softmax_j − [j = target].
            TensorPrimitives.Subtract(src.AsSpan(r * cols, cols), st[2 * r], tmp);
            TensorPrimitives.Subtract(tmp, st[2 * r + 1], tmp);
            TensorPrimitives.Exp(tmp, tmp);
            tmp[targets[r]] -= 1f;
            var outRow = dst.AsSpan(r * cols, cols);
            TensorPrimitives.MultiplyAdd(tmp, g, outRow, outRow);
        }
    }
}
