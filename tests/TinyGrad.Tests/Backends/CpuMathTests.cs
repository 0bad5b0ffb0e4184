namespace TinyGrad.Tests.Backends;

using TinyGrad;

public class CpuMathTests
{
    [Fact]
    public void Tanh_is_accurate_near_zero_and_saturates_far_from_it()
    {
        var values = new List<float> { 0f, -0f, 1e-30f, 1e-7f, -1e-4f, 0.01f, 0.124f, 0.126f, -0.5f, 1f, 3f, -9f, 20f, -1e4f, 1e4f };
        var g = new Generator(1);
        for (int i = 0; i < 200; i++) values.Add((float)(g.NextGaussian() * 2));
        var y = Tensor.FromArray([.. values]).Tanh().ToArray();
        for (int i = 0; i < values.Count; i++)
        {
            double expected = Math.Tanh(values[i]);
            // Within 4 ulp, relative all the way down to 0 (TensorPrimitives.Tanh misses this near 0).
            Assert.True(Math.Abs(y[i] - expected) <= 4.8e-7 * Math.Abs(expected) + 1e-45,
                $"tanh({values[i]:G9}) = {y[i]:G9}, expected {expected:G9}");
        }
        Assert.Equal(0f, y[0]);
    }

    [Fact]
    public void Tanh_relative_error_stays_below_four_ulp_on_a_dense_sweep()
    {
        var x = Enumerable.Range(-40000, 80001).Select(i => i * 1e-4f).ToArray(); // [−4, 4]
        var y = Tensor.FromArray(x).Tanh().ToArray();
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Tanh(x[i]);
            if (expected != 0) worst = Math.Max(worst, Math.Abs(y[i] - expected) / Math.Abs(expected));
        }
        Assert.True(worst < 4.8e-7, $"worst relative error {worst:E2}");
    }
}
