namespace TinyGrad.Tests.Ops;

using System.Runtime.Intrinsics;
using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Backends.Cpu;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.Backends;

// Huge but finite inputs get the mathematically right answer, on every SIMD path: tanh(±huge) = ±1, σ(huge) = 1,
// σ(−huge) = 0, softplus(huge) = huge, log σ(−huge) = −huge, e^huge = ∞ (the correctly rounded float). .ci/run runs
// this suite with AVX-512, with AVX2 only and with neither (the portable Vector128 path), so each kernel's SIMD body
// and its scalar tail are both held to a double-precision reference here.
public abstract class HugeInputTests(Device device) : OnDevice(device)
{
    /// <summary>Huge, ordinary and infinite inputs; 23 of them, so a SIMD body of 8 or 16 lanes leaves a scalar tail.</summary>
    internal static readonly float[] Inputs =
    [
        -float.MaxValue, -3e38f, -1e30f, -1e10f, -1e4f, -100f, -20f, -1f, -1e-30f, 0f, 1e-30f, 1f, 20f, 100f,
        1e4f, 1e10f, 1e30f, 3e38f, float.MaxValue, float.NegativeInfinity, float.PositiveInfinity, -0.5f, 0.25f,
    ];

    public static TheoryData<string> Ops => new("exp", "tanh", "sigmoid", "softplus", "logsigmoid", "relu", "neg");

