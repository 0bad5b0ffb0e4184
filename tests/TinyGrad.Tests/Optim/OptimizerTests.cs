namespace TinyGrad.Tests.Optim;

using TinyGrad;
using TinyGrad.Optim;

public class OptimizerTests
{
    [Fact]
    public void Sgd_minimises_a_quadratic()
    {
        var x = Tensor.FromArray([3f, -2f], 2).RequireGrad();
        var opt = new Sgd([x], lr: 0.1f, momentum: 0.9f);
        for (int i = 0; i < 200; i++)
        {
            opt.ZeroGrad();
            (x * x).Sum().Backward();
            opt.Step();
        }
        Assert.All(x.ToArray(), v => Assert.InRange(v, -1e-3f, 1e-3f));
    }

    [Fact]
    public void Adam_minimises_a_quadratic()
    {
        var x = Tensor.FromArray([3f, -2f], 2).RequireGrad();
        var opt = new Adam([x], lr: 0.1f);
        for (int i = 0; i < 300; i++)
        {
            opt.ZeroGrad();
            ((x - 1f) * (x - 1f)).Sum().Backward();
            opt.Step();
        }
        Assert.All(x.ToArray(), v => Assert.InRange(v, 0.99f, 1.01f));
    }

    [Fact]
    public void ClipGradNorm_returns_the_total_norm_and_scales_to_the_limit()
    {
        var a = Tensor.Zeros(2).RequireGrad();
        var b = Tensor.Zeros(1).RequireGrad();
        a.Grad = Tensor.FromArray([3f, 0f], 2);
        b.Grad = Tensor.FromArray([4f], 1);
        float norm = ClipGrad.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, a.Grad.ToArray()[0], 5);
        Assert.Equal(0.8f, b.Grad.ToArray()[0], 5);
        Assert.Equal(1f, ClipGrad.ClipGradNorm([a, b], 10f), 4); // below the limit: untouched
        Assert.Equal(0.6f, a.Grad.ToArray()[0], 5);
    }

    [Fact]
    public void Asgd_swaps_the_average_in_and_back()
    {
        var x = Tensor.FromArray([0f], 1).RequireGrad();
        var opt = new Asgd([x], lr: 1f, lambd: 0f, alpha: 0.75f, t0: 0f);
        foreach (float g in new[] { -1f, -1f, -1f })
        {
            x.Grad = Tensor.FromArray([g], 1);
            opt.Step(); // iterates 1, 2, 3
        }
        // PyTorch's μ schedule (μ = 1/max(1, t − t0), applied on the next step) copies the iterate at
        // steps 1 and 2 and averages from there: ax = mean(2, 3).
        Assert.Equal(3f, x.Item());
        opt.SwapAverage();
        Assert.Equal(2.5f, x.Item(), 5);
        opt.SwapAverage();
        Assert.Equal(3f, x.Item());
    }

    [Fact]
    public void Optimizers_reject_non_leaf_or_gradient_free_parameters()
    {
        var x = Tensor.Zeros(2).RequireGrad();
        Assert.Throws<ArgumentException>(() => new Sgd([x * 2f], 0.1f));
        Assert.Throws<ArgumentException>(() => new Adam([Tensor.Zeros(2)]));
        Assert.Throws<ArgumentException>(() => new Sgd([x, x], 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([x], float.NaN));
    }

    [Fact]
    public void Same_seed_gives_the_same_training_run()
    {
        static float[] Run()
        {
            var g = new Generator(5);
            var w = Tensor.Randn([4, 3], g).RequireGrad();
            var data = Tensor.Randn([8, 4], g);
            var opt = new Adam([w], lr: 0.05f);
            for (int i = 0; i < 10; i++)
            {
                opt.ZeroGrad();
                Tensor.CrossEntropy(data.MatMul(w), [0, 1, 2, 0, 1, 2, 0, 1]).Backward();
                opt.Step();
            }
            return w.ToArray();
        }
        Assert.Equal(Run(), Run());
    }
}
