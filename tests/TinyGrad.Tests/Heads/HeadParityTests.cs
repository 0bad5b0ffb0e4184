namespace TinyGrad.Tests.Heads;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.Backends;
using TinyGrad.Tests.Parity;

/// <summary>One head case of heads.json (see tests/fixtures/make_head_fixtures.py).</summary>
public sealed class HeadCase
{
    public string Name { get; set; } = "";
    public string Head { get; set; } = "";
    public int N { get; set; }
    public int D { get; set; }
    public int Vocab { get; set; }
    public int Experts { get; set; }
    public int Emsize { get; set; }

    /// <summary>"element": gradients compared element by element; "tensor": to a fraction of each tensor's largest element.</summary>
    public string GradScale { get; set; } = "element";
    public string? GradScaleWhy { get; set; }
    public double? GradRtol { get; set; }
    public string? GradRtolWhy { get; set; }

    public FixtureTensor Hidden { get; set; } = new();
    public Dictionary<string, FixtureTensor> Params { get; set; } = [];
    public int[] Targets { get; set; } = [];
    public FixtureTensor Upstream { get; set; } = new();
    public FixtureTensor LogProbs { get; set; } = new();
    public FixtureTensor NllSum { get; set; } = new();
    public FixtureTensor NllMean { get; set; } = new();

    /// <summary>Gradients of the mean NLL, by parameter name ("hidden" for the hidden states).</summary>
    public Dictionary<string, FixtureTensor> NllGrads { get; set; } = [];

    /// <summary>Gradients of Σ log_probs ⊙ upstream, by name.</summary>
    public Dictionary<string, FixtureTensor> LogProbsGrads { get; set; } = [];
}

public sealed class HeadsFile
{
    public string TorchVersion { get; set; } = "";
    public HeadCase[] Cases { get; set; } = [];
}

// The four heads against the reference's own head code in PyTorch: log-probabilities to 1e-5 relative, both
// NLLs, and every gradient (hidden states and each parameter) of the NLL and of Σ log p ⊙ R to 1e-4. Both
// the fused path and the composed one are held to the fixture.
public abstract class HeadParityTests(Device device) : OnDevice(device)
{
    private const double ValueRtol = 1e-5, GradRtol = 1e-4, Atol = 1e-6;
    private static readonly Lazy<HeadsFile> File = new(() => Fixtures.Load<HeadsFile>("heads.json"));

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var c in File.Value.Cases)
        {
            data.Add(c.Name, true);
            data.Add(c.Name, false);
        }
        return data;
    }

    internal static OutputHead Build(HeadCase c)
    {
        var head = OutputHead.Create(HeadKinds.Parse(c.Head), c.D, c.Vocab, new Generator(0), c.Emsize, c.Experts);
        head.LoadStateDict(c.Params.ToDictionary(p => p.Key, p => p.Value.ToTensor()));
        // Chunks of 4 rows out of 6: one full chunk and one partial one.
        if (head is MixtureHead mixture) mixture.ChunkRows = 4;
        return head;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Log_probabilities_and_their_gradients_match_pytorch(string name, bool fused)
    {
        var c = File.Value.Cases.Single(x => x.Name == name);
        var head = Build(c);
        var hidden = c.Hidden.ToTensor().RequireGrad();
        var logProbs = fused ? head.LogProbs(hidden) : head.LogProbsComposed(hidden);
        string tag = fused ? "fused" : "composed";
        Fixtures.AssertClose(name, $"{tag} log_probs", c.LogProbs, logProbs, ValueRtol, Atol);
        (logProbs * c.Upstream.ToTensor()).Sum().Backward();
        AssertGrads(c, $"{tag} log_probs", head, hidden, c.LogProbsGrads, 1f);
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Nll_and_its_gradients_match_pytorch(string name, bool fused)
    {
        var c = File.Value.Cases.Single(x => x.Name == name);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            var head = Build(c);
            var hidden = c.Hidden.ToTensor().RequireGrad();
            var loss = fused ? head.Nll(hidden, c.Targets, reduction) : head.NllComposed(hidden, c.Targets, reduction);
            string tag = $"{(fused ? "fused" : "composed")} nll {reduction}";
            Fixtures.AssertClose(name, tag, reduction == Reduction.Mean ? c.NllMean : c.NllSum, loss, ValueRtol, Atol);
            loss.Backward();
            // The fixture holds the mean's gradients; the sum's are N times those.
            AssertGrads(c, tag, head, hidden, c.NllGrads, reduction == Reduction.Mean ? 1f : c.N);
        }
    }

    [SkippableFact]
    public void Parameter_names_and_shapes_are_the_references()
    {
        foreach (var c in File.Value.Cases)
        {
            var head = OutputHead.Create(HeadKinds.Parse(c.Head), c.D, c.Vocab, new Generator(0), c.Emsize, c.Experts);
            var ours = head.StateDict().ToDictionary(p => p.Key, p => p.Value.Shape);
            Assert.Equal(c.Params.Keys.Order(), ours.Keys.Order());
            foreach (var (key, value) in c.Params) Assert.Equal(value.Shape, ours[key]);
        }
    }

    [SkippableFact]
    public void Fixture_covers_every_head_and_explains_looser_tolerances()
    {
        var cases = File.Value.Cases;
        Assert.Equal(["mos", "moss", "sigsoftmax", "softmax"], cases.Select(c => c.Head).Distinct().Order());
        foreach (var c in cases)
        {
            Assert.Contains(c.GradScale, new[] { "element", "tensor" });
            if (c.GradScale != "element") Assert.False(string.IsNullOrWhiteSpace(c.GradScaleWhy), c.Name);
            if (c.GradRtol is double r)
            {
                Assert.False(string.IsNullOrWhiteSpace(c.GradRtolWhy), c.Name);
                Assert.True(r <= 1e-3, $"{c.Name}: gradient tolerance {r} is too loose");
            }
        }
        // Every head has an ordinary case held element by element at the default tolerance.
        foreach (var head in cases.Select(c => c.Head).Distinct())
            Assert.Contains(cases, c => c.Head == head && c.GradScale == "element" && c.GradRtol is null);
    }

    private static void AssertGrads(HeadCase c, string tag, OutputHead head, Tensor hidden, Dictionary<string, FixtureTensor> expected, float factor)
    {
        var named = head.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        named["hidden"] = hidden;
        Assert.Equal(expected.Keys.Order(), named.Keys.Order());
        double rtol = c.GradRtol ?? GradRtol;
        foreach (var (key, fixture) in expected)
        {
            var grad = named[key].Grad;
            Assert.True(grad is not null, $"case '{c.Name}', {tag}: {key} got no gradient");
            var want = fixture.Data.Select(x => x * factor).ToArray();
            var got = grad!.ToArray();
            Assert.True(got.All(float.IsFinite), $"case '{c.Name}', {tag}: gradient of {key} is not finite");
            if (c.GradScale == "element")
            {
                Fixtures.AssertClose(c.Name, $"{tag} grad {key}", fixture.Shape, want, got, rtol, Atol);
            }
            else
            {
                // Each element to rtol of the tensor's largest element (make_head_fixtures.py says why).
                double scale = want.Max(x => Math.Abs((double)x));
                Fixtures.AssertClose(c.Name, $"{tag} grad {key} (to {rtol:G2} of max {scale:G3})", fixture.Shape, want, got, 0, Atol + rtol * scale);
            }
        }
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class HeadParityTestsCpu() : HeadParityTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class HeadParityTestsCuda() : HeadParityTests(Device.Cuda);
