namespace TinyGrad.Tests.NN;

using TinyGrad;
using TinyGrad.NN;

public class DropoutTests
{
    [Fact]
    public void Dropout_drops_at_rate_p_and_scales_survivors()
    {
        var d = new Dropout(0.3f, new Generator(0));
        var y = d.Forward(Tensor.Ones(100, 100)).ToArray();
        double dropped = y.Count(v => v == 0f) / (double)y.Length;
        Assert.InRange(dropped, 0.28, 0.32);
        Assert.All(y.Where(v => v != 0f), v => Assert.Equal(1f / 0.7f, v, 5));
        Assert.InRange(y.Average(), 0.97, 1.03); // inverted scaling keeps the expectation
    }

    [Fact]
    public void Locked_dropout_shares_one_mask_across_time()
    {
        var d = new LockedDropout(0.5f, new Generator(1));
        var y = d.Forward(Tensor.Ones(6, 4, 8)).ToArray();
        for (int t = 1; t < 6; t++)
            Assert.Equal(y.AsSpan(0, 32).ToArray(), y.AsSpan(t * 32, 32).ToArray());
        Assert.Contains(y, v => v == 0f);
        Assert.Contains(y, v => v == 2f);
    }

    [Fact]
    public void Embedding_dropout_drops_whole_words()
    {
        var emb = new Embedding(50, 6, new Generator(2)) { WordDropout = 0.5f };
        var ids = Enumerable.Range(0, 50).Concat(Enumerable.Range(0, 50)).ToArray();
        var y = emb.Forward(ids, 100).ToArray();
        var w = emb.Weight.ToArray();
        int droppedWords = 0;
        for (int i = 0; i < 50; i++)
        {
            var row = y.AsSpan(i * 6, 6).ToArray();
            var again = y.AsSpan((i + 50) * 6, 6).ToArray();
            Assert.Equal(row, again);                       // one draw per word, not per occurrence
            if (row.All(v => v == 0f)) droppedWords++;
            else for (int j = 0; j < 6; j++) Assert.Equal(2f * w[i * 6 + j], row[j], 5);
        }
        Assert.InRange(droppedWords, 15, 35);
    }

    [Fact]
    public void Every_dropout_is_the_identity_in_eval_mode()
    {
        var x = Tensor.Randn([3, 2, 4], new Generator(3));
        var d = new Dropout(0.5f, new Generator(0));
        var l = new LockedDropout(0.5f, new Generator(0));
        d.Eval();
        l.Eval();
        Assert.Same(x, d.Forward(x));
        Assert.Same(x, l.Forward(x));
        var emb = new Embedding(10, 4, new Generator(0)) { WordDropout = 0.9f };
        emb.Eval();
        Assert.Equal(emb.Weight.ToArray().AsSpan(0, 8).ToArray(), emb.Forward([0, 1], 2).ToArray());
    }

    [Fact]
    public void Masks_are_reproducible_from_the_seed()
    {
        var a = new Dropout(0.5f, new Generator(9)).Forward(Tensor.Ones(64)).ToArray();
        var b = new Dropout(0.5f, new Generator(9)).Forward(Tensor.Ones(64)).ToArray();
        Assert.Equal(a, b);
    }

    [Fact]
    public void AR_and_TAR_match_their_definitions()
    {
        var h = Tensor.FromArray([1f, 2f, 3f, 5f], 2, 1, 2); // steps [1, 2] and [3, 5]
        Assert.Equal(2f * (1 + 4 + 9 + 25) / 4f, Regularization.ActivationRegularization(h, 2f).Item(), 5);
        Assert.Equal(3f * (4 + 9) / 2f, Regularization.TemporalActivationRegularization(h, 3f).Item(), 5);
    }
}
