namespace TinyGrad.Tests.Ops;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Tests.Backends;

// Every differentiable op against central finite differences (GradCheck, default eps 1e-3 and tolerance 2e-3).
// Inputs are small and seeded, and kept away from kinks and domain edges: log/sqrt/pow/division on inputs
// bounded away from 0, relu away from 0, max with distinct values (no ties within the finite-difference step).
// Negative controls show the checker catches a gradient off by 1 % or by the sign of one element.
public abstract class GradCheckTests(Device device) : OnDevice(device)
{
    private sealed record Case(Func<Tensor[], Tensor> F, Func<Tensor[]> Inputs);

    private static Tensor Randn(ulong seed, params int[] shape) => Tensor.Randn(shape, new Generator(seed));

    // Uniform magnitudes in [low, high) with random signs: denominators and relu inputs away from 0.
    private static Tensor AwayFromZero(ulong seed, float low, float high, params int[] shape)
    {
        var g = new Generator(seed);
        var data = new float[Shapes.Numel(shape)];
        for (int i = 0; i < data.Length; i++)
            data[i] = (g.NextFloat() < 0.5f ? -1f : 1f) * (low + (high - low) * g.NextFloat());
        return Tensor.FromArray(data, shape, null);
    }

    private static Tensor Positive(ulong seed, float low, float high, params int[] shape) =>
        Tensor.Uniform(shape, low, high, new Generator(seed));

    // A random permutation of values 0.1 apart (plus jitter below 0.02): every max has a clear winner.
    private static Tensor Distinct(ulong seed, params int[] shape)
    {
        var g = new Generator(seed);
        int n = Shapes.Numel(shape);
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = (i - n / 2) * 0.1f + (g.NextFloat() - 0.5f) * 0.02f;
        for (int i = n - 1; i > 0; i--)
        {
            int j = g.NextInt(i + 1);
            (data[i], data[j]) = (data[j], data[i]);
        }
        return Tensor.FromArray(data, shape, null);
    }

    private static Tensor[] Inputs(params Tensor[] xs) => [.. xs.Select(x => x.RequireGrad())];

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // -- binary (with broadcasting) and scalar variants --
        ["add"] = new(x => x[0] + x[1], () => Inputs(Randn(1, 3, 4), Randn(2, 4))),
        ["add_scalar_tensor"] = new(x => x[0] + x[1], () => Inputs(Randn(3, 2, 3), Tensor.FromArray([0.7f], [], null))),
        ["sub"] = new(x => x[0] - x[1], () => Inputs(Randn(4, 3, 1), Randn(5, 1, 4))),
        ["mul"] = new(x => x[0] * x[1], () => Inputs(Randn(6, 2, 3, 4), Randn(7, 3, 1))),
        ["div"] = new(x => x[0] / x[1], () => Inputs(Randn(8, 3, 1), AwayFromZero(9, 0.5f, 2f, 1, 4))),
        ["neg"] = new(x => -x[0], () => Inputs(Randn(10, 2, 3))),
        ["add_s"] = new(x => x[0] + 1.5f, () => Inputs(Randn(11, 2, 3))),
        ["sub_s"] = new(x => x[0] - 0.3f, () => Inputs(Randn(12, 2, 3))),
        ["rsub_s"] = new(x => 2f - x[0], () => Inputs(Randn(13, 2, 3))),
        ["mul_s"] = new(x => x[0] * -1.3f, () => Inputs(Randn(14, 2, 3))),
        ["div_s"] = new(x => x[0] / 0.7f, () => Inputs(Randn(15, 2, 3))),
        ["rdiv_s"] = new(x => 1.5f / x[0], () => Inputs(AwayFromZero(16, 0.5f, 2f, 2, 3))),

