namespace TinyGrad.Tests.Heads;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.Backends;

// Numerical stability is part of correctness: logits of ±1e4, rows whose logits are all ≤ −1e4, and a prior
// with all its mass on one expert give finite, correct values and gradients in float32.
public abstract class HeadStabilityTests(Device device) : OnDevice(device)
{
    private const int D = 3, V = 5, K = 3, E = 2;

    public static TheoryData<HeadKind> Kinds => new(HeadKind.Softmax, HeadKind.Sigsoftmax, HeadKind.Mos, HeadKind.Moss);

    /// <summary>A head whose decoder turns every row into the same logits z = bias (weight 0).</summary>
    private static OutputHead ConstantLogits(HeadKind kind, float[] bias, float[]? priorColumn = null)
    {
        var head = OutputHead.Create(kind, D, V, new Generator(1), E, K);
        var state = head.StateDict();
        state["decoder.weight"] = Tensor.Zeros(state["decoder.weight"].Shape);
        state["decoder.bias"] = Tensor.FromArray(bias);
        if (priorColumn is not null)
        {
            // Prior logits = W_π·g with g = (1, 0, 0): column 0 of W_π.
            var prior = new float[K * D];
            for (int k = 0; k < K; k++) prior[k * D] = priorColumn[k];
            state["prior.weight"] = Tensor.FromArray(prior, K, D);
        }
        head.LoadStateDict(state);
        return head;
    }

    private static Tensor Hidden(int rows) => Tensor.FromArray([.. Enumerable.Range(0, rows * D).Select(i => i % D == 0 ? 1f : 0f)], rows, D).RequireGrad();

    [SkippableTheory]
    [MemberData(nameof(Kinds))]
    public void Rows_of_equal_logits_at_minus_1e4_give_the_uniform_distribution(HeadKind kind)
    {
        var head = ConstantLogits(kind, [-1e4f, -1e4f, -1e4f, -1e4f, -1e4f]);
        var hidden = Hidden(2);
        var logProbs = head.LogProbs(hidden).ToArray();
        Assert.All(logProbs, x => Assert.Equal(-MathF.Log(V), x, 5));
        var loss = head.Nll(hidden, [0, 3], Reduction.Mean);
        Assert.Equal(MathF.Log(V), loss.Item(), 5);
        loss.Backward();
        // dL/db_j = mean over rows of (1/V − [j = t])·w'(z), with w' = 1 (softmax) or 2 − σ(−1e4) = 2 (sigsoftmax).
        float slope = head.Normalizer == Normalizer.Softmax ? 1f : 2f;
        var db = head.Decoder.Bias!.Grad!.ToArray();
        float[] expected = [.. Enumerable.Range(0, V).Select(j => slope * (1f / V - ((j == 0 ? 1f : 0f) + (j == 3 ? 1f : 0f)) / 2f))];
        for (int j = 0; j < V; j++) Assert.Equal(expected[j], db[j], 5);
    }

    [SkippableTheory]
    [MemberData(nameof(Kinds))]
    public void Logits_of_plus_and_minus_1e4_give_finite_values_and_gradients(HeadKind kind)
    {
        float[] bias = [1e4f, -1e4f, 1e4f, 0f, -1e4f];
        var head = ConstantLogits(kind, bias);
        var hidden = Hidden(3);
        var logProbs = head.LogProbs(hidden);
        logProbs.CheckFinite("log_probs");
        // Two words tie at 1e4 and share the mass: log p = −ln 2 for them, ≈ −1e4 or −2e4 for the rest.
        var row = logProbs.ToArray()[..V];
        Assert.Equal(-MathF.Log(2), row[0], 5);
        Assert.Equal(-MathF.Log(2), row[2], 5);
        Assert.True(row[1] < -1.9e4f && row[4] < -1.9e4f && row[3] < -9e3f);
        (logProbs * Tensor.Randn([3, V], new Generator(2))).Sum().Backward();
        foreach (var (name, p) in head.NamedParameters()) p.Grad?.CheckFinite(name);
        hidden.Grad!.CheckFinite("hidden");

        head.ZeroGrad();
        hidden.ZeroGrad();
        var loss = head.Nll(hidden, [1, 0, 3], Reduction.Sum);
        // Row 0 predicts a −1e4 word: a loss near 2e4 (3e4 for the sigsoftmax, whose w = z + log σ(z) ≈ 2z there).
        Assert.True(float.IsFinite(loss.Item()) && loss.Item() > 1.9e4f, $"loss {loss.Item()}");
        loss.Backward();
        foreach (var (name, p) in head.NamedParameters()) p.Grad?.CheckFinite(name);
        hidden.Grad!.CheckFinite("hidden");
    }

