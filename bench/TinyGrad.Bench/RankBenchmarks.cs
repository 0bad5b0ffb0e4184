using BenchmarkDotNet.Attributes;
using TinyGrad.Analysis;
using TinyGrad.NN.Heads;

namespace TinyGrad.Bench;

/// <summary>
/// The rank analysis at the size the issue asks for: the log-probability matrix of 2,000 contexts × 10,000
/// words (a softmax or sigsoftmax head with d = 200, computed in float32), its singular values in double
/// precision and the numerical rank under the float32 Press threshold (printed: d + 2 = 202 for the softmax,
/// full for the sigsoftmax). Run:
/// <c>dotnet run -c Release --project bench/TinyGrad.Bench -- --filter *RankBenchmarks*</c>.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class RankBenchmarks
{
    private const int Contexts = 2000, Words = 10_000, Hidden = 200;
    private double[] _a = [];

    /// <summary>The head whose log-probabilities are analysed, by name: the results table shows the reference's names.</summary>
    [Params("softmax", "sigsoftmax")]
    public string Head { get; set; } = "softmax";

    /// <summary>Computes the log-probabilities once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var head = OutputHead.Create(HeadKinds.Parse(Head), Hidden, Words, new Generator(1));
        using var _ = Autograd.NoGrad();
        var logProbs = head.LogProbs(Tensor.Randn([Contexts, Hidden], new Generator(2)).Mul(2f)).ToArray();
        _a = [.. logProbs.Select(x => (double)x)];
    }

    /// <summary>Singular values and rank of the 2,000 × 10,000 matrix.</summary>
    [Benchmark]
    public int Rank2000x10000()
    {
        var result = NumericalRank.Of(_a, Contexts, Words);
        Console.WriteLine($"// {result}");
        return result.Rank;
    }
}
