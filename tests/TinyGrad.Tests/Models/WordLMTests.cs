namespace TinyGrad.Tests.Models;

using TinyGrad;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;

// The model: the reference's state-dict names and shapes for every head, tying, the regularisers (on in
// training, off in eval), the training loss with AR/TAR, carried state, and the unigram bias initialisation.
public class WordLMTests
{
    private static readonly string[] Lstm2 =
    [
        "rnns.0.weight_ih_l0", "rnns.0.weight_hh_l0", "rnns.0.bias_ih_l0", "rnns.0.bias_hh_l0",
        "rnns.1.weight_ih_l0", "rnns.1.weight_hh_l0", "rnns.1.bias_ih_l0", "rnns.1.bias_hh_l0",
    ];

    internal static WordLMConfig Tiny(HeadKind head, bool tied = true) =>
        new(30, 8, 12, 2, head, HeadKinds.IsMixture(head) ? 3 : 1, tied: tied);

    internal static int[] RandomTokens(int count, int vocab, ulong seed)
    {
        var g = new Generator(seed);
        return [.. Enumerable.Range(0, count).Select(_ => g.NextInt(vocab))];
    }

    [Theory]
    [InlineData(HeadKind.Softmax, true)]
    [InlineData(HeadKind.Softmax, false)]
    [InlineData(HeadKind.Sigsoftmax, true)]
    [InlineData(HeadKind.Sigsoftmax, false)]
    [InlineData(HeadKind.Mos, true)]
    [InlineData(HeadKind.Mos, false)]
    [InlineData(HeadKind.Moss, true)]
    [InlineData(HeadKind.Moss, false)]
    public void State_dict_names_are_the_references_in_its_order(HeadKind head, bool tied)
    {
        // list(WordLM(30, 8, 12, 2, head=..., experts=3, tied=...).state_dict()) in wordlm_reference.py: a tied
        // decoder.weight is still listed there (PyTorch lists a shared tensor under each name).
        string[] headNames = HeadKinds.IsMixture(head)
            ? ["prior.weight", "latent.weight", "latent.bias", "decoder.weight", "decoder.bias"]
            : ["decoder.weight", "decoder.bias"];
        string[] expected = ["encoder.weight", .. Lstm2, .. headNames];
        var model = new WordLM(Tiny(head, tied), new Generator(0));
        Assert.Equal(expected, model.StateDict().Keys);
        Assert.Equal(tied ? expected.Length - 1 : expected.Length, model.Parameters().Count());
        Assert.Equal(["encoder", "rnns", .. headNames.Select(n => n.Split('.')[0]).Distinct()], model.NamedChildren().Select(c => c.Key));
    }

    [Theory]
    [InlineData(HeadKind.Softmax)]
    [InlineData(HeadKind.Mos)]
    public void Shapes_are_the_references(HeadKind head)
    {
        // [tuple(v.shape) for v in WordLM(30, 8, 12, 2, head=..., experts=3).state_dict().values()]
        var shapes = new WordLM(Tiny(head), new Generator(0)).StateDict().Values.Select(t => t.Shape).ToList();
        int[][] lstm = [[48, 8], [48, 12], [48], [48], head == HeadKind.Mos ? [48, 12] : [32, 12], head == HeadKind.Mos ? [48, 12] : [32, 8],
            head == HeadKind.Mos ? [48] : [32], head == HeadKind.Mos ? [48] : [32]];
        int[][] expected = head == HeadKind.Mos
            ? [[30, 8], .. lstm, [3, 12], [24, 12], [24], [30, 8], [30]]
            : [[30, 8], .. lstm, [30, 8], [30]];
        Assert.Equal(expected, shapes);
    }

    [Fact]
    public void A_tied_decoder_is_the_encoder_tensor_and_both_uses_reach_its_gradient()
    {
        var model = new WordLM(Tiny(HeadKind.Moss), new Generator(0));
        Assert.Same(model.Encoder.Weight, model.Head.Decoder.Weight);
        var (loss, _, _) = model.TrainingLoss(RandomTokens(12, 30, 1), RandomTokens(12, 30, 2), 4, 3, null);
        loss.Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        // Encoder rows of words that are not inputs get a gradient only through the decoder.
        Assert.Contains(model.Encoder.Weight.Grad!.ToArray(), g => g != 0f);
    }

    [Fact]
    public void Initialisation_is_awd_lstms_and_follows_the_seed()
    {
        var model = new WordLM(Tiny(HeadKind.Softmax, tied: false), new Generator(5));
        Assert.All(model.Encoder.Weight.ToArray(), w => Assert.InRange(w, -0.1f, 0.1f));
        Assert.All(model.Head.Decoder.Weight.ToArray(), w => Assert.InRange(w, -0.1f, 0.1f));
        Assert.All(model.Head.Decoder.Bias!.ToArray(), b => Assert.Equal(0f, b));
        var again = new WordLM(Tiny(HeadKind.Softmax, tied: false), new Generator(5)).StateDict();
        Assert.All(model.StateDict(), p => Assert.Equal(p.Value.ToArray(), again[p.Key].ToArray()));
    }

    private static WordLM WithAllDropouts(HeadKind head, ulong seed)
    {
        var model = new WordLM(Tiny(head), new Generator(seed))
        {
            Dropout = 0.4f,
            DropoutH = 0.3f,
            DropoutI = 0.5f,
            DropoutE = 0.2f,
            WeightDrop = 0.5f,
        };
        return model;
    }

