namespace TinyGrad.Tests.Parity;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Tests.Backends;

// Every op against PyTorch (fixtures/ops.json, made by tests/fixtures/make_fixtures.py): the forward values,
// then the gradient of every input for L = Σ out ⊙ R with the fixture's upstream gradient R (y.Backward(R)).
// The expected values are PyTorch's float64 results from the same float32 inputs, rounded to float32; the
// generator checks that float32 PyTorch itself meets these tolerances, so a failure here is TinyGrad's.
public abstract class OpParityTests(Device device) : OnDevice(device)
{
    // Values: 1e-5 relative (a few float32 ulps after a short chain of roundings). Gradients: 1e-4 relative,
    // since a backward chains more roundings (e.g. softmax's y ⊙ (dy − Σ dy·y)). The absolute 1e-6 only
    // matters for elements near zero, where a relative bound alone would demand more than float32 can give.
    private const double ValueRtol = 1e-5, GradRtol = 1e-4, Atol = 1e-6;

    public static TheoryData<string> CaseNames => new(Fixtures.Ops.Cases.Select(c => c.Name));

    // One runner per op family in the fixture; each returns the op's outputs (several only for split/chunk).
    internal static readonly Dictionary<string, Func<OpCase, Tensor[], Tensor[]>> Runners = new()
    {
        ["add"] = (_, x) => [x[0] + x[1]],
        ["sub"] = (_, x) => [x[0] - x[1]],
        ["mul"] = (_, x) => [x[0] * x[1]],
        ["div"] = (_, x) => [x[0] / x[1]],
        ["neg"] = (_, x) => [-x[0]],
        ["add_scalar"] = (c, x) => [x[0] + c.Float("s")],
        ["sub_scalar"] = (c, x) => [x[0] - c.Float("s")],
        ["rsub_scalar"] = (c, x) => [c.Float("s") - x[0]],
        ["mul_scalar"] = (c, x) => [x[0] * c.Float("s")],
        ["div_scalar"] = (c, x) => [x[0] / c.Float("s")],
        ["rdiv_scalar"] = (c, x) => [c.Float("s") / x[0]],
        ["exp"] = (_, x) => [x[0].Exp()],
        ["log"] = (_, x) => [x[0].Log()],
        ["tanh"] = (_, x) => [x[0].Tanh()],
        ["sigmoid"] = (_, x) => [x[0].Sigmoid()],
        ["relu"] = (_, x) => [x[0].Relu()],
        ["softplus"] = (_, x) => [x[0].Softplus()],
        ["logsigmoid"] = (_, x) => [x[0].LogSigmoid()],
        ["sqrt"] = (_, x) => [x[0].Sqrt()],
        ["pow"] = (c, x) => [x[0].Pow(c.Float("p"))],
        ["sum"] = (c, x) => [x[0].Sum(c.Int("axis"), c.Bool("keepdim"))],
        ["mean"] = (c, x) => [x[0].Mean(c.Int("axis"), c.Bool("keepdim"))],
        ["max"] = (c, x) => [x[0].Max(c.Int("axis"), c.Bool("keepdim"))],
        ["logsumexp"] = (c, x) => [x[0].LogSumExp(c.Int("axis"), c.Bool("keepdim"))],
        ["sum_all"] = (_, x) => [x[0].Sum()],
        ["mean_all"] = (_, x) => [x[0].Mean()],
        ["matmul"] = (c, x) => [Tensor.MatMul(x[0], x[1], c.Bool("transposeA"), c.Bool("transposeB"))],
        ["transpose"] = (c, x) => [x[0].Transpose(c.Int("axis0"), c.Int("axis1"))],
        ["permute"] = (c, x) => [x[0].Permute(c.Ints("perm"))],
        ["reshape"] = (c, x) => [x[0].Reshape(c.Ints("shape"))],
        ["expand"] = (c, x) => [x[0].Expand(c.Ints("shape"))],
        ["unsqueeze"] = (c, x) => [x[0].Unsqueeze(c.Int("axis"))],
        ["cat"] = (c, x) => [Tensor.Cat(x, c.Int("axis"))],
        ["stack"] = (c, x) => [Tensor.Stack(x, c.Int("axis"))],
        ["narrow"] = (c, x) => [x[0].Narrow(c.Int("axis"), c.Int("start"), c.Int("length"))],
        ["split"] = (c, x) => x[0].Split(c.Int("size"), c.Int("axis")),
        ["split_sizes"] = (c, x) => x[0].Split(c.Ints("sizes"), c.Int("axis")),
        ["chunk"] = (c, x) => x[0].Chunk(c.Int("chunks"), c.Int("axis")),
        ["index_select"] = (c, x) => [x[0].IndexSelect(c.Ints("indices"))],
        ["gather"] = (c, x) => [x[0].Gather(c.Ints("indices"))],
        ["softmax"] = (c, x) => [x[0].Softmax(c.Int("axis"))],
        ["log_softmax"] = (c, x) => [x[0].LogSoftmax(c.Int("axis"))],
        ["cross_entropy"] = (c, x) => [Tensor.CrossEntropy(x[0], c.Ints("targets"), ReductionOf(c))],
        ["nll_loss"] = (c, x) => [Tensor.NllLoss(x[0], c.Ints("targets"), ReductionOf(c))],
    };

