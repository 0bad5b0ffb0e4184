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

public class OptimizerStateTests
{
    private static readonly Func<Tensor[], Optimizer>[] Kinds =
    [
        p => new Sgd(p, 0.1f, momentum: 0.9f, weightDecay: 0.01f),
        p => new Adam(p, 0.05f, weightDecay: 0.1f),
        p => new AdamW(p, 0.05f),
        p => new Asgd(p, 0.1f, lambd: 1e-3f, t0: 1f, weightDecay: 0.01f),
    ];

    private static Tensor[] FreshParameters() =>
        [Tensor.Randn([3, 4], new Generator(1)).RequireGrad(), Tensor.Randn([5], new Generator(2)).RequireGrad()];

    private static void Step(Optimizer opt, int seed)
    {
        var g = new Generator((ulong)seed);
        foreach (var p in opt.Parameters) p.Grad = Tensor.Randn(p.Shape, g);
        opt.Step();
    }

    [Fact]
    public void A_restored_state_gives_the_same_updates_as_an_uninterrupted_run()
    {
        foreach (var make in Kinds)
        {
            // Straight: 6 steps. Interrupted: 3 steps, snapshot, a new optimizer over the snapshot, 3 more steps.
            var straightParams = FreshParameters();
            var straight = make(straightParams);
            for (int s = 0; s < 6; s++) Step(straight, s);

            var first = FreshParameters();
            var before = make(first);
            for (int s = 0; s < 3; s++) Step(before, s);
            var saved = before.GetState();
            var values = first.Select(p => p.ToArray()).ToArray();
            Step(before, 100); // changes after the snapshot must not leak into it

            Tensor[] resumedParams = [.. first.Select((p, i) => Tensor.FromArray(values[i], p.Shape).RequireGrad())];
            var resumed = make(resumedParams);
            resumed.LoadState(saved);
            for (int s = 3; s < 6; s++) Step(resumed, s);

            for (int i = 0; i < straightParams.Length; i++)
                Assert.Equal(straightParams[i].ToArray(), resumedParams[i].ToArray());
        }
    }

    [Fact]
    public void A_state_loads_only_into_the_same_kind_and_shapes()
    {
        var x = Tensor.Zeros(2).RequireGrad();
        var adam = new Adam([x]);
        x.Grad = Tensor.Ones(2);
        adam.Step();
        var state = adam.GetState();
        Assert.Contains("Adam", Assert.Throws<ArgumentException>(() => new Sgd([Tensor.Zeros(2).RequireGrad()], 0.1f).LoadState(state)).Message);
        Assert.Contains("[2]", Assert.Throws<ArgumentException>(() => new Adam([Tensor.Zeros(3).RequireGrad()]).LoadState(state)).Message);
    }
}
