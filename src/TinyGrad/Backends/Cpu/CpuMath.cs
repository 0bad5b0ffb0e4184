using System.Runtime.Intrinsics;

namespace TinyGrad.Backends.Cpu;

/// <summary>Vectorised math that TensorPrimitives gets wrong or lacks.</summary>
internal static class CpuMath
{
    private const float SmallTanh = 0.3f;

    /// <summary>
    /// tanh, accurate to float32 near 0. TensorPrimitives.Tanh (System.Numerics.Tensors 10) is off by up
    /// to 1.5e−7 absolute there (tanh(0) = −6e−8, tanh(1e−4) wrong by 3e−4 relative), which a 1e4-sized
    /// weight downstream turns into visible error. Here |x| &lt; 0.3 uses the odd Taylor series to x¹³
    /// (truncation below 1e−10 relative), and larger |x| uses (1 − e^−2|x|)/(1 + e^−2|x|) with the sign
    /// restored, whose cancellation costs at most a few ulp once e^−2|x| ≤ e^−0.6. x and y may be the same span.
    /// </summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                Tanh(Vector256.Create(x.Slice(i, Vector256<float>.Count))).CopyTo(y.Slice(i, Vector256<float>.Count));
        }
        for (; i < x.Length; i++) y[i] = MathF.Tanh(x[i]);
    }

    /// <summary>tanh of each lane, with the accuracy of <see cref="Tanh(ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static Vector256<float> Tanh(Vector256<float> v)
    {
        var a = Vector256.Abs(v);
        var t = Vector256.Exp(a * -2f);
        var large = (Vector256<float>.One - t) / (Vector256<float>.One + t);
        large = Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), -large, large);
        return Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(SmallTanh)), Series(v), large);
    }

    /// <summary>σ(x) = 1 / (1 + e⁻ˣ) for each lane: e⁻ˣ overflows to ∞ for x &lt; −88, giving exactly 0, never NaN.</summary>
    public static Vector256<float> Sigmoid(Vector256<float> x) =>
        Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));

    // tanh x = x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − 1382x¹¹/155925 + 21844x¹³/6081075, Horner on x².
    private static Vector256<float> Series(Vector256<float> x)
    {
        var x2 = x * x;
        var p = Vector256.Create(21844f / 6081075f);
        p = p * x2 + Vector256.Create(-1382f / 155925f);
        p = p * x2 + Vector256.Create(62f / 2835f);
        p = p * x2 + Vector256.Create(-17f / 315f);
        p = p * x2 + Vector256.Create(2f / 15f);
        p = p * x2 + Vector256.Create(-1f / 3f);
        return x + x * x2 * p;
    }

}
