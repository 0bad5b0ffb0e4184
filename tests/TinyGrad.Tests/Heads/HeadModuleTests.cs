namespace TinyGrad.Tests.Heads;

using TinyGrad;
using TinyGrad.NN;
using TinyGrad.NN.Heads;

// The heads as modules: names and order of parameters (the reference's), errors that name the op and the
// shapes, registration at a model's top level, weight tying, and the memory the fused mixture saves.
public class HeadModuleTests
{
    [Theory]
    [InlineData(HeadKind.Softmax, typeof(SoftmaxHead), new[] { "decoder.weight", "decoder.bias" })]
    [InlineData(HeadKind.Sigsoftmax, typeof(SigsoftmaxHead), new[] { "decoder.weight", "decoder.bias" })]
    [InlineData(HeadKind.Mos, typeof(MosHead), new[] { "prior.weight", "latent.weight", "latent.bias", "decoder.weight", "decoder.bias" })]
    [InlineData(HeadKind.Moss, typeof(MossHead), new[] { "prior.weight", "latent.weight", "latent.bias", "decoder.weight", "decoder.bias" })]
    public void Create_builds_each_kind_with_the_reference_parameter_names(HeadKind kind, Type type, string[] names)
    {
        var head = OutputHead.Create(kind, 6, 11, new Generator(0), embeddingSize: 4, experts: 3);
        Assert.IsType(type, head);
        Assert.Equal(kind, head.Kind);
        Assert.Equal(names, head.NamedParameters().Select(p => p.Key));
        var shapes = head.StateDict().ToDictionary(p => p.Key, p => p.Value.Shape);
        if (head is MixtureHead)
        {
            Assert.Equal([3, 6], shapes["prior.weight"]);
            Assert.Equal([12, 6], shapes["latent.weight"]);
            Assert.Equal([11, 4], shapes["decoder.weight"]);
        }
        else
        {
            Assert.Equal([11, 6], shapes["decoder.weight"]);
        }
        Assert.Equal([11], shapes["decoder.bias"]);
    }

    [Fact]
    public void Create_rejects_an_unknown_kind()
    {
        // A name is checked where it is parsed (HeadKindTests); what can still reach Create is a cast out of range.
        var e = Assert.Throws<ArgumentException>(() => OutputHead.Create((HeadKind)4, 4, 5, new Generator(0)));
        Assert.Contains("unknown kind 4", e.Message);
    }

