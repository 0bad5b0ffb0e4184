namespace TinyGrad.Tests.Heads;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.Backends;

// Finite differences on the fused ops: every head, both outputs (NLL and the full log-probability matrix),
// with respect to the hidden states and every parameter at once, with chunks smaller than the batch.
public abstract class HeadGradCheckTests(Device device) : OnDevice(device)
{
    private const int N = 5, D = 3, V = 6, K = 2, E = 3;

    public static TheoryData<HeadKind> Kinds => new(HeadKind.Softmax, HeadKind.Sigsoftmax, HeadKind.Mos, HeadKind.Moss);

    private static (OutputHead Head, Tensor[] Inputs, int[] Targets) Setup(HeadKind kind)
    {
        var head = OutputHead.Create(kind, D, V, new Generator(21), E, K);
        if (head is MixtureHead m) m.ChunkRows = 2;
        // Larger decoder weights make the experts disagree, so the prior's gradient stands well above the
        // float32 noise of a finite difference (|L| ε / h ≈ 5e-4 at the default step).
        var state = head.StateDict();
        state["decoder.weight"] = state["decoder.weight"] * 4f;
        head.LoadStateDict(state);
        var g = new Generator(22);
        var hidden = Tensor.Randn([N, D], g).Mul(2f).Detach().RequireGrad();
        int[] targets = [.. Enumerable.Range(0, N).Select(_ => g.NextInt(V))];
        return (head, [hidden, .. head.Parameters()], targets);
    }

    [SkippableTheory]
    [MemberData(nameof(Kinds))]
    public void Fused_nll_passes_gradcheck(HeadKind kind)
    {
        var (head, inputs, targets) = Setup(kind);
        // A 1e-2 step: the loss is one scalar of size ~10, whose float32 rounding over the default 1e-3 step
        // (|L|·ε/h ≈ 1e-3) would eat half the tolerance; the truncation error at 1e-2 is still ~1e-4.
        GradCheck.Assert(x => head.Nll(x[0], targets, Reduction.Sum), inputs, eps: 1e-2);
    }

    [SkippableTheory]
    [MemberData(nameof(Kinds))]
    public void Fused_log_probs_pass_gradcheck(HeadKind kind)
    {
        var (head, inputs, _) = Setup(kind);
        GradCheck.Assert(x => head.LogProbs(x[0]), inputs);
    }

    [SkippableFact]
    public void Gradcheck_catches_a_sigsoftmax_backward_without_its_two_minus_sigma_factor()
    {
        // The negative control: the softmax's gradient p − onehot used for the sigsoftmax. The check must fail.
        int[] targets = [2, 0, 5];
        var z = Tensor.Randn([3, V], new Generator(23)).Mul(2f).Detach().RequireGrad();
        Tensor Wrong(Tensor[] x) => Autograd.Function("sigsoftmax_nll_wrong", x,
            () => Tensor.NllLoss((x[0] + x[0].LogSigmoid()).LogSoftmax(), targets, Reduction.Sum),
            gy =>
            {
                var w = x[0] + x[0].LogSigmoid();
                var p = (w - w.LogSumExp(1, keepdim: true)).Exp().ToArray();
                for (int r = 0; r < targets.Length; r++) p[r * V + targets[r]] -= 1f;
                return [Tensor.FromArray(p, 3, V) * gy];
            });
        var result = GradCheck.Check(Wrong, [z]);
        Assert.False(result.Passed, result.Report);
        Assert.True(result.MaxError > 1e-2, result.Report);
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class HeadGradCheckTestsCpu() : HeadGradCheckTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class HeadGradCheckTestsCuda() : HeadGradCheckTests(Device.Cuda);
