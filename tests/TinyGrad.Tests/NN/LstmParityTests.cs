namespace TinyGrad.Tests.NN;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.NN;
using TinyGrad.Tests.Backends;
using TinyGrad.Tests.Parity;

public sealed class LstmWindow
{
    public FixtureTensor X { get; set; } = new();
    public FixtureTensor Out { get; set; } = new();
    public FixtureTensor[] H { get; set; } = [];
    public FixtureTensor[] C { get; set; } = [];
    public FixtureTensor UpOut { get; set; } = new();
    public FixtureTensor[] UpH { get; set; } = [];
    public FixtureTensor[] UpC { get; set; } = [];
    public FixtureTensor GradX { get; set; } = new();
}

public sealed class LstmCase
{
    public string Name { get; set; } = "";
    public int InputSize { get; set; }
    public int[] HiddenSizes { get; set; } = [];
    public Dictionary<string, FixtureTensor> Params { get; set; } = [];
    public LstmWindow[] Windows { get; set; } = [];
    public Dictionary<string, FixtureTensor> Grads { get; set; } = [];
    public FixtureTensor[]? H0 { get; set; }
    public FixtureTensor[]? C0 { get; set; }
    public FixtureTensor[]? GradH0 { get; set; }
    public FixtureTensor[]? GradC0 { get; set; }
}

public sealed class LstmFile
{
    public LstmCase[] Cases { get; set; } = [];
}

// The LSTM against PyTorch (tests/fixtures/make_lstm_fixtures.py): outputs and states to 1e-5, gradients to 1e-4.
public abstract class LstmParityTests(Device device) : OnDevice(device)
{
    private const double ValueRtol = 1e-5, GradRtol = 1e-4, Atol = 1e-6;
    private static readonly Lazy<LstmFile> File = new(() => Fixtures.Load<LstmFile>("lstm.json"));

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in File.Value.Cases) data.Add(c.Name);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Matches_pytorch(string name)
    {
        var fixture = File.Value.Cases.Single(c => c.Name == name);
        var lstm = new LSTM(fixture.InputSize, fixture.HiddenSizes, new Generator(0));
        lstm.LoadStateDict(fixture.Params.ToDictionary(p => p.Key, p => p.Value.ToTensor()));

        LstmState? state = null;
        Tensor[] h0 = [], c0 = [];
        if (fixture.H0 is not null)
        {
            h0 = [.. fixture.H0.Select(t => t.ToTensor().RequireGrad())];
            c0 = [.. fixture.C0!.Select(t => t.ToTensor().RequireGrad())];
            state = new LstmState(h0, c0);
        }
        for (int w = 0; w < fixture.Windows.Length; w++)
        {
            var window = fixture.Windows[w];
            var x = window.X.ToTensor().RequireGrad();
            var (output, next) = lstm.Forward(x, state);
            string tag = $"window {w}";
            Fixtures.AssertClose(name, $"{tag} output", window.Out, output, ValueRtol, Atol);
            var loss = (output * window.UpOut.ToTensor()).Sum();
            for (int k = 0; k < fixture.HiddenSizes.Length; k++)
            {
                Fixtures.AssertClose(name, $"{tag} h[{k}]", window.H[k], next.H[k], ValueRtol, Atol);
                Fixtures.AssertClose(name, $"{tag} c[{k}]", window.C[k], next.C[k], ValueRtol, Atol);
                loss = loss + (next.H[k] * window.UpH[k].ToTensor()).Sum() + (next.C[k] * window.UpC[k].ToTensor()).Sum();
            }
            loss.Backward();
            Fixtures.AssertClose(name, $"{tag} grad x", window.GradX, x.Grad!, GradRtol, Atol);
            state = next.Detach(); // truncated BPTT: the next window's gradient stops here
        }
        var named = lstm.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        foreach (var (param, expected) in fixture.Grads)
            Fixtures.AssertClose(name, $"grad {param}", expected, named[param].Grad!, GradRtol, Atol);
        for (int k = 0; k < h0.Length; k++)
        {
            Fixtures.AssertClose(name, $"grad h0[{k}]", fixture.GradH0![k], h0[k].Grad!, GradRtol, Atol);
            Fixtures.AssertClose(name, $"grad c0[{k}]", fixture.GradC0![k], c0[k].Grad!, GradRtol, Atol);
        }
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class LstmParityTestsCpu() : LstmParityTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class LstmParityTestsCuda() : LstmParityTests(Device.Cuda);