    private static Reduction ReductionOf(OpCase c) => c.Str("reduction") switch
    {
        "mean" => Reduction.Mean,
        "sum" => Reduction.Sum,
        var r => throw new ArgumentException($"case '{c.Name}': unknown reduction '{r}'"),
    };

    [SkippableTheory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_backward_match_pytorch(string name)
    {
        var c = Fixtures.Op(name);
        Assert.True(Runners.TryGetValue(c.Op, out var run), $"case '{name}': no runner for op '{c.Op}'");
        var inputs = c.Inputs.Select(t => t.ToTensor().RequireGrad()).ToArray();

        var outputs = run!(c, inputs);
        Assert.True(outputs.Length == c.Outputs.Length, $"case '{name}': {outputs.Length} outputs, expected {c.Outputs.Length}");
        for (int k = 0; k < outputs.Length; k++)
            Fixtures.AssertClose(name, $"output {k}", c.Outputs[k], outputs[k], ValueRtol, Atol);

        if (outputs.Length == 1)
        {
            outputs[0].Backward(c.Upstream[0].ToTensor());
        }
        else
        {
            // Several outputs of one graph: one backward through L = Σₖ sum(outₖ ⊙ Rₖ).
            Tensor loss = (outputs[0] * c.Upstream[0].ToTensor()).Sum();
            for (int k = 1; k < outputs.Length; k++) loss += (outputs[k] * c.Upstream[k].ToTensor()).Sum();
            loss.Backward();
        }

        // A case may carry a looser gradient tolerance; the fixture then says why (see make_fixtures.py).
        double gradRtol = c.GradRtol ?? GradRtol;
        for (int i = 0; i < inputs.Length; i++)
        {
            var grad = inputs[i].Grad;
            Assert.True(grad is not null, $"case '{name}': input {i} got no gradient");
            Fixtures.AssertClose(name, $"grad of input {i}", c.Grads[i], grad!, gradRtol, Atol);
        }
    }

    [SkippableFact]
    public void Fixture_has_a_runner_for_every_op_and_covers_every_family()
    {
        var ops = Fixtures.Ops.Cases.Select(c => c.Op).ToHashSet();
        Assert.Empty(ops.Except(Runners.Keys));
        Assert.Empty(Runners.Keys.Except(ops));
        var names = Fixtures.Ops.Cases.Select(c => c.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [SkippableFact]
    public void Looser_tolerances_are_rare_and_explained()
    {
        foreach (var c in Fixtures.Ops.Cases.Where(c => c.GradRtol is not null))
        {
            Assert.False(string.IsNullOrWhiteSpace(c.GradRtolWhy), $"case '{c.Name}' loosens the gradient tolerance without a reason");
            Assert.True(c.GradRtol <= 1e-3, $"case '{c.Name}': gradient tolerance {c.GradRtol} is too loose");
        }
        Assert.True(Fixtures.Ops.Cases.Count(c => c.GradRtol is not null) <= 2);
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class OpParityTestsCpu() : OpParityTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class OpParityTestsCuda() : OpParityTests(Device.Cuda);
