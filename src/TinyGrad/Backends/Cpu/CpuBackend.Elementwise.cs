using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, Storage x, Storage y, int n, float s = 0f)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        ReadOnlySpan<float> src = Data(x).AsSpan(0, n);
        Span<float> dst = Data(y).AsSpan(0, n);
        switch (op)
        {
            case UnaryOp.Identity: src.CopyTo(dst); break;
            case UnaryOp.Neg: TensorPrimitives.Negate(src, dst); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(src, dst); break;
            case UnaryOp.Log: TensorPrimitives.Log(src, dst); break;
            case UnaryOp.Tanh: CpuMath.Tanh(src, dst); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(src, dst); break;
            case UnaryOp.Relu: TensorPrimitives.Max(src, 0f, dst); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(src, dst); break;
            case UnaryOp.Pow: TensorPrimitives.Pow(src, s, dst); break;
            case UnaryOp.AddScalar: TensorPrimitives.Add(src, s, dst); break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(src, s, dst); break;
            case UnaryOp.DivScalar: TensorPrimitives.Divide(src, s, dst); break;
            case UnaryOp.RSubScalar: TensorPrimitives.Subtract(s, src, dst); break;
            case UnaryOp.RDivScalar: TensorPrimitives.Divide(s, src, dst); break;
            case UnaryOp.Softplus:
                for (int i = 0; i < n; i++) dst[i] = Softplus(src[i]);
                break;
            case UnaryOp.LogSigmoid:
                for (int i = 0; i < n; i++) dst[i] = -Softplus(-src[i]);
                break;
            case UnaryOp.Step:
                for (int i = 0; i < n; i++) dst[i] = src[i] > 0f ? 1f : 0f;
                break;
            default: throw new NotSupportedException($"cpu backend: unary op {op}");
        }
    }

    /// <summary>
    /// softplus(x) = ln(1 + eˣ) = max(x, 0) + log1p(e^−|x|). The exponent is never positive, so
    /// nothing overflows at x = ±1e4, and log1p keeps the tiny tail exact (logσ(20) ≈ −2e−9, not 0).
    /// </summary>
    internal static float Softplus(float x)
    {
        float t = MathF.Exp(-MathF.Abs(x));
        return MathF.Max(x, 0f) + Log1p(t);
    }

    /// <summary>log(1 + t), accurate for tiny t (Kahan's trick: the rounding of 1 + t cancels out).</summary>
    internal static float Log1p(float t)
    {
        float u = 1f + t;
        return u == 1f ? t : MathF.Log(u) * t / (u - 1f);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, Storage a, int[] aStrides, Storage b, int[] bStrides, Storage y, int[] shape)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.Elementwise);
        float[] ad = Data(a), bd = Data(b), yd = Data(y);
        int rank = shape.Length;
        int n = Shapes.Numel(shape);
        if (n == 0) return;
        if (rank == 0)
        {
            yd[0] = Apply(op, ad[0], bd[0]);
            return;
        }
        if (n >= 2 * ChunkLength && IsContiguous(aStrides, shape) && IsContiguous(bStrides, shape))
        {
            // Same-shape operands (a gradient added into another): one flat SIMD pass, split over the pool.
            ForChunks(n, (start, length) => Row(op, ad.AsSpan(start, length), bd.AsSpan(start, length), yd.AsSpan(start, length)));
            return;
        }
        // Walk the output row by row (the last axis); each row is a span op when the operands are
        // contiguous or constant along that axis, which covers same-shape, scalar and bias-row cases.
        int last = shape[rank - 1];
        int sa = aStrides[rank - 1], sb = bStrides[rank - 1];
        int rows = n / last;
        var index = new int[rank];
        for (int r = 0; r < rows; r++)
        {
            int oa = 0, ob = 0;
            for (int k = 0; k < rank - 1; k++)
            {
                oa += index[k] * aStrides[k];
                ob += index[k] * bStrides[k];
            }
            var dst = yd.AsSpan(r * last, last);
            if (sa == 1 && sb == 1) Row(op, ad.AsSpan(oa, last), bd.AsSpan(ob, last), dst);
            else if (sa == 1 && sb == 0) RowScalarRight(op, ad.AsSpan(oa, last), bd[ob], dst);
            else if (sa == 0 && sb == 1) RowScalarLeft(op, ad[oa], bd.AsSpan(ob, last), dst);
            else
            {
                for (int j = 0; j < last; j++) dst[j] = Apply(op, ad[oa + j * sa], bd[ob + j * sb]);
            }
            for (int k = rank - 2; k >= 0; k--)
            {
                if (++index[k] < shape[k]) break;
                index[k] = 0;
            }
        }
    }

    private static bool IsContiguous(int[] strides, int[] shape)
    {
        for (int k = shape.Length - 1, expected = 1; k >= 0; expected *= shape[k], k--)
        {
            if (strides[k] != expected && shape[k] != 1) return false;
        }
        return true;
    }

    private static float Apply(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        _ => throw new NotSupportedException($"cpu backend: binary op {op}"),
    };

    private static void Row(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new NotSupportedException($"cpu backend: binary op {op}");
        }
    }

    private static void RowScalarRight(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new NotSupportedException($"cpu backend: binary op {op}");
        }
    }

    private static void RowScalarLeft(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new NotSupportedException($"cpu backend: binary op {op}");
        }
    }
}
