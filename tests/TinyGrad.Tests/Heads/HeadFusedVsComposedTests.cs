namespace TinyGrad.Tests.Heads;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.NN;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.Backends;
using TinyGrad.Tests.Parity;

// Each fused head against the same head composed from primitive ops through the tape, at sizes that are not
// multiples of the SIMD width or of the chunk, for every chunk size from one row up: values, losses and every
// gradient. The composed path is the one the PyTorch fixtures also hold (HeadParityTests).
public abstract class HeadFusedVsComposedTests(Device device) : OnDevice(device)
{
    private const int N = 13, D = 7, V = 37, K = 4, E = 6;
    private const double ValueRtol = 1e-5, GradRtol = 1e-4, Atol = 1e-6;

    public static TheoryData<HeadKind, int> Cases()
    {
        var data = new TheoryData<HeadKind, int>();
        foreach (var kind in new[] { HeadKind.Softmax, HeadKind.Sigsoftmax }) data.Add(kind, 0);
        foreach (var kind in new[] { HeadKind.Mos, HeadKind.Moss })
            foreach (int chunk in new[] { 1, 5, 13, 100 }) data.Add(kind, chunk);
        return data;
    }

    internal static OutputHead MakeHead(HeadKind kind, int chunk, ulong seed = 7)
    {
        var head = OutputHead.Create(kind, D, V, new Generator(seed), E, K);
        // Logits of a few units, so that the normalisers are far from uniform and the sigmoid is not linear.
        var state = head.StateDict();
        state["decoder.weight"] = state["decoder.weight"] * 3f;
        head.LoadStateDict(state);
        if (head is MixtureHead m && chunk > 0) m.ChunkRows = chunk;
        return head;
    }

    internal static (Tensor Hidden, int[] Targets) Batch(ulong seed = 11)
    {
        var g = new Generator(seed);
        var hidden = Tensor.Randn([N, D], g).Mul(1.5f).Detach().RequireGrad();
        var targets = Enumerable.Range(0, N).Select(_ => g.NextInt(V)).ToArray();
        return (hidden, targets);
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Fused_log_probs_match_composed_values_and_gradients(HeadKind kind, int chunk)
    {
        var upstream = Tensor.Randn([N, V], new Generator(5));
        var (fused, fusedGrads) = Run(kind, chunk, (h, x) => h.LogProbs(x), upstream);
        var (composed, composedGrads) = Run(kind, chunk, (h, x) => h.LogProbsComposed(x), upstream);
        Fixtures.AssertClose(HeadKinds.Name(kind), "log_probs", [N, V], composed, fused, ValueRtol, Atol);
        AssertSameGrads(kind, "log_probs", composedGrads, fusedGrads);
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Fused_nll_matches_composed_value_and_gradients(HeadKind kind, int chunk)
    {
        var (_, targets) = Batch();
        foreach (var reduction in new[] { Reduction.Sum, Reduction.Mean })
        {
            var (fused, fusedGrads) = Run(kind, chunk, (h, x) => h.Nll(x, targets, reduction), null);
            var (composed, composedGrads) = Run(kind, chunk, (h, x) => h.NllComposed(x, targets, reduction), null);
            Fixtures.AssertClose(HeadKinds.Name(kind), $"nll {reduction}", [], composed, fused, ValueRtol, Atol);
            AssertSameGrads(kind, $"nll {reduction}", composedGrads, fusedGrads);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Fused_nll_scales_its_gradients_by_the_upstream_gradient(HeadKind kind, int chunk)
    {
        // The training path computes dz for an upstream gradient of 1 during the forward pass and scales the
        // backward's GEMMs by the real one: −2.5·loss (through a Mul, so gy = −2.5) must match the composed head.
        var (_, targets) = Batch();
        var (fused, fusedGrads) = Run(kind, chunk, (h, x) => h.Nll(x, targets) * -2.5f, null);
        var (composed, composedGrads) = Run(kind, chunk, (h, x) => h.NllComposed(x, targets) * -2.5f, null);
        Fixtures.AssertClose(HeadKinds.Name(kind), "scaled nll", [], composed, fused, ValueRtol, Atol);
        AssertSameGrads(kind, "scaled nll", composedGrads, fusedGrads);
    }

    [SkippableFact]
    public void Fused_nll_without_gradients_gives_the_same_loss()
    {
        // Under NoGrad the head takes its forward-only kernel; the loss must equal the training path's.
        var (_, targets) = Batch();
        var head = MakeHead(HeadKind.Sigsoftmax, 0);
        var (hidden, _) = Batch();
        var loss = head.Nll(hidden, targets);
        float training = loss.Item();
        loss.Backward(); // releases the graph
        float eval;
        using (Autograd.NoGrad()) eval = head.Nll(hidden, targets).Item();
        Assert.Equal(training, eval, 6);
    }

    [SkippableTheory]
    [InlineData(HeadKind.Softmax)]
    [InlineData(HeadKind.Mos)]
    public void A_decoder_tied_to_an_embedding_gets_both_gradients(HeadKind kind)
    {
        // Tie the decoder to an embedding [V, in], look some words up, and check the shared gradient against
        // the composed head: the fused backward must add into the tensor, not replace what the lookup put there.
        var results = new List<float[]>();
        foreach (bool fused in new[] { true, false })
        {
            var head = MakeHead(kind, 5);
            var embedding = new Embedding(V, head.Decoder.InFeatures, new Generator(3));
            head.Decoder.Weight = embedding.Weight;
            var (hidden, targets) = Batch();
            var looked = embedding.Forward([1, 4, 4, 9], 4).Sum();
            var loss = (fused ? head.Nll(hidden, targets) : head.NllComposed(hidden, targets)) + looked;
            loss.Backward();
            results.Add(embedding.Weight.Grad!.ToArray());
        }
        Fixtures.AssertClose(HeadKinds.Name(kind), "tied weight grad", [results[0].Length], results[1], results[0], GradRtol, Atol);
    }

    private static (float[] Output, Dictionary<string, float[]> Grads) Run(HeadKind kind, int chunk, Func<OutputHead, Tensor, Tensor> f, Tensor? upstream)
    {
        int before = Autograd.TapeLength; // other tests' graphs may sit on this thread's tape
        var head = MakeHead(kind, chunk);
        var (hidden, _) = Batch();
        var y = f(head, hidden);
        if (upstream is null) y.Backward();
        else y.Backward(upstream);
        var grads = head.NamedParameters().ToDictionary(p => p.Key, p => p.Value.Grad!.ToArray());
        grads["hidden"] = hidden.Grad!.ToArray();
        Assert.Equal(before, Autograd.TapeLength); // backward freed exactly this graph
        return (y.ToArray(), grads);
    }

    private static void AssertSameGrads(HeadKind kind, string what, Dictionary<string, float[]> expected, Dictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, want) in expected)
            Fixtures.AssertClose(HeadKinds.Name(kind), $"{what} grad {name}", [want.Length], want, actual[name], GradRtol, Atol);
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class HeadFusedVsComposedTestsCpu() : HeadFusedVsComposedTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class HeadFusedVsComposedTestsCuda() : HeadFusedVsComposedTests(Device.Cuda);