        // -- elementwise maps --
        ["exp"] = new(x => x[0].Exp(), () => Inputs(Randn(20, 3, 4))),
        ["log"] = new(x => x[0].Log(), () => Inputs(Positive(21, 0.3f, 3f, 3, 4))),
        ["tanh"] = new(x => x[0].Tanh(), () => Inputs(Randn(22, 3, 4))),
        ["sigmoid"] = new(x => x[0].Sigmoid(), () => Inputs(Randn(23, 3, 4))),
        ["relu"] = new(x => x[0].Relu(), () => Inputs(AwayFromZero(24, 0.1f, 2f, 3, 4))),
        ["softplus"] = new(x => x[0].Softplus(), () => Inputs(Randn(25, 3, 4).Mul(3f))),
        ["logsigmoid"] = new(x => x[0].LogSigmoid(), () => Inputs(Randn(26, 3, 4).Mul(3f))),
        ["sqrt"] = new(x => x[0].Sqrt(), () => Inputs(Positive(27, 0.3f, 3f, 3, 4))),
        ["pow_2"] = new(x => x[0].Pow(2f), () => Inputs(Positive(28, 0.3f, 2f, 3, 4))),
        ["pow_3"] = new(x => x[0].Pow(3f), () => Inputs(Positive(29, 0.3f, 2f, 3, 4))),
        ["pow_0.5"] = new(x => x[0].Pow(0.5f), () => Inputs(Positive(30, 0.3f, 2f, 3, 4))),
        ["pow_-1.5"] = new(x => x[0].Pow(-1.5f), () => Inputs(Positive(31, 0.5f, 2f, 3, 4))),

        // -- reductions --
        ["sum_axis1"] = new(x => x[0].Sum(1), () => Inputs(Randn(40, 2, 3, 4))),
        ["sum_axis0_keep"] = new(x => x[0].Sum(0, keepdim: true), () => Inputs(Randn(41, 2, 3, 4))),
        ["sum_all"] = new(x => x[0].Sum(), () => Inputs(Randn(42, 2, 3, 4))),
        ["mean_axis2"] = new(x => x[0].Mean(2), () => Inputs(Randn(43, 2, 3, 4))),
        ["mean_all"] = new(x => x[0].Mean(), () => Inputs(Randn(44, 2, 3, 4))),
        ["max_axis1"] = new(x => x[0].Max(1), () => Inputs(Distinct(45, 2, 3, 4))),
        ["max_axis-1_keep"] = new(x => x[0].Max(-1, keepdim: true), () => Inputs(Distinct(46, 2, 3, 4))),
        ["logsumexp_axis1"] = new(x => x[0].LogSumExp(1), () => Inputs(Randn(47, 2, 3, 4))),
        ["logsumexp_axis0_keep"] = new(x => x[0].LogSumExp(0, keepdim: true), () => Inputs(Randn(48, 2, 3, 4))),
        ["expand"] = new(x => x[0].Expand(2, 3, 4), () => Inputs(Randn(49, 3, 1))),
        ["sum_to"] = new(x => x[0].SumTo([3, 1]), () => Inputs(Randn(50, 2, 3, 4))),

        // -- matmul: every transpose combination, batched, and 3-D·2-D --
        ["matmul_NN"] = new(x => Tensor.MatMul(x[0], x[1]), () => Inputs(Randn(60, 3, 4), Randn(61, 4, 5))),
        ["matmul_TN"] = new(x => Tensor.MatMul(x[0], x[1], transposeA: true), () => Inputs(Randn(62, 4, 3), Randn(63, 4, 5))),
        ["matmul_NT"] = new(x => Tensor.MatMul(x[0], x[1], transposeB: true), () => Inputs(Randn(64, 3, 4), Randn(65, 5, 4))),
        ["matmul_TT"] = new(x => Tensor.MatMul(x[0], x[1], true, true), () => Inputs(Randn(66, 4, 3), Randn(67, 5, 4))),
        ["matmul_batched"] = new(x => Tensor.MatMul(x[0], x[1]), () => Inputs(Randn(68, 2, 3, 4), Randn(69, 2, 4, 5))),
        ["matmul_batched_TT"] = new(x => Tensor.MatMul(x[0], x[1], true, true), () => Inputs(Randn(70, 2, 4, 3), Randn(71, 2, 5, 4))),
        ["matmul_3d_2d"] = new(x => x[0].MatMul(x[1]), () => Inputs(Randn(72, 2, 3, 4), Randn(73, 4, 5))),
        ["matmul_3d_2d_NT"] = new(x => Tensor.MatMul(x[0], x[1], transposeB: true), () => Inputs(Randn(74, 2, 3, 4), Randn(75, 5, 4))),