    [SkippableTheory]
    [InlineData(HeadKind.Mos)]
    [InlineData(HeadKind.Moss)]
    public void A_prior_with_all_its_mass_on_one_expert_gives_that_experts_distribution(HeadKind kind)
    {
        // Prior logits (1e4, −1e4, 0): log π = (0, −2e4, −1e4). The latent layer is random, so the experts differ.
        var head = ConstantLogits(kind, [0.5f, -1f, 2f, 0f, 1f], [1e4f, -1e4f, 0f]);
        var state = head.StateDict();
        state["decoder.weight"] = Tensor.Randn(state["decoder.weight"].Shape, new Generator(4)).Mul(3f);
        head.LoadStateDict(state);
        var hidden = Hidden(2);
        var mixture = (MixtureHead)head;
        var logProbs = head.LogProbs(hidden);
        logProbs.CheckFinite("log_probs");

        // Expert 0 alone: normalise(W·h₀ + b) with h₀ = tanh(latent(g))[0..E).
        using (Autograd.NoGrad())
        {
            var h0 = mixture.Latent.Forward(hidden.Detach()).Tanh().Narrow(1, 0, E);
            var z = mixture.Decoder.Forward(h0);
            var expert = head.Normalizer == Normalizer.Softmax ? z.LogSoftmax() : (z + z.LogSigmoid()).LogSoftmax();
            var want = expert.ToArray();
            var got = logProbs.ToArray();
            for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[i], 5);
        }

        var loss = head.Nll(hidden, [2, 4], Reduction.Mean);
        loss.Backward();
        foreach (var (name, p) in head.NamedParameters()) p.Grad!.CheckFinite(name);
        hidden.Grad!.CheckFinite("hidden");
        // The prior's gradient vanishes: its softmax is saturated, so no finite step moves it.
        Assert.All(mixture.Prior.Weight.Grad!.ToArray(), x => Assert.Equal(0f, x, 6));
    }

    [SkippableFact]
    public void The_subtract_max_then_multiply_by_sigma_form_is_nan_where_ours_is_not()
    {
        // Why the sigsoftmax is computed in log space: e^(z − max z)·σ(z) underflows to 0 for every word of a
        // row whose logits are all ≤ −1e4, and the normaliser is 0/0.
        var z = Tensor.FromArray([-1e4f, -1.0001e4f, -1.0002e4f], 1, 3);
        var shortcut = (z - z.Max(1, keepdim: true)).Exp() * z.Sigmoid();
        var naive = shortcut / shortcut.Sum(1, keepdim: true);
        Assert.All(naive.ToArray(), x => Assert.True(float.IsNaN(x)));

        var head = new SigsoftmaxHead(1, 3, new Generator(0));
        head.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["decoder.weight"] = Tensor.Zeros(3, 1),
            ["decoder.bias"] = z.Reshape(3),
        });
        var logProbs = head.LogProbs(Tensor.Zeros(1, 1)).ToArray();
        // w = z + log σ(z) ≈ 2z here, so consecutive words differ by 2 in log-probability.
        Assert.All(logProbs, x => Assert.True(float.IsFinite(x)));
        Assert.Equal(-2f, logProbs[1] - logProbs[0], 3);
        Assert.Equal(1.0, logProbs.Sum(x => Math.Exp(x)), 5);
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class HeadStabilityTestsCpu() : HeadStabilityTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class HeadStabilityTestsCuda() : HeadStabilityTests(Device.Cuda);
