namespace TinyGrad.Tests.NN;

using TinyGrad;
using TinyGrad.NN;

public class ModuleTests
{
    private sealed class TinyLm : Module
    {
        public TinyLm(bool tied)
        {
            var g = new Generator(0);
            Encoder = RegisterModule("encoder", new Embedding(7, 4, g));
            Rnn = RegisterModule("rnn", new LSTM(4, 4, 1, g));
            Decoder = RegisterModule("decoder", new Linear(4, 7, g));
            if (tied) Decoder.Weight = Encoder.Weight;
        }

        public Embedding Encoder { get; }
        public LSTM Rnn { get; }
        public Linear Decoder { get; }
    }

    [Fact]
    public void State_dict_uses_dotted_pytorch_names_and_round_trips()
    {
        var a = new TinyLm(tied: false);
        var names = a.StateDict().Keys.ToArray();
        Assert.Equal(["encoder.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "decoder.weight", "decoder.bias"], names);
        var b = new TinyLm(tied: false);
        foreach (var p in b.Parameters())
            using (Autograd.NoGrad()) p.Backend.Fill(p.Storage, 0.25f);
        b.LoadStateDict(a.StateDict());
        foreach (var (name, t) in a.StateDict()) Assert.Equal(t.ToArray(), b.StateDict()[name].ToArray());
    }

    [Fact]
    public void Strict_load_lists_every_problem_by_name_and_changes_nothing()
    {
        var model = new TinyLm(tied: false);
        var before = model.StateDict().ToDictionary(p => p.Key, p => p.Value.ToArray());
        var state = new TinyLm(tied: false).StateDict();
        state.Remove("rnn.bias_hh_l0");
        state["extra.weight"] = Tensor.Zeros(2);
        state["decoder.bias"] = Tensor.Zeros(9);
        state["encoder.weight"] = Tensor.Ones(7, 4).Mul(3f);
        var error = Assert.Throws<StateDictException>(() => model.LoadStateDict(state));
        Assert.Contains("missing: rnn.bias_hh_l0", error.Message);
        Assert.Contains("unexpected: extra.weight", error.Message);
        Assert.Contains("decoder.bias: checkpoint [9] vs model [7]", error.Message);
        Assert.Equal(before["encoder.weight"], model.StateDict()["encoder.weight"].ToArray());
        state.Remove("extra.weight");
        state["rnn.bias_hh_l0"] = Tensor.Zeros(16);
        state["decoder.bias"] = Tensor.Zeros(7);
        model.LoadStateDict(state);
        Assert.All(model.StateDict()["encoder.weight"].ToArray(), v => Assert.Equal(3f, v));
    }

    [Fact]
    public void Non_strict_load_skips_missing_and_unexpected_but_not_wrong_shapes()
    {
        var model = new TinyLm(tied: false);
        model.LoadStateDict(new Dictionary<string, Tensor> { ["decoder.bias"] = Tensor.Ones(7), ["nope"] = Tensor.Zeros(1) }, strict: false);
        Assert.All(model.Decoder.Bias!.ToArray(), v => Assert.Equal(1f, v));
        Assert.Throws<StateDictException>(() => model.LoadStateDict(new Dictionary<string, Tensor> { ["decoder.bias"] = Tensor.Ones(3) }, strict: false));
    }

    [Fact]
    public void Tied_weight_is_one_parameter_whose_gradient_sums_both_uses()
    {
        var model = new TinyLm(tied: true);
        Assert.Same(model.Encoder.Weight, model.Decoder.Weight);
        Assert.Equal(new TinyLm(tied: false).ParameterCount() - 28, model.ParameterCount());
        Assert.Contains("decoder.weight", model.StateDict().Keys); // PyTorch lists a tied weight under both names
        Assert.DoesNotContain(model.NamedParameters(), p => p.Key == "decoder.weight");

        // Gradient from both uses equals the sum of each use alone.
        float[] Grad(bool useEmbedding, bool useDecoder)
        {
            model.ZeroGrad();
            var e = model.Encoder.Forward([1, 3, 3], 3);
            var loss = Tensor.Scalar(0f);
            if (useEmbedding) loss = loss + (e * e).Sum();
            if (useDecoder) loss = loss + Tensor.CrossEntropy(model.Decoder.Forward(Tensor.Ones(2, 4)), [2, 5]);
            loss.Backward();
            return model.Encoder.Weight.Grad!.ToArray();
        }
        var both = Grad(true, true);
        var first = Grad(true, false);
        var second = Grad(false, true);
        for (int i = 0; i < both.Length; i++) Assert.Equal(first[i] + second[i], both[i], 5);
    }

    [Fact]
    public void Embedding_backward_touches_only_the_looked_up_rows()
    {
        var emb = new Embedding(6, 3, new Generator(0));
        emb.Forward([4, 1, 4], 3).Sum().Backward();
        var grad = emb.Weight.Grad!.ToArray();
        for (int row = 0; row < 6; row++)
        {
            float expected = row == 4 ? 2f : row == 1 ? 1f : 0f;
            Assert.All(grad.AsSpan(row * 3, 3).ToArray(), v => Assert.Equal(expected, v));
        }
    }

    [Fact]
    public void Linear_uses_pytorch_init_bounds_and_checks_its_input()
    {
        var lin = new Linear(16, 3, new Generator(0));
        Assert.All(lin.Weight.ToArray(), v => Assert.InRange(v, -0.25f, 0.25f));
        Assert.Equal(new[] { 5, 3 }, lin.Forward(Tensor.Zeros(5, 16)).Shape);
        Assert.Equal(new[] { 2, 5, 3 }, lin.Forward(Tensor.Zeros(2, 5, 16)).Shape);
        var error = Assert.Throws<ArgumentException>(() => lin.Forward(Tensor.Zeros(5, 15)));
        Assert.Contains("[5, 15]", error.Message);
    }

    [Fact]
    public void Train_and_eval_propagate_to_submodules()
    {
        var model = new TinyLm(tied: false);
        model.Eval();
        Assert.False(model.Rnn.Training);
        model.Train();
        Assert.True(model.Encoder.Training);
    }
}
