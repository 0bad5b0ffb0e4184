using TinyGrad.Analysis;
using TinyGrad.NN.Heads;

namespace TinyGrad.Tests.Docs;

// The worked example of docs/tour.md ("A 3 × 3 example you can check by hand"), computed with the library: a
// sigsoftmax head with d = 1 (contexts g = −2, 0, 2; decoder weights w = 1, 0, −1; bias 0) makes a 3 × 3 log P whose
// double-centred matrix has rank 2, which no softmax head with d = 1 can reach (it would have rank ≤ d = 1).
public class RankExampleTests
{
    private static readonly float[] Contexts = [-2f, 0f, 2f];
    private static readonly float[] DecoderWeight = [1f, 0f, -1f];

    // The table in the tour, to its four decimals.
    private static readonly double[,] TourP = { { 0.0023, 0.0712, 0.9265 }, { 1.0 / 3, 1.0 / 3, 1.0 / 3 }, { 0.9265, 0.0712, 0.0023 } };
    private static readonly double[,] TourLogP = { { -6.0763, -2.6425, -0.0763 }, { -1.0986, -1.0986, -1.0986 }, { -0.0763, -2.6425, -6.0763 } };

    private static OutputHead Head(HeadKind kind)
    {
        var head = OutputHead.Create(kind, inputSize: 1, vocabSize: 3, new Generator(0));
        head.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["decoder.weight"] = Tensor.FromArray(DecoderWeight, 3, 1),
            ["decoder.bias"] = Tensor.Zeros([3], null),
        });
        return head;
    }

    private static double[] LogP(HeadKind kind)
    {
        using var _ = Autograd.NoGrad();
        return [.. Head(kind).LogProbs(Tensor.FromArray(Contexts, 3, 1)).ToArray().Select(v => (double)v)];
    }

    // Subtract each row's mean, then each column's mean: what is left once the bias (column constants) and the
    // normaliser (row constants) are removed.
    private static double[] DoubleCentred(double[] a)
    {
        var d = (double[])a.Clone();
        for (int r = 0; r < 3; r++)
        {
            double m = (d[3 * r] + d[3 * r + 1] + d[3 * r + 2]) / 3;
            for (int c = 0; c < 3; c++) d[3 * r + c] -= m;
        }
        for (int c = 0; c < 3; c++)
        {
            double m = (d[c] + d[3 + c] + d[6 + c]) / 3;
            for (int r = 0; r < 3; r++) d[3 * r + c] -= m;
        }
        return d;
    }

    [Fact]
    public void The_sigsoftmax_head_gives_the_tours_table()
    {
        var logp = LogP(HeadKind.Sigsoftmax);
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal(TourLogP[r, c], logp[3 * r + c], 4);
                Assert.Equal(TourP[r, c], Math.Exp(logp[3 * r + c]), 4);
            }
        }
        // The same numbers from the composed definition (LogSigsoftmax on the tape's primitive ops).
        var z = Tensor.MatMul(Tensor.FromArray(Contexts, 3, 1), Tensor.FromArray(DecoderWeight, 3, 1), transposeB: true);
        var composed = z.LogSigsoftmax().ToArray();
        for (int i = 0; i < 9; i++) Assert.Equal(logp[i], composed[i], 5);
    }

    [Fact]
    public void Its_double_centred_log_p_has_rank_two_with_the_tours_singular_values()
    {
        var rank = NumericalRank.Of(DoubleCentred(LogP(HeadKind.Sigsoftmax)), 3, 3);
        Assert.Equal(2, rank.Rank);
        Assert.Equal(6.0, rank.SingularValues[0], 4);
        double even = (2 + 2 * Math.Log(1 + Math.Exp(-2)) - 2 * Math.Log(2)) / 3; // 0.2892: the even part of z + log σ(z)
        Assert.Equal(0.2892, even, 4);
        Assert.Equal(even, rank.SingularValues[1], 4);
    }

    [Fact]
    public void A_softmax_head_with_d_1_stays_at_double_centred_rank_one()
    {
        // The control: the same parameters under softmax (and, below, random ones) never leave rank d = 1.
        Assert.Equal(1, NumericalRank.Of(DoubleCentred(LogP(HeadKind.Softmax)), 3, 3, tolerance: 1e-4).Rank);
        var rng = new Generator(7);
        for (int trial = 0; trial < 20; trial++)
        {
            var head = OutputHead.Create(HeadKind.Softmax, 1, 3, rng);
            using var _ = Autograd.NoGrad();
            var logp = head.LogProbs(Tensor.Randn([3, 1], rng).Mul(3f)).ToArray().Select(v => (double)v).ToArray();
            // An explicit tolerance: float32 log-probabilities carry rounding relative to |log p| (up to ~1e−6 here), which
            // can exceed the Press threshold ½·√7·ε·σ_max of the much smaller centred matrix; 1e−4 still sits far below
            // the 0.29 that sigsoftmax reaches.
            var rank = NumericalRank.Of(DoubleCentred(logp), 3, 3, tolerance: 1e-4);
            Assert.True(rank.Rank <= 1, $"trial {trial}: singular values {string.Join(", ", rank.SingularValues)}");
        }
    }
}