    [Theory]
    [InlineData(HeadKind.Sigsoftmax)]
    [InlineData(HeadKind.Mos)]
    public void Dropouts_act_in_training_and_are_off_in_eval(HeadKind head)
    {
        var tokens = RandomTokens(15, 30, 3);
        var plain = new WordLM(Tiny(head), new Generator(9));
        var model = WithAllDropouts(head, 9); // same weights: dropout settings draw nothing at construction
        Assert.Equal(0.5f, model.Rnns[1].WeightDropout);
        Assert.Equal(0.2f, model.Encoder.WordDropout);

        float[] Out(WordLM m) => m.Forward(tokens, 5, 3).Hidden.ToArray();
        var train1 = Out(model);
        var train2 = Out(model);
        Assert.NotEqual(train1, train2); // new masks every pass
        Assert.NotEqual(Out(plain), train1);
        model.Eval();
        plain.Eval();
        Assert.Equal(Out(plain), Out(model));
        var (hidden, _, raw, dropped) = model.Forward(tokens, 5, 3);
        Assert.Same(raw, dropped); // no output dropout in eval
        Assert.Equal([15, model.Config.NHidLast], hidden.Shape);
        Autograd.ClearTape();
    }

    [Theory]
    [InlineData(1.5f)]
    [InlineData(-0.1f)]
    public void Dropout_probabilities_outside_0_1_are_rejected(float p)
    {
        var model = new WordLM(Tiny(HeadKind.Softmax), new Generator(0));
        Assert.Contains("WordLM.DropoutH: probability", Assert.Throws<ArgumentOutOfRangeException>(() => model.DropoutH = p).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.WeightDrop = p);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DropoutE = p);
    }

    [Fact]
    public void Training_loss_is_the_nll_plus_ar_on_the_dropped_and_tar_on_the_raw_output()
    {
        var inputs = RandomTokens(12, 30, 4);
        var targets = RandomTokens(12, 30, 5);
        var a = WithAllDropouts(HeadKind.Moss, 11);
        var b = WithAllDropouts(HeadKind.Moss, 11); // same weights and the same mask stream
        var (loss, nll, state) = a.TrainingLoss(inputs, targets, 4, 3, null, alpha: 2f, beta: 1f);
        var (hidden, _, raw, dropped) = b.Forward(inputs, 4, 3);
        var expected = b.Nll(hidden, targets)
            + Regularization.ActivationRegularization(dropped, 2f)
            + Regularization.TemporalActivationRegularization(raw, 1f);
        Assert.Equal(expected.Item(), loss.Item(), 5);
        Assert.True(loss.Item() > nll.Item());
        Assert.All(state, s => Assert.All(s.H.Concat(s.C), t => Assert.True(t.IsLeaf))); // detached, ready to carry
        Autograd.ClearTape();
    }

    [Fact]
    public void Carrying_the_state_across_two_windows_equals_one_long_window()
    {
        var model = new WordLM(Tiny(HeadKind.Mos, tied: false), new Generator(2));
        model.Eval();
        using var _ = Autograd.NoGrad();
        var tokens = RandomTokens(6 * 2, 30, 6);
        var whole = model.Forward(tokens, 6, 2).Hidden.ToArray();
        var first = model.Forward(tokens[..6], 3, 2);
        var second = model.Forward(tokens[6..], 3, 2, first.State);
        var split = first.Hidden.ToArray().Concat(second.Hidden.ToArray()).ToArray();
        Assert.Equal(whole.Length, split.Length);
        for (int i = 0; i < whole.Length; i++) Assert.Equal(whole[i], split[i], 5);
    }

    [Fact]
    public void Forward_rejects_tokens_that_do_not_fit()
    {
        var model = new WordLM(Tiny(HeadKind.Softmax), new Generator(0));
        Assert.Equal("WordLM.Forward: 5 tokens do not fill [steps=2, batch=3]",
            Assert.Throws<ArgumentException>(() => model.Forward(new int[5], 2, 3)).Message);
        Assert.StartsWith("WordLM.Forward: token 30 at position 1 is out of range [0, 30)",
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward([0, 30], 1, 2)).Message);
        Assert.Equal("WordLM.Forward: state has 1 layers, the model 2",
            Assert.Throws<ArgumentException>(() => model.Forward([0, 1], 1, 2, [model.Rnns[0].ZeroState(2)])).Message);
    }

    [Theory]
    [InlineData(HeadKind.Softmax)]
    [InlineData(HeadKind.Sigsoftmax)]
    [InlineData(HeadKind.Mos)]
    [InlineData(HeadKind.Moss)]
    public void The_unigram_bias_makes_every_head_predict_the_unigram_distribution(HeadKind head)
    {
        var model = new WordLM(Tiny(head, tied: false), new Generator(0));
        var train = RandomTokens(500, 20, 8).Select(t => t % 7 == 0 ? 0 : t).ToArray(); // words 20..29 unseen, 0 frequent
        model.InitDecoderBiasFromUnigram(train, smoothing: 0.5);
        // With the decoder weight at zero, every expert's logits are the bias alone.
        model.LoadStateDict(new Dictionary<string, Tensor> { ["decoder.weight"] = Tensor.Zeros(model.Head.Decoder.Weight.Shape, null) }, strict: false);
        model.Eval();
        var logp = model.LogProbs(model.Forward(RandomTokens(4, 30, 9), 2, 2).Hidden).ToArray();
        for (int j = 0; j < 30; j++)
        {
            double f = (train.Count(t => t == j) + 0.5) / (500 + 0.5 * 30);
            for (int row = 0; row < 4; row++) Assert.Equal(Math.Log(f), logp[row * 30 + j], 4);
        }
        Autograd.ClearTape();
    }
}
