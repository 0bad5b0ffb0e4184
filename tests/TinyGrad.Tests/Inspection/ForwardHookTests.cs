namespace TinyGrad.Tests.Inspection;

using TinyGrad;
using TinyGrad.Inspection;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;

public class ForwardHookTests
{
    [Fact]
    public void Forward_hooks_fire_in_registration_order_each_seeing_the_previous_replacement()
    {
        var linear = new Linear(3, 2, new Generator(1));
        var x = Tensor.Randn([4, 3], new Generator(2));
        var calls = new List<string>();
        Tensor? seenBySecond = null;
        Tensor? first = null;
        using var h1 = linear.RegisterForwardHook((m, y) =>
        {
            Assert.Same(linear, m);
            calls.Add("first");
            return first = y * 2f;
        });
        using var h2 = linear.RegisterForwardHook((_, y) =>
        {
            calls.Add("second");
            seenBySecond = y;
            return null; // keep
        });
        var plain = Tensor.MatMul(x, linear.Weight, transposeB: true) + linear.Bias!;
        var y = linear.Forward(x);
        Assert.Equal(["first", "second"], calls);
        Assert.Same(first, seenBySecond);
        Assert.Same(first, y);
        Assert.Equal(plain.ToArray().Select(v => v * 2f), y.ToArray());
    }

    [Fact]
    public void A_removed_hook_no_longer_fires_and_removing_twice_is_harmless()
    {
        var linear = new Linear(2, 2, new Generator(1));
        var x = Tensor.Ones(1, 2);
        int a = 0, b = 0;
        var ha = linear.RegisterForwardHook((_, _) => { a++; return null; });
        using (linear.RegisterForwardHook((_, _) => { b++; return null; }))
            linear.Forward(x);
        linear.Forward(x);
        ha.Remove();
        ha.Remove();
        Assert.True(ha.IsRemoved);
        linear.Forward(x);
        Assert.Equal((2, 1), (a, b));
        Assert.False(linear.HasForwardHooks);
    }

    [Fact]
    public void A_hook_removing_itself_mid_pass_lets_the_others_of_that_pass_fire()
    {
        var linear = new Linear(2, 2, new Generator(1));
        var calls = new List<int>();
        RemovableHandle? self = null;
        self = linear.RegisterForwardHook((_, _) => { calls.Add(1); self!.Remove(); return null; });
        linear.RegisterForwardHook((_, _) => { calls.Add(2); return null; });
        linear.Forward(Tensor.Ones(1, 2));
        linear.Forward(Tensor.Ones(1, 2));
        Assert.Equal([1, 2, 2], calls);
    }

    [Fact]
    public void One_delegate_registered_twice_fires_twice_and_each_handle_removes_one()
    {
        var linear = new Linear(2, 2, new Generator(1));
        int n = 0;
        Func<Module, Tensor, Tensor?> hook = (_, _) => { n++; return null; };
        var h1 = linear.RegisterForwardHook(hook);
        linear.RegisterForwardHook(hook);
        linear.Forward(Tensor.Ones(1, 2));
        h1.Remove();
        linear.Forward(Tensor.Ones(1, 2));
        Assert.Equal(3, n);
    }

    [Fact]
    public void A_replacement_of_another_shape_is_refused_naming_the_module()
    {
        var linear = new Linear(2, 3, new Generator(1));
        linear.RegisterForwardHook((_, y) => y.Sum(1));
        var e = Assert.Throws<InvalidOperationException>(() => linear.Forward(Tensor.Ones(4, 2)));
        Assert.Contains("Linear", e.Message);
        Assert.Contains("[4, 3]", e.Message);
    }