    [Fact]
    public void Errors_name_the_op_and_the_shapes()
    {
        var sig = new SigsoftmaxHead(5, 11, new Generator(0));
        var e = Assert.Throws<ArgumentException>(() => sig.Nll(Tensor.Zeros(6, 4), new int[6]));
        Assert.Equal("sigsoftmax_nll: hidden [6, 4] does not match decoder [11, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => sig.LogProbs(Tensor.Zeros(2, 3, 5)));
        Assert.Equal("sigsoftmax_log_probs: hidden [2, 3, 5] does not match decoder [11, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => sig.Nll(Tensor.Zeros(6, 5), new int[5]));
        Assert.Equal("sigsoftmax_nll: 5 targets for hidden [6, 5] (6 rows)", e.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => sig.Nll(Tensor.Zeros(2, 5), [3, 11]));
        Assert.StartsWith("sigsoftmax_nll: target 11 at position 1 is out of range [0, 11)", range.Message);

        var mos = new MosHead(5, 11, 4, 3, new Generator(0));
        e = Assert.Throws<ArgumentException>(() => mos.Nll(Tensor.Zeros(6, 4), new int[6]));
        Assert.Equal("mos_nll: hidden [6, 4] does not match latent [12, 5]", e.Message);
        range = Assert.Throws<ArgumentOutOfRangeException>(() => mos.Nll(Tensor.Zeros(2, 5), [-1, 0]));
        Assert.StartsWith("mos_nll: target -1 at position 0 is out of range [0, 11)", range.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => mos.ChunkRows = 0);
    }

    [Fact]
    public void The_default_chunk_keeps_the_mixture_logits_near_4M_floats()
    {
        var mos = new MosHead(8, 10_000, 8, 15, new Generator(0));
        Assert.Equal(27, mos.ChunkRows); // 27 rows × 15 experts × 10,000 words ≈ 4.05M floats (16 MB)
    }

    [Fact]
    public void A_decoder_head_records_one_tape_node_for_its_loss()
    {
        var head = new SoftmaxHead(4, 9, new Generator(0));
        int before = Autograd.TapeLength; // the tape is per thread: earlier tests may have left graphs on it
        head.Nll(Tensor.Randn([3, 4], new Generator(1)), [1, 2, 8]);
        Assert.Equal(before + 1, Autograd.TapeLength); // the GEMM, the normaliser and the NLL are one fused op
        Autograd.ClearTape();
    }

    /// <summary>A model that registers its head's layers as its own, so their names sit at the top level.</summary>
    private sealed class TinyModel : Module
    {
        public TinyModel(HeadKind kind)
        {
            Encoder = RegisterModule("encoder", new Embedding(11, 4, new Generator(1)));
            Head = OutputHead.Create(kind, 4, 11, new Generator(2), embeddingSize: 4, experts: 2);
            foreach (var (name, child) in Head.NamedChildren()) RegisterModule(name, child);
            Head.Decoder.Weight = Encoder.Weight; // tied
        }

        public Embedding Encoder { get; }

        public OutputHead Head { get; }
    }

    [Theory]
    [InlineData(HeadKind.Sigsoftmax, new[] { "encoder.weight", "decoder.weight", "decoder.bias" })]
    [InlineData(HeadKind.Moss, new[] { "encoder.weight", "prior.weight", "latent.weight", "latent.bias", "decoder.weight", "decoder.bias" })]
    public void A_model_exposes_the_heads_parameters_at_its_top_level(HeadKind kind, string[] stateNames)
    {
        var model = new TinyModel(kind);
        Assert.Equal(stateNames, model.StateDict().Keys);
        // The tied weight is one tensor: listed once among the parameters, under its first name.
        Assert.Equal(stateNames.Length - 1, model.Parameters().Count());
        Assert.Same(model.Encoder.Weight, model.Head.Decoder.Weight);

        var loss = model.Head.Nll(model.Encoder.Forward([1, 2, 3], 3), [2, 3, 4]);
        loss.Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        // Loading by top-level names reaches the head's layers.
        var state = model.StateDict().ToDictionary(p => p.Key, p => p.Value * 0f);
        model.LoadStateDict(state);
        Assert.All(model.Head.Decoder.Bias!.ToArray(), x => Assert.Equal(0f, x));
    }

    [Fact]
    public void The_fused_mixture_allocates_a_fraction_of_one_naive_component_tensor()
    {
        const int n = 64, d = 16, v = 2000, k = 8, e = 16;
        var head = new MossHead(d, v, e, k, new Generator(0)) { ChunkRows = 4 };
        var hidden = Tensor.Randn([n, d], new Generator(1)).RequireGrad();
        int[] targets = [.. Enumerable.Range(0, n).Select(i => i * 31 % v)];
        long naiveTensor = 4L * n * k * v; // one float32 [N, K, V] tensor: 4 MB

        long Allocated(Func<Tensor> loss)
        {
            head.ZeroGrad();
            hidden.ZeroGrad();
            loss().Backward(); // warm-up: JIT, pool threads, GEMM packing buffers
            head.ZeroGrad();
            hidden.ZeroGrad();
            // This thread's allocations: every tensor is allocated by the op on the calling thread (the pool's
            // threads only run kernels), and other test classes running in parallel do not count.
            long before = GC.GetAllocatedBytesForCurrentThread();
            loss().Backward();
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        long fused = Allocated(() => head.Nll(hidden, targets, Reduction.Sum));
        long composed = Allocated(() => head.NllComposed(hidden, targets, Reduction.Sum));
        Assert.True(fused < naiveTensor / 2, $"fused forward+backward allocated {fused:N0} bytes; one [N, K, V] tensor is {naiveTensor:N0}");
        Assert.True(composed > 4 * naiveTensor, $"composed allocated only {composed:N0} bytes");
    }
}
