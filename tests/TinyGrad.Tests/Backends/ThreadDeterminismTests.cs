namespace TinyGrad.Tests.Backends;

using TinyGrad;
using TinyGrad.Backends.Cpu;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;
using TinyGrad.Optim;

// Same seed, same results, whatever the thread count: the GEMM never splits K across threads (a chunk owns its
// block of C and walks all of k itself, and the k blocking depends on K alone), and the other parallel loops are
// over independent rows. So results are bitwise identical with 1, 2 or 3 threads and from run to run. This is a
// CPU guarantee: it says nothing about other backends. (In GemmTests' collection: it changes CpuThreads.Count.)
[Collection(nameof(GemmTests))]
public sealed class ThreadDeterminismTests
{
    private static T WithThreads<T>(int threads, Func<T> run)
    {
        int before = CpuThreads.Count;
        CpuThreads.Count = threads;
        try
        {
            return run();
        }
        finally
        {
            CpuThreads.Count = before;
        }
    }

    // One shape per GEMM driver mode (Direct: m ≤ 48, B as is; Dot: small m, Bᵀ; N-split: n ≥ m; M-split: n < m),
    // each big enough (≥ 3 M flops) to use every thread offered, with a K that takes several k blocks.
    [Theory]
    [InlineData(20, 1000, 800, false, false)]
    [InlineData(20, 800, 1000, false, true)]
    [InlineData(300, 700, 900, false, false)]
    [InlineData(700, 200, 900, true, true)]
    public void Matmul_is_bitwise_identical_for_1_2_and_3_threads(int m, int n, int k, bool transA, bool transB)
    {
        var g = new Generator(42);
        var a = Tensor.Randn(transA ? [k, m] : [m, k], g);
        var b = Tensor.Randn(transB ? [n, k] : [k, n], g);
        float[] Run() => Tensor.MatMul(a, b, transA, transB).ToArray();
        var one = WithThreads(1, Run);
        Assert.Equal(one, WithThreads(2, Run));
        Assert.Equal(one, WithThreads(3, Run));
        Assert.Equal(one, WithThreads(2, Run)); // and again: the dynamic chunk hand-out does not matter
    }

    [Fact]
    public void Training_steps_give_bitwise_identical_weights_for_1_and_2_threads()
    {
        // A MoSS model (GEMMs, the LSTM, the chunked mixture head with its row-parallel loops) with dropout on.
        var corpus = SyntheticCorpus.Generate(5, vocabSize: 300, trainTokens: 4000, validTokens: 100, testTokens: 100);
        float[][] Train()
        {
            var config = new WordLMConfig(corpus.Vocabulary.Count, emSize: 48, nHid: 128, nLayers: 2, head: HeadKind.Moss, experts: 3);
            var model = new global::TinyGrad.Models.WordLM(config, new Generator(9)) { Dropout = 0.3f, DropoutH = 0.2f };
            var optimizer = new Sgd(model.Parameters(), 1f);
            var batches = new Batches(corpus.Train, 20);
            LstmState[]? state = null;
            for (int step = 0; step < 4; step++)
            {
                var (inputs, targets, len) = batches.Window(step * 20, 20);
                var (loss, _, next) = model.TrainingLoss(inputs, targets, len, 20, state, alpha: 2f, beta: 1f);
                state = next;
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
            }
            return [.. model.Parameters().Select(p => p.ToArray())];
        }
        var one = WithThreads(1, Train);
        var two = WithThreads(2, Train);
        Assert.Equal(one.Length, two.Length);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]); // exact: float equality, element by element
    }
}