    [Fact]
    public void Embedding_LSTM_dropout_LSTMCell_and_head_LogProbs_fire_with_their_outputs()
    {
        var g = new Generator(3);
        var shapes = new Dictionary<string, int[]>();
        void Watch(string name, Module m) => m.RegisterForwardHook((_, y) => { shapes[name] = y.Shape; return null; });
        var embedding = new Embedding(10, 4, g);
        var lstm = new LSTM(4, 5, 2, g);
        var dropout = new Dropout(0.5f, g);
        var locked = new LockedDropout(0.5f, g);
        var cell = new LSTMCell(4, 3, g);
        var softmax = OutputHead.Create(HeadKind.Softmax, 5, 10, g);
        var mos = (MixtureHead)OutputHead.Create(HeadKind.Mos, 5, 10, g, embeddingSize: 4, experts: 2);
        Watch("embedding", embedding);
        Watch("lstm", lstm);
        Watch("dropout", dropout);
        Watch("locked", locked);
        Watch("cell", cell);
        Watch("softmax", softmax);
        Watch("mos", mos);
        Watch("mos.prior", mos.Prior);

        var x = embedding.Forward([1, 2, 3, 4, 5, 6], 3, 2);
        var (output, _) = lstm.Forward(x);
        dropout.Forward(output);
        locked.Forward(output);
        cell.Forward(x.Narrow(0, 0, 1).Squeeze(0));
        var hidden = output.Reshape(6, 5);
        softmax.LogProbs(hidden);
        mos.LogProbs(hidden);

        Assert.Equal([3, 2, 4], shapes["embedding"]);
        Assert.Equal([3, 2, 5], shapes["lstm"]);
        Assert.Equal([3, 2, 5], shapes["dropout"]);
        Assert.Equal([3, 2, 5], shapes["locked"]);
        Assert.Equal([2, 3], shapes["cell"]);
        Assert.Equal([6, 10], shapes["softmax"]);
        Assert.Equal([6, 10], shapes["mos"]);
        Assert.Equal([6, 2], shapes["mos.prior"]);

        // The fused loss builds no log-probability matrix, so the head itself fires nothing there.
        shapes.Clear();
        softmax.Nll(hidden, [0, 1, 2, 3, 4, 5]);
        Assert.Empty(shapes);
    }

    [Fact]
    public void WordLM_forward_fires_the_encoder_then_each_layer()
    {
        var model = new WordLM(new WordLMConfig(12, 4, 6, 2), new Generator(1));
        var order = new List<string>();
        model.Encoder.RegisterForwardHook((_, _) => { order.Add("encoder"); return null; });
        for (int l = 0; l < model.Rnns.Count; l++)
        {
            string name = $"rnns.{l}";
            model.Rnns[l].RegisterForwardHook((_, _) => { order.Add(name); return null; });
        }
        model.Forward([1, 2, 3, 4], 2, 2);
        Assert.Equal(["encoder", "rnns.0", "rnns.1"], order);
    }

    [Fact]
    public void WordLM_ForwardLayers_returns_the_embedding_and_every_layer_as_Forward_computes_them()
    {
        var model = new WordLM(new WordLMConfig(12, 4, 6, 3), new Generator(1));
        model.Eval();
        int[] tokens = [1, 2, 3, 4, 5, 6];
        var (hidden, _, raw, _) = model.Forward(tokens, 3, 2);
        var layers = model.ForwardLayers(tokens, 3, 2);

        Assert.Equal(model.Encoder.Forward(tokens, 3, 2).ToArray(), layers.Embedding.ToArray());
        Assert.Equal(new[] { new[] { 3, 2, 6 }, new[] { 3, 2, 6 }, new[] { 3, 2, 4 } }, layers.Layers.Select(t => t.Shape));
        Assert.Equal(raw.ToArray(), layers.Layers[^1].ToArray());
        Assert.Equal(hidden.ToArray(), layers.Hidden.ToArray());
        // Layer 1 is layer 0's output run through rnns.1.
        Assert.Equal(model.Rnns[1].Forward(layers.Layers[0]).Output.ToArray(), layers.Layers[1].ToArray());
        Autograd.ClearTape();
    }

    [Fact]
    public void Without_hooks_the_forward_path_allocates_nothing_for_them()
    {
        var probe = new Probe();
        var x = Tensor.Ones(2);
        probe.Run(x); // JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        var y = probe.Run(x);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Same(x, y);
        Assert.Equal(0, allocated);
    }

    private sealed class Probe : Module
    {
        public Tensor Run(Tensor x) => RunForwardHooks(x);
    }
}
