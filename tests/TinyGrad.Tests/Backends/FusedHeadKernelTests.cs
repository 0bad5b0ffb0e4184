namespace TinyGrad.Tests.Backends;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Tests.Parity;

// The training kernels HeadNllWithGradient and MixtureNllWithGradient against the unfused kernels they replace,
// composed the way IBackend's default implementations compose them (what a backend without a fused version
// runs): bias broadcast, HeadNll, (MixturePosterior,) HeadNllBackward, and the bias-gradient row sum.
public class FusedHeadKernelTests
{
    private const int Cols = 37; // not a multiple of the SIMD width

    public static TheoryData<Normalizer, float> Cases() => new()
    {
        { Normalizer.Softmax, 1f }, { Normalizer.Sigsoftmax, 1f }, { Normalizer.Softmax, 1e4f }, { Normalizer.Sigsoftmax, 1e4f },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void HeadNllWithGradient_matches_the_composed_kernels(Normalizer kind, float magnitude)
    {
        const int rows = 19;
        var be = Device.Cpu.Backend;
        var (z, bias, targets) = Inputs(rows, magnitude, 3);
        const float scale = 0.25f;

        var fz = be.FromHost(z);
        var loss = be.Allocate(rows);
        var dBias = be.Allocate(Cols);
        be.Heads().HeadNllWithGradient(kind, fz, be.FromHost(bias), targets, loss, scale, dBias, rows, Cols);

        var cz = be.FromHost(z);
        be.CopyBlocks(be.FromHost(bias), 0, 0, cz, 0, Cols, Cols, rows, accumulate: true);
        var closs = be.Allocate(rows);
        var stats = be.Allocate(2 * rows);
        be.Heads().HeadNll(kind, cz, targets, closs, stats, 0, rows, Cols);
        var rowGrad = be.Allocate(rows);
        be.Fill(rowGrad, scale);
        be.Heads().HeadNllBackward(kind, cz, targets, stats, rowGrad, cz, 0, rows, Cols);
        var cBias = be.Allocate(Cols);
        be.Reduce(ReduceOp.Sum, cz, cBias, 1, rows, Cols);

        Compare($"{kind} ±{magnitude}", closs, loss, cz, fz, cBias, dBias, rows);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MixtureNllWithGradient_matches_the_composed_kernels(Normalizer kind, float magnitude)
    {
        const int n = 7, experts = 3, first = 2, rows = 4; // a chunk of positions [2, 6) of 7
        var be = Device.Cpu.Backend;
        var (z, bias, _) = Inputs(rows * experts, magnitude, 5);
        var g = new Generator(9);
        var targets = Enumerable.Range(0, n).Select(_ => g.NextInt(Cols)).ToArray();
        var prior = Enumerable.Range(0, n * experts).Select(_ => (float)g.NextGaussian()).ToArray();
        const float scale = 1f / n;

        var fz = be.FromHost(z);
        var loss = be.Allocate(n);
        var weights = be.Allocate(n * experts);
        var dBias = be.FromHost(Enumerable.Repeat(0.5f, Cols).ToArray()); // the kernel adds into it
        be.Heads().MixtureNllWithGradient(kind, fz, be.FromHost(bias), targets, be.FromHost(prior), loss, weights, scale, dBias, first, rows, experts, Cols);

        var rowTargets = Enumerable.Range(0, n * experts).Select(i => targets[i / experts]).ToArray();
        var cz = be.FromHost(z);
        be.CopyBlocks(be.FromHost(bias), 0, 0, cz, 0, Cols, Cols, rows * experts, accumulate: true);
        var compLoss = be.Allocate(n * experts);
        var stats = be.Allocate(2 * n * experts);
        be.Heads().HeadNll(kind, cz, rowTargets, compLoss, stats, first * experts, rows * experts, Cols);
        var closs = be.Allocate(n);
        var cweights = be.Allocate(n * experts);
        be.Heads().MixturePosterior(be.FromHost(prior), compLoss, closs, cweights, scale, first, rows, experts);
        be.Heads().HeadNllBackward(kind, cz, rowTargets, stats, cweights, cz, first * experts, rows * experts, Cols);
        var cBias = be.Allocate(Cols);
        be.Reduce(ReduceOp.Sum, cz, cBias, 1, rows * experts, Cols);
        var expectedBias = Host(cBias).Select(v => v + 0.5f).ToArray();

        string what = $"mixture {kind} ±{magnitude}";
        Fixtures.AssertClose(what, "loss", [rows], Host(closs)[first..(first + rows)], Host(loss)[first..(first + rows)], 1e-5, 1e-6);
        Fixtures.AssertClose(what, "weights", [rows * experts], Host(cweights)[(first * experts)..((first + rows) * experts)],
            Host(weights)[(first * experts)..((first + rows) * experts)], 1e-5, 1e-7);
        Fixtures.AssertClose(what, "dz", [rows * experts, Cols], Host(cz), Host(fz), 1e-4, 1e-7);
        Fixtures.AssertClose(what, "dbias", [Cols], expectedBias, Host(dBias), 1e-4, 1e-6);
    }

    private static (float[] Z, float[] Bias, int[] Targets) Inputs(int rows, float magnitude, ulong seed)
    {
        var g = new Generator(seed);
        // Logits of the given size, with a few rows pushed far negative (all-very-negative rows must stay finite).
        var z = Enumerable.Range(0, rows * Cols).Select(i => (float)g.NextGaussian() * (magnitude == 1f ? 3f : magnitude)).ToArray();
        for (int j = 0; j < Cols; j++) z[j] = -magnitude - j;
        var bias = Enumerable.Range(0, Cols).Select(_ => (float)g.NextGaussian()).ToArray();
        var targets = Enumerable.Range(0, rows).Select(_ => g.NextInt(Cols)).ToArray();
        return (z, bias, targets);
    }

    private static void Compare(string what, Storage wantLoss, Storage loss, Storage wantDz, Storage dz, Storage wantBias, Storage dBias, int rows)
    {
        var l = Host(loss);
        Assert.All(l, v => Assert.True(float.IsFinite(v), $"{what}: non-finite loss"));
        Fixtures.AssertClose(what, "loss", [rows], Host(wantLoss), l, 1e-5, 1e-6);
        Fixtures.AssertClose(what, "dz", [rows, Cols], Host(wantDz), Host(dz), 1e-4, 1e-7);
        Fixtures.AssertClose(what, "dbias", [Cols], Host(wantBias), Host(dBias), 1e-4, 1e-6);
    }

    private static float[] Host(Storage s)
    {
        var data = new float[s.Length];
        s.Backend.ToHost(s, data);
        return data;
    }
}