        // -- layout --
        ["transpose"] = new(x => x[0].Transpose(0, 2), () => Inputs(Randn(80, 2, 3, 4))),
        ["T"] = new(x => x[0].T, () => Inputs(Randn(81, 3, 4))),
        ["permute_4d"] = new(x => x[0].Permute(3, 1, 0, 2), () => Inputs(Randn(82, 3, 2, 4, 5))),
        ["reshape"] = new(x => x[0].Reshape(4, -1), () => Inputs(Randn(83, 2, 3, 4))),
        ["flatten"] = new(x => x[0].Flatten(), () => Inputs(Randn(84, 2, 3))),
        ["unsqueeze_squeeze"] = new(x => x[0].Unsqueeze(1).Mul(2f).Squeeze(1), () => Inputs(Randn(85, 2, 3))),
        ["clone"] = new(x => x[0].Clone(), () => Inputs(Randn(86, 2, 3))),

        // -- join and slice --
        ["cat_axis1"] = new(x => Tensor.Cat([x[0], x[1], x[2]], 1), () => Inputs(Randn(90, 2, 3), Randn(91, 2, 2), Randn(92, 2, 1))),
        ["cat_axis0"] = new(x => Tensor.Cat([x[0], x[1]], 0), () => Inputs(Randn(93, 2, 3), Randn(94, 3, 3))),
        ["stack"] = new(x => Tensor.Stack([x[0], x[1]], 1), () => Inputs(Randn(95, 2, 3), Randn(96, 2, 3))),
        ["narrow"] = new(x => x[0].Narrow(1, 1, 3), () => Inputs(Randn(97, 3, 5))),
        // The pieces are weighted differently and rejoined, so each piece's gradient is distinguishable.
        ["split"] = new(x =>
        {
            var p = x[0].Split(2, 1);
            return Tensor.Cat([p[2] * 3f, p[0], p[1] * -2f], 1);
        }, () => Inputs(Randn(98, 3, 5))),
        ["split_sizes"] = new(x =>
        {
            var p = x[0].Split([1, 3], 0);
            return p[1].Sum(0) * p[0].Squeeze(0);
        }, () => Inputs(Randn(99, 4, 3))),
        ["chunk"] = new(x =>
        {
            var p = x[0].Chunk(2, 1);
            return p[0] * p[1];
        }, () => Inputs(Randn(100, 2, 4))),

        // -- indexing (repeated indices accumulate) --
        ["index_select"] = new(x => x[0].IndexSelect([4, 0, 4, 2, 4, 1]), () => Inputs(Randn(110, 5, 3))),
        ["gather"] = new(x => x[0].Gather([3, 0, 3, 1, 2, 2]), () => Inputs(Randn(111, 2, 3, 4))),

        // -- softmax family and losses --
        ["softmax"] = new(x => x[0].Softmax(), () => Inputs(Randn(120, 3, 5))),
        ["softmax_axis0"] = new(x => x[0].Softmax(0), () => Inputs(Randn(121, 3, 4))),
        ["log_softmax"] = new(x => x[0].LogSoftmax(), () => Inputs(Randn(122, 3, 5))),
        ["log_softmax_axis1_3d"] = new(x => x[0].LogSoftmax(1), () => Inputs(Randn(123, 2, 3, 4))),
        ["cross_entropy_mean"] = new(x => Tensor.CrossEntropy(x[0], [1, 0, 4, 2]), () => Inputs(Randn(124, 4, 5))),
        ["cross_entropy_sum"] = new(x => Tensor.CrossEntropy(x[0], [1, 0, 4, 2], Reduction.Sum), () => Inputs(Randn(125, 4, 5))),
        ["nll_loss"] = new(x => Tensor.NllLoss(x[0].LogSoftmax(), [1, 0, 4, 2]), () => Inputs(Randn(126, 4, 5))),
        ["nll_loss_sum"] = new(x => Tensor.NllLoss(x[0], [1, 0, 4, 2], Reduction.Sum), () => Inputs(Randn(127, 4, 5))),

