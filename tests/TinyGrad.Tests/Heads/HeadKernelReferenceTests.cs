namespace TinyGrad.Tests.Heads;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Tests.Backends;

// Every head kernel of the backend, row by row, against the plain double-precision definition in
// Ops/Sigsoftmax.cs (NormalizerReference): the fused kernels never become a second, unchecked truth.
// Rows of 37 words (a SIMD body and a scalar tail), logits of scale 1, 30 and 1e4.
public abstract class HeadKernelReferenceTests(Device device) : OnDevice(device)
{
    private const int Rows = 5, V = 37;

    public static TheoryData<Normalizer, float> Cases() => new()
    {
        { Normalizer.Softmax, 1f }, { Normalizer.Sigsoftmax, 1f }, { Normalizer.Softmax, 30f },
        { Normalizer.Sigsoftmax, 30f }, { Normalizer.Softmax, 1e4f }, { Normalizer.Sigsoftmax, 1e4f },
    };

    private IBackend Be => Device.Backend;

    private static float[] Random(int n, float scale, int seed) => HostArrays.Random(n, scale, seed);

    private float[] Read(Storage s, int n) => HostArrays.Read(Be, s, n);

    private static void Close(double want, float got, string what) =>
        Assert.True(Math.Abs(got - want) <= 2e-6 + 2e-6 * Math.Abs(want), $"{what}: want {want:G9}, got {got:G9}");

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Log_normalize_and_its_backward_match_the_reference(Normalizer kind, float scale)
    {
        var z = Random(Rows * V, scale, 1);
        var gy = Random(Rows * V, 1f, 2);
        var zs = Be.FromHost(z);
        var y = Be.Allocate(Rows * V);
        var stats = Be.Allocate(2 * Rows);
        Be.Heads().HeadLogNormalize(kind, zs, y, stats, 0, Rows, V);
        var dz = Be.Allocate(Rows * V);
        Be.Heads().HeadLogNormalizeBackward(kind, zs, stats, Be.FromHost(gy), dz, 0, Rows, V);
        float[] got = Read(y, Rows * V), gotDz = Read(dz, Rows * V);
        for (int r = 0; r < Rows; r++)
        {
            var row = z.AsSpan(r * V, V);
            var want = NormalizerReference.LogProbs(kind, row);
            var wantDz = NormalizerReference.LogProbsBackward(kind, row, gy.AsSpan(r * V, V));
            for (int j = 0; j < V; j++)
            {
                Close(want[j], got[r * V + j], $"{kind} log p[{r},{j}]");
                Close(wantDz[j], gotDz[r * V + j], $"{kind} dz[{r},{j}]");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Nll_and_its_backward_match_the_reference(Normalizer kind, float scale)
    {
        var z = Random(Rows * V, scale, 3);
        int[] targets = [0, 36, 5, 17, 5];
        float[] rowGrad = [1f, 0.5f, -2f, 0.25f, 3f];
        var zs = Be.FromHost(z);
        var loss = Be.Allocate(Rows);
        var stats = Be.Allocate(2 * Rows);
        Be.Heads().HeadNll(kind, zs, targets, loss, stats, 0, Rows, V);
        var dz = Be.Allocate(Rows * V);
        Be.Heads().HeadNllBackward(kind, zs, targets, stats, Be.FromHost(rowGrad), dz, 0, Rows, V);
        float[] gotLoss = Read(loss, Rows), gotDz = Read(dz, Rows * V);
        for (int r = 0; r < Rows; r++)
        {
            var row = z.AsSpan(r * V, V);
            Close(NormalizerReference.Nll(kind, row, targets[r]), gotLoss[r], $"{kind} nll[{r}]");
            var g = NormalizerReference.NllGradient(kind, row, targets[r]);
            for (int j = 0; j < V; j++) Close(rowGrad[r] * g[j], gotDz[r * V + j], $"{kind} dz[{r},{j}]");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void The_fused_training_kernel_matches_the_reference(Normalizer kind, float scale)
    {
        var z = Random(Rows * V, scale, 4);
        var bias = Random(V, scale, 5);
        int[] targets = [1, 1, 36, 0, 20];
        const float s = 0.2f;
        var zs = Be.FromHost(z);
        var loss = Be.Allocate(Rows);
        var dBias = Be.Allocate(V);
        Be.Heads().HeadNllWithGradient(kind, zs, Be.FromHost(bias), targets, loss, s, dBias, Rows, V);
        float[] gotLoss = Read(loss, Rows), gotDz = Read(zs, Rows * V), gotDb = Read(dBias, V);
        var wantDb = new double[V];
        for (int r = 0; r < Rows; r++)
        {
            var row = new float[V];
            for (int j = 0; j < V; j++) row[j] = z[r * V + j] + bias[j]; // the kernel adds the bias in float, as here
            Close(NormalizerReference.Nll(kind, row, targets[r]), gotLoss[r], $"{kind} nll[{r}]");
            var g = NormalizerReference.NllGradient(kind, row, targets[r]);
            for (int j = 0; j < V; j++)
            {
                Close(s * g[j], gotDz[r * V + j], $"{kind} dz[{r},{j}]");
                wantDb[j] += s * g[j];
            }
        }
        for (int j = 0; j < V; j++) Close(wantDb[j], gotDb[j], $"{kind} db[{j}]");
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void The_mixture_kernels_match_the_reference(Normalizer kind, float scale)
    {
        const int K = 3;
        var z = Random(Rows * K * V, scale, 6);
        var logPriorRaw = Random(Rows * K, 2f, 7);
        // A proper log prior per row: log softmax of random numbers.
        var logPrior = new float[Rows * K];
        for (int r = 0; r < Rows; r++)
        {
            var lp = NormalizerReference.LogProbs(Normalizer.Softmax, logPriorRaw.AsSpan(r * K, K));
            for (int k = 0; k < K; k++) logPrior[r * K + k] = (float)lp[k];
        }
        int[] targets = [3, 0, 36, 10, 3];
        int[] rowTargets = [.. Enumerable.Range(0, Rows * K).Select(i => targets[i / K])];

        // Log-probabilities: each expert normalised in place, then the logsumexp over experts.
        var comp = Be.FromHost(z);
        var stats = Be.Allocate(2 * Rows * K);
        Be.Heads().HeadLogNormalize(kind, comp, comp, stats, 0, Rows * K, V);
        var y = Be.Allocate(Rows * V);
        Be.Heads().MixtureLogSumExp(comp, Be.FromHost(logPrior), y, 0, Rows, K, V);
        var gotY = Read(y, Rows * V);

        // The NLL: per-expert losses, then the posterior over experts.
        var compLoss = Be.Allocate(Rows * K);
        Be.Heads().HeadNll(kind, Be.FromHost(z), rowTargets, compLoss, Be.Allocate(2 * Rows * K), 0, Rows * K, V);
        var nll = Be.Allocate(Rows);
        var weights = Be.Allocate(Rows * K);
        Be.Heads().MixturePosterior(Be.FromHost(logPrior), compLoss, nll, weights, 1f, 0, Rows, K);
        float[] gotNll = Read(nll, Rows), gotW = Read(weights, Rows * K);

        for (int r = 0; r < Rows; r++)
        {
            var zr = z.AsSpan(r * K * V, K * V);
            var lp = logPrior.AsSpan(r * K, K);
            var want = NormalizerReference.MixtureLogProbs(kind, lp, zr);
            for (int j = 0; j < V; j++) Close(want[j], gotY[r * V + j], $"{kind} mixture log p[{r},{j}]");
            var (wantNll, posterior) = NormalizerReference.MixtureNll(kind, lp, zr, targets[r]);
            Close(wantNll, gotNll[r], $"{kind} mixture nll[{r}]");
            Close(-want[targets[r]], gotNll[r], $"{kind} mixture nll[{r}] = −log p(t)");
            for (int k = 0; k < K; k++) Close(posterior[k], gotW[r * K + k], $"{kind} posterior[{r},{k}]");
        }
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class HeadKernelReferenceTestsCpu() : HeadKernelReferenceTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class HeadKernelReferenceTestsCuda() : HeadKernelReferenceTests(Device.Cuda);

/// <summary>The composed public ops are the definition: sigsoftmax = e^z·σ(z) / Σ e^z·σ(z), directly.</summary>
public sealed class SigsoftmaxDefinitionTests
{
    [Fact]
    public void Sigsoftmax_is_exp_times_sigmoid_normalised()
    {
        float[] z = [0.5f, -1f, 2f, 0f, -3f];
        var p = Tensor.FromArray(z, 1, 5).Sigsoftmax().ToArray();
        double[] u = [.. z.Select(x => Math.Exp(x) / (1 + Math.Exp(-x)))];
        for (int j = 0; j < z.Length; j++) Assert.Equal(u[j] / u.Sum(), p[j], 6);
        var logp = Tensor.FromArray(z, 1, 5).LogSigsoftmax().ToArray();
        var reference = NormalizerReference.LogProbs(Normalizer.Sigsoftmax, z);
        for (int j = 0; j < z.Length; j++) Assert.Equal(reference[j], logp[j], 6);
    }

    [Fact]
    public void The_reference_gradient_is_f_minus_y_times_two_minus_sigma()
    {
        // Central differences of the reference NLL agree with (f − y)(2 − σ(z)): the derivation, checked numerically.
        float[] z = [0.5f, -1f, 2f, 0f, -3f];
        var g = NormalizerReference.NllGradient(Normalizer.Sigsoftmax, z, 2);
        for (int j = 0; j < z.Length; j++)
        {
            const float h = 1e-3f;
            var plus = (float[])z.Clone();
            var minus = (float[])z.Clone();
            plus[j] += h;
            minus[j] -= h;
            double numeric = (NormalizerReference.Nll(Normalizer.Sigsoftmax, plus, 2) - NormalizerReference.Nll(Normalizer.Sigsoftmax, minus, 2)) / ((double)plus[j] - minus[j]);
            Assert.Equal(numeric, g[j], 5);
        }
        // Negative control: the softmax's gradient (no 2 − σ factor) is not the sigsoftmax's.
        var wrong = NormalizerReference.NllGradient(Normalizer.Softmax, z, 2);
        Assert.NotEqual(Math.Round(wrong[0], 4), Math.Round(g[0], 4));
    }
}
