namespace TinyGrad.Tests.Ops;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Tests.Backends;

// Logits of ±1e4 and rows that are all very negative must give finite values and gradients.
public abstract class StabilityTests(Device device) : OnDevice(device)
{
    private static readonly float[] Extreme = [1e4f, -1e4f, 0f, -1e4f, -1e4f, -1e4f];

    private static void AllFinite(float[] values) => Assert.All(values, v => Assert.True(float.IsFinite(v), $"non-finite {v}"));

    [SkippableFact]
    public void LogSoftmax_and_softmax_of_extreme_logits_are_finite()
    {
        var x = Tensor.FromArray(Extreme, 2, 3).RequireGrad();
        var logp = x.LogSoftmax();
        var p = x.Softmax();
        AllFinite(p.ToArray());
        var lp = logp.ToArray();
        Assert.Equal(0f, lp[0]);
        Assert.Equal(-2e4f, lp[1]);
        Assert.Equal(-MathF.Log(3f), lp[3], 5);  // an all −1e4 row is uniform
        (logp.Sum() + p.Sum()).Backward();
        AllFinite(x.Grad!.ToArray());
    }

    [SkippableFact]
    public void CrossEntropy_of_extreme_logits_is_finite()
    {
        var x = Tensor.FromArray(Extreme, 2, 3).RequireGrad();
        var loss = Tensor.CrossEntropy(x, [1, 0]);
        Assert.Equal((2e4f + MathF.Log(3f)) / 2, loss.Item(), 1);
        loss.Backward();
        AllFinite(x.Grad!.ToArray());
    }

    [SkippableFact]
    public void LogSumExp_handles_extremes_and_minus_infinity_rows()
    {
        var x = Tensor.FromArray([1e4f, 1e4f, float.NegativeInfinity, float.NegativeInfinity], 2, 2);
        var y = x.LogSumExp(1).ToArray();
        Assert.Equal(1e4f + MathF.Log(2f), y[0], 1);
        Assert.Equal(float.NegativeInfinity, y[1]);
    }

    [SkippableFact]
    public void Softplus_and_logsigmoid_are_exact_in_the_tails()
    {
        var x = Tensor.FromArray([1e4f, -1e4f, 20f, -20f, 0f], 5).RequireGrad();
        var sp = x.Softplus().ToArray();
        var ls = x.LogSigmoid();
        var lsv = ls.ToArray();
        Assert.Equal(1e4f, sp[0]);
        Assert.Equal(0f, sp[1]);
        // logσ(20) = −log1p(e^−20) ≈ −2.06e−9: a naive log(1 + e^−20) would round it to 0.
        Assert.Equal(-MathF.Exp(-20f), lsv[2], 1e-15f);
        Assert.True(lsv[2] < 0f);
        Assert.Equal(-1e4f, lsv[1]);
        Assert.Equal(-MathF.Log(2f), lsv[4], 6);
        ls.Sum().Backward();
        AllFinite(x.Grad!.ToArray());
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class StabilityTestsCpu() : StabilityTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class StabilityTestsCuda() : StabilityTests(Device.Cuda);