    internal static double Reference(string op, double x) => op switch
    {
        "exp" => Math.Exp(x),
        "tanh" => Math.Tanh(x),
        "sigmoid" => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x)),
        "softplus" => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))),
        "logsigmoid" => Math.Min(x, 0) - Math.Log(1 + Math.Exp(-Math.Abs(x))),
        "relu" => Math.Max(x, 0),
        "neg" => -x,
        _ => throw new ArgumentException(op),
    };

    // The derivative, as the backward computes it: 0 wherever the function is flat in float32.
    internal static double ReferenceGrad(string op, double x) => op switch
    {
        "exp" => Math.Exp(x),
        "tanh" => 1 - Math.Tanh(x) * Math.Tanh(x),
        "sigmoid" => Reference("sigmoid", x) * Reference("sigmoid", -x),
        "softplus" => Reference("sigmoid", x),
        "logsigmoid" => Reference("sigmoid", -x),
        "relu" => x > 0 ? 1 : 0,
        "neg" => -1,
        _ => throw new ArgumentException(op),
    };

    private static Tensor Apply(string op, Tensor x) => op switch
    {
        "exp" => x.Exp(),
        "tanh" => x.Tanh(),
        "sigmoid" => x.Sigmoid(),
        "softplus" => x.Softplus(),
        "logsigmoid" => x.LogSigmoid(),
        "relu" => x.Relu(),
        "neg" => x.Neg(),
        _ => throw new ArgumentException(op),
    };

    /// <summary>float32 agreement with a double reference: the same infinity, or within a few ulp (1e−38 absolute near 0).</summary>
    internal static void Near(double want, float got, string what, double absolute = 1e-38)
    {
        float w = (float)want; // the correctly rounded float: ±∞ where the value overflows
        if (float.IsInfinity(w) || float.IsNaN(w))
        {
            Assert.True(w.Equals(got), $"{what}: want {w}, got {got}");
            return;
        }
        Assert.True(float.IsFinite(got), $"{what}: want {w}, got {got}");
        Assert.True(Math.Abs(got - want) <= 4e-7 * Math.Abs(want) + absolute, $"{what}: want {want:G9}, got {got:G9}");
    }

    [SkippableTheory]
    [MemberData(nameof(Ops))]
    public void Each_unary_op_is_right_on_huge_and_infinite_inputs(string op)
    {
        foreach (int n in new[] { Inputs.Length, 64 + 7 }) // one short vector, and one long enough for full SIMD bodies
        {
            var data = new float[n];
            for (int i = 0; i < n; i++) data[i] = Inputs[i % Inputs.Length];
            var y = Apply(op, Tensor.FromArray(data, n)).ToArray();
            for (int i = 0; i < n; i++)
            {
                // σ(−100) = 3.7e−44 lies in the subnormals: 1/(1 + e¹⁰⁰) rounds it to 0. Within 1e−38 of the truth is right here.
                Near(Reference(op, data[i]), y[i], $"{op}({data[i]}) at index {i} of {n}");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Ops))]
    public void Each_unary_ops_gradient_is_right_on_huge_inputs(string op)
    {
        // Finite inputs only: the gradient at ±∞ is a limit the chain rule cannot form (∞·0).
        float[] data = [.. Inputs.Where(float.IsFinite)];
        if (op == "exp") data = [.. data.Where(x => x < 80f)]; // e^x overflows: its gradient is ∞ too, which Near already covers
        var x = Tensor.FromArray(data, data.Length).RequireGrad();
        Apply(op, x).Sum().Backward();
        var g = x.Grad!.ToArray();
        // The backward forms y(1 − y) and 1 − y², as PyTorch's do: right to 1e−7 absolute, the rounding of y near 1
        // (σ'(20) = 2e−9 comes out 0). The tails themselves are exact: 0 at ±huge, σ(x) and σ(−x) for the softplus family.
        for (int i = 0; i < data.Length; i++) Near(ReferenceGrad(op, data[i]), g[i], $"d{op}/dx at {data[i]}", absolute: 1.2e-7);
    }

    [SkippableFact]
    public void LogSoftmax_and_cross_entropy_are_right_on_rows_of_huge_logits()
    {
        float[] row = [1e30f, -1e30f, 0f, 3e38f, 5f, -3e38f];
        var x = Tensor.FromArray(row, 1, row.Length).RequireGrad();
        var logp = x.LogSoftmax().ToArray();
        // log p_j = z_j − max z (the other terms of the sum underflow): −3e38 − 3e38 overflows to −∞ in float.
        // The row's maximum itself gets log p = −log(1 + e^(−huge)) = 0, within a rounding of e⁰ (2.4e−7 absolute).
        for (int j = 0; j < row.Length; j++) Near((double)row[j] - (double)3e38f, logp[j], $"log_softmax[{j}]", absolute: 2.4e-7);
        var loss = Tensor.CrossEntropy(x, [1]);
        Near((double)3e38f + 1e30, loss.Item(), "cross-entropy of the −1e30 word");
        loss.Backward();
        var g = x.Grad!.ToArray();
        double[] want = [0, -1, 0, 1, 0, 0]; // p − onehot
        for (int j = 0; j < row.Length; j++) Near(want[j], g[j], $"d loss/dz[{j}]", absolute: 2.4e-7);
    }

    [SkippableFact]
    public void An_lstm_layer_is_right_with_huge_gate_preactivations()
    {
        // Weights 0, biases ±huge: every gate pre-activation is its bias. i, f, o = σ(±huge) ∈ {0, 1}, g = tanh(±huge) = ±1.
        const int H = 19, B = 3, T = 2; // 19: a Vector256 body of 16 and a scalar tail of 3
        var rnd = new Random(5);
        float[] huge = [3e38f, -3e38f, 1e30f, -1e30f, 1e10f, -1e10f, float.MaxValue, -float.MaxValue];
        float[] biasIh = [.. Enumerable.Range(0, 4 * H).Select(_ => huge[rnd.Next(huge.Length)])];
        float[] biasHh = [.. Enumerable.Range(0, 4 * H).Select(j => MathF.Sign(biasIh[j]) * 1e4f)]; // same sign: the sum stays finite
        var c0Data = Enumerable.Range(0, B * H).Select(_ => (float)(rnd.NextDouble() * 4 - 2)).ToArray();
        var x = Tensor.Randn([T, B, 5], new Generator(7)).RequireGrad();
        var h0 = Tensor.Zeros(B, H).RequireGrad();
        var c0 = Tensor.FromArray(c0Data, B, H).RequireGrad();
        var wih = Tensor.Zeros(4 * H, 5).RequireGrad();
        var whh = Tensor.Zeros(4 * H, H).RequireGrad();
        var bih = Tensor.FromArray(biasIh, 4 * H).RequireGrad();
        var bhh = Tensor.FromArray(biasHh, 4 * H).RequireGrad();
        var (output, hT, cT) = Tensor.LstmLayer(x, h0, c0, wih, whh, bih, bhh);

        // The double-precision reference, step by step.
        var c = c0Data.Select(v => (double)v).ToArray();
        var outs = output.ToArray();
        for (int t = 0; t < T; t++)
        {
            for (int b = 0; b < B; b++)
            {
                for (int j = 0; j < H; j++)
                {
                    double Pre(int gate) => (double)biasIh[gate * H + j] + biasHh[gate * H + j];
                    double i = Reference("sigmoid", Pre(0)), f = Reference("sigmoid", Pre(1)), g = Math.Tanh(Pre(2)), o = Reference("sigmoid", Pre(3));
                    c[b * H + j] = f * c[b * H + j] + i * g;
                    Near(o * Math.Tanh(c[b * H + j]), outs[(t * B + b) * H + j], $"h[{t},{b},{j}]");
                }
            }
        }
        var cFinal = cT.ToArray();
        for (int k = 0; k < B * H; k++) Near(c[k], cFinal[k], $"c_T[{k}]");

        (output.Sum() + cT.Sum() + hT.Sum()).Backward();
        foreach (var (name, t) in new[] { ("x", x), ("h0", h0), ("c0", c0), ("W_ih", wih), ("W_hh", whh), ("b_ih", bih), ("b_hh", bhh) })
            t.Grad!.CheckFinite(name);
        // Saturated gates pass no gradient to their pre-activations: σ' = σ(1 − σ) = 0 and tanh' = 1 − tanh² = 0.
        Assert.All(bih.Grad!.ToArray(), v => Assert.Equal(0f, v));
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class HugeInputTestsCpu() : HugeInputTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class HugeInputTestsCuda() : HugeInputTests(Device.Cuda);

/// <summary>The CPU's own vector math, lane by lane: the helpers the fused LSTM cell calls.</summary>
public sealed class CpuMathHugeInputTests
{
    [Theory]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    public void Vector_tanh_and_sigmoid_are_right_in_every_lane(string op)
    {
        var inputs = HugeInputTests.Inputs;
        for (int start = 0; start < inputs.Length; start += Vector256<float>.Count)
        {
            var lanes = new float[Vector256<float>.Count];
            for (int k = 0; k < lanes.Length; k++) lanes[k] = inputs[(start + k) % inputs.Length];
            var v = Vector256.Create(lanes);
            var y = op == "tanh" ? CpuMath.Tanh(v) : CpuMath.Sigmoid(v);
            for (int k = 0; k < lanes.Length; k++) HugeInputTests.Near(HugeInputTests.Reference(op, lanes[k]), y.GetElement(k), $"{op}({lanes[k]})");
        }
    }
}

/// <summary>The four output heads on rows of huge logits: log-probabilities, the NLL and its gradient, fused and plain.</summary>
public abstract class HeadHugeInputTests(Device device) : OnDevice(device)
{
    private const int D = 3, E = 2, K = 3;

    // 37 words: a SIMD body plus a tail in every row kernel. Huge of both signs, ordinary values and a near-tie at 3e38.
    private static readonly float[] Bias =
        [.. Enumerable.Range(0, 37).Select(j => (j % 9) switch { 0 => 1e30f, 1 => -1e30f, 2 => 0f, 3 => j == 3 ? 3e38f : -5f, 4 => 5f, 5 => -1e4f, 6 => 1e10f, 7 => -3e38f, _ => 0.5f })];

    public static TheoryData<HeadKind> Kinds => new(HeadKind.Softmax, HeadKind.Sigsoftmax, HeadKind.Mos, HeadKind.Moss);

    [SkippableTheory]
    [MemberData(nameof(Kinds))]
    public void Every_head_is_right_on_huge_logits(HeadKind kind)
    {
        int v = Bias.Length;
        var head = TinyGrad.NN.Heads.OutputHead.Create(kind, D, v, new Generator(1), E, K);
        var state = head.StateDict();
        state["decoder.weight"] = Tensor.Zeros(state["decoder.weight"].Shape); // z = bias in every row (and every expert)
        state["decoder.bias"] = Tensor.FromArray(Bias);
        head.LoadStateDict(state);
        bool sig = head.Normalizer == Normalizer.Sigsoftmax;

        // The reference in double: w = z (+ log σ(z)), log p = w − logsumexp(w); every expert is the same distribution.
        double[] w = [.. Bias.Select(z => sig ? z + HugeInputTests.Reference("logsigmoid", z) : (double)z)];
        double m = w.Max(), lse = m + Math.Log(w.Sum(x => Math.Exp(x - m)));
        double[] logp = [.. w.Select(x => x - lse)];

        int[] targets = [1, 3, 1, 4]; // the −1e30 word twice: the summed loss (6e38) overflows, the mean (3e38) does not
        int n = targets.Length;
        var hidden = Tensor.Randn([n, D], new Generator(3)).RequireGrad();
        var got = head.LogProbs(hidden).ToArray();
        for (int r = 0; r < n; r++)
            for (int j = 0; j < v; j++) HugeInputTests.Near(logp[j], got[r * v + j], $"{HeadKinds.Name(kind)} log p[{r},{j}] (z = {Bias[j]})", absolute: 2.4e-7);

        double meanNll = targets.Average(t => -logp[t]);
        using (Autograd.NoGrad()) HugeInputTests.Near(meanNll, head.Nll(hidden.Detach(), targets, Reduction.Mean).Item(), $"{HeadKinds.Name(kind)} NLL (no grad)");
        var loss = head.Nll(hidden, targets, Reduction.Mean); // the fused training kernel
        HugeInputTests.Near(meanNll, loss.Item(), $"{HeadKinds.Name(kind)} NLL (training)");
        loss.Backward();
        // ∂L/∂b_j = mean over rows of (p_j − [j = t])·w'_j, with w' = 1, or 2 − σ(z_j) for the sigsoftmax.
        var db = head.Decoder.Bias!.Grad!.ToArray();
        for (int j = 0; j < v; j++)
        {
            double slope = sig ? 2 - HugeInputTests.Reference("sigmoid", Bias[j]) : 1;
            double want = targets.Average(t => Math.Exp(logp[j]) - (j == t ? 1 : 0)) * slope;
            HugeInputTests.Near(want, db[j], $"{HeadKinds.Name(kind)} ∂L/∂b[{j}] (z = {Bias[j]})", absolute: 2.4e-7);
        }
        foreach (var (name, p) in head.NamedParameters()) p.Grad?.CheckFinite(name);
        hidden.Grad!.CheckFinite("hidden");
    }
}

/// <summary>The head suite on the CPU.</summary>
public sealed class HeadHugeInputTestsCpu() : HeadHugeInputTests(Device.Cpu);

/// <summary>The head suite on a CUDA GPU (skipped without one).</summary>
public sealed class HeadHugeInputTestsCuda() : HeadHugeInputTests(Device.Cuda);
