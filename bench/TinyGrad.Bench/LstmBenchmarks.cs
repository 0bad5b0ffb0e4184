using BenchmarkDotNet.Attributes;
using TinyGrad.NN;

namespace TinyGrad.Bench;

/// <summary>
/// Forward + backward of a 2-layer LSTM at the word-LM shapes (T=35, B=20). For the PyTorch figure beside
/// it in one run, use the quick verb: <c>dotnet run -c Release --project bench/TinyGrad.Bench -- lstm</c>.
/// </summary>
[MemoryDiagnoser]
public class LstmBenchmarks
{
    private LSTM _lstm = null!;
    private Tensor _x = null!, _upstream = null!;

    /// <summary>Hidden (and input) size.</summary>
    [Params(200, 650)]
    public int Hidden { get; set; }

    /// <summary>Builds the model and inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(0);
        _lstm = new LSTM(Hidden, Hidden, 2, g);
        _x = Tensor.Randn([35, 20, Hidden], g).RequireGrad();
        _upstream = Tensor.Randn([35, 20, Hidden], g);
    }

    /// <summary>One training step's worth of LSTM work.</summary>
    [Benchmark]
    public void ForwardBackward()
    {
        _lstm.ZeroGrad();
        _x.ZeroGrad();
        var (output, _) = _lstm.Forward(_x);
        (output * _upstream).Sum().Backward();
    }
}