        // -- a small composite: a two-layer network's loss --
        ["mlp"] = new(x => Tensor.CrossEntropy((Tensor.MatMul(x[0], x[1], transposeB: true) + x[2]).Tanh().MatMul(x[3]), [2, 0, 1]),
            () => Inputs(Randn(130, 3, 4), Randn(131, 5, 4), Randn(132, 5), Randn(133, 5, 3))),
    };

    public static TheoryData<string> OpNames => new(Cases.Keys);

    [SkippableTheory]
    [MemberData(nameof(OpNames))]
    public void Analytic_gradient_matches_finite_differences(string op)
    {
        var c = Cases[op];
        var result = GradCheck.Check(c.F, c.Inputs());
        Assert.True(result.Passed, $"gradcheck of '{op}' failed (max relative error {result.MaxError:E2}):\n{result.Report}");
    }

    [SkippableFact]
    public void Every_input_of_a_case_is_checked()
    {
        foreach (var (name, c) in Cases)
            Assert.True(c.Inputs().All(x => x.RequiresGrad), $"case '{name}' has an input without RequiresGrad");
    }

    // ---- negative and positive controls with custom Autograd.Function ops ----------------------------

    // f(x, w) = x² ⊙ w, with a backward that can be broken on purpose.
    private static Tensor SquareTimes(Tensor[] x, Func<Tensor, Tensor, Tensor>? breakGradX = null)
    {
        var (a, w) = (x[0], x[1]);
        return Autograd.Function("square_times", [a, w],
            () => a * a * w,
            gy =>
            {
                var gx = gy * 2f * a * w;
                return [breakGradX is null ? gx : breakGradX(gx, a), gy * a * a];
            });
    }

    private static Tensor[] ControlInputs() => Inputs(Randn(200, 3, 4), Randn(201, 3, 4));

    [SkippableFact]
    public void Correct_custom_function_passes()
    {
        var result = GradCheck.Check(x => SquareTimes(x), ControlInputs());
        Assert.True(result.Passed, result.Report);
        Assert.True(result.MaxError < 1e-3, $"max error {result.MaxError:E2} for a correct op:\n{result.Report}");
        GradCheck.Assert(x => SquareTimes(x), ControlInputs());
    }

    [SkippableFact]
    public void Gradient_off_by_one_percent_fails()
    {
        Func<Tensor[], Tensor> f = x => SquareTimes(x, (g, _) => g * 1.01f);
        var result = GradCheck.Check(f, ControlInputs());
        Assert.False(result.Passed, $"a gradient scaled by 1.01 passed the check:\n{result.Report}");
        Assert.True(result.MaxError > 5e-3, $"max error {result.MaxError:E2} for a gradient off by 1 %");
        Assert.Throws<InvalidOperationException>(() => GradCheck.Assert(f, ControlInputs()));
    }

    [SkippableFact]
    public void Gradient_with_one_element_of_wrong_sign_fails()
    {
        // Flip the sign of element 5 only: a bug that touches one entry must not hide in the norm.
        var mask = Enumerable.Repeat(1f, 12).ToArray();
        mask[5] = -1f;
        var flip = Tensor.FromArray(mask, [3, 4], null);
        Func<Tensor[], Tensor> f = x => SquareTimes(x, (g, _) => g * flip);
        var result = GradCheck.Check(f, ControlInputs());
        Assert.False(result.Passed, $"a gradient with one flipped element passed the check:\n{result.Report}");
        Assert.Throws<InvalidOperationException>(() => GradCheck.Assert(f, ControlInputs()));
    }

    [SkippableFact]
    public void Check_restores_inputs_and_their_gradients()
    {
        var inputs = ControlInputs();
        var before = inputs.Select(x => x.ToArray()).ToArray();
        var marker = Tensor.Full([3, 4], 42f);
        inputs[0].Grad = marker;
        GradCheck.Check(x => SquareTimes(x), inputs);
        for (int i = 0; i < inputs.Length; i++) Assert.Equal(before[i], inputs[i].ToArray());
        Assert.Same(marker, inputs[0].Grad);
        Assert.Null(inputs[1].Grad);
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class GradCheckTestsCpu() : GradCheckTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class GradCheckTestsCuda() : GradCheckTests(Device.Cuda);
