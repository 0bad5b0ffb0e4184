namespace TinyGrad.Tests.Backends;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.Backends.Cuda;
using TinyGrad.Tests.Heads;

// Each kernel family of a device against the family's reference (written with the core, in Backends/Kernels):
// the LSTM cell, the optimizers (dynamic evaluation's step among them) and clipping here; the heads in
// HeadKernelReferenceTests and FusedHeadKernelTests.
// The same inputs go to both, on the same device; any difference is the fast kernel's.
public abstract class KernelFamilyTests(Device device) : OnDevice(device)
{
    private IBackend Be => Device.Backend;

    private static float[] Random(int n, float scale, int seed) => HostArrays.Random(n, scale, seed);

    private float[] Read(Storage s, int n) => HostArrays.Read(Be, s, n);

    private static void Close(float[] want, float[] got, string what, double tolerance = 2e-6)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= tolerance * (1 + Math.Abs(want[i])), $"{what}[{i}]: reference {want[i]:G9}, kernel {got[i]:G9}");
    }

    [SkippableFact]
    public void The_lstm_cell_matches_its_reference()
    {
        const int B = 3, H = 19; // a vector body and a scalar tail
        var gates = Random(4 * B * H + 5, 4f, 1);  // 5 leading elements: the offset is honoured
        var cPrev = Random(B * H + 2, 2f, 2);
        var dh = Random(B * H + 3, 1f, 3);
        var dc = Random(B * H, 1f, 4);
        var fast = Be.Lstm();
        var reference = new ReferenceLstmKernels(Be);
        var results = new List<float[]>();
        foreach (var kernels in new ILstmKernels[] { reference, fast })
        {
            var g = Be.FromHost(gates);
            var cp = Be.FromHost(cPrev);
            var c = Be.Allocate(B * H + 1);
            var h = Be.Allocate(B * H + 4);
            kernels.LstmCellForward(g, 5, cp, 2, c, 1, h, 4, B, H);
            var dGates = Be.Allocate(4 * B * H + 6);
            var dcs = Be.FromHost(dc);
            kernels.LstmCellBackward(g, 5, cp, 2, c, 1, Be.FromHost(dh), 3, dcs, dGates, 6, B, H);
            results.Add([.. Read(g, 4 * B * H + 5), .. Read(c, B * H + 1), .. Read(h, B * H + 4), .. Read(dGates, 4 * B * H + 6), .. Read(dcs, B * H)]);
        }
        Close(results[0], results[1], "lstm cell (activations, c, h, dGates, dc)");
    }

    public static TheoryData<float, float, float, bool, bool> SgdCases() => new()
    {
        { 0f, 0f, 0f, false, false }, { 0.9f, 0f, 0f, false, true }, { 0.9f, 0.1f, 1e-2f, false, false }, { 0.9f, 0f, 1e-2f, true, false },
    };

    [SkippableTheory]
    [MemberData(nameof(SgdCases))]
    public void Sgd_matches_its_reference(float momentum, float dampening, float weightDecay, bool nesterov, bool firstStep)
    {
        const int N = 70_001; // more than one parallel chunk
        var (p, g, buf) = (Random(N, 1f, 5), Random(N, 1f, 6), Random(N, 1f, 7));
        var h = new SgdHyper(0.1f, momentum, dampening, weightDecay, nesterov);
        var results = new List<float[]>();
        foreach (var kernels in new IOptimizerKernels[] { new ReferenceOptimizerKernels(Be), Be.Optimizer() })
        {
            var (ps, gs, bs) = (Be.FromHost(p), Be.FromHost(g), momentum == 0f ? null : Be.FromHost(buf));
            kernels.SgdStep(ps, gs, bs, N, h, firstStep);
            results.Add([.. Read(ps, N), .. bs is null ? [] : Read(bs, N)]);
        }
        Close(results[0], results[1], "sgd (param, buffer)");
    }

    [SkippableTheory]
    [InlineData(0f, false, 1)]
    [InlineData(1e-2f, false, 3)]
    [InlineData(1e-2f, true, 7)]
    public void Adam_and_the_averaging_lerp_match_their_reference(float weightDecay, bool decoupled, int step)
    {
        const int N = 1_001;
        var (p, g, m, v) = (Random(N, 1f, 8), Random(N, 1f, 9), Random(N, 0.1f, 10), Random(N, 0.01f, 11).Select(MathF.Abs).ToArray());
        var h = new AdamHyper(1e-3f, 0.9f, 0.999f, 1e-8f, weightDecay, decoupled);
        var results = new List<float[]>();
        foreach (var kernels in new IOptimizerKernels[] { new ReferenceOptimizerKernels(Be), Be.Optimizer() })
        {
            var (ps, gs, ms, vs) = (Be.FromHost(p), Be.FromHost(g), Be.FromHost(m), Be.FromHost(v));
            kernels.AdamStep(ps, gs, ms, vs, N, h, step);
            var avg = Be.FromHost(m);
            kernels.Lerp(avg, ps, N, 0.25f);
            var copy = Be.FromHost(m);
            kernels.Lerp(copy, ps, N, 1f);
            results.Add([.. Read(ps, N), .. Read(ms, N), .. Read(vs, N), .. Read(avg, N), .. Read(copy, N)]);
        }
        Close(results[0], results[1], "adam (param, m, v) and lerp", 1e-5);
    }

    [SkippableFact]
    public void The_dynamic_evaluation_step_matches_its_reference()
    {
        const int N = 70_005; // more than one parallel chunk, and a scalar tail
        var (p, g, p0) = (Random(N, 1f, 13), Random(N, 1f, 14), Random(N, 1f, 15));
        var pull = Random(N, 0.05f, 16).Select(MathF.Abs).ToArray();
        var denom = Random(N, 0.01f, 17).Select(x => MathF.Abs(x) + 1e-3f).ToArray();
        var results = new List<float[]>();
        foreach (var kernels in new IOptimizerKernels[] { new ReferenceOptimizerKernels(Be), Be.Optimizer() })
        {
            var ps = Be.FromHost(p);
            kernels.DynamicEvaluationStep(ps, Be.FromHost(g), Be.FromHost(p0), Be.FromHost(pull), Be.FromHost(denom), N, 2e-3f);
            results.Add(Read(ps, N));
        }
        // The same float32 operations in the same order: equal bits on the CPU.
        Close(results[0], results[1], "dynamic evaluation step", Device == Device.Cpu ? 0 : 1e-6);
        Assert.NotEqual(p, results[1]); // negative control: the step moved the weights
    }

    [SkippableFact]
    public void Clipping_matches_its_reference()
    {
        var x = Random(70_003, 3f, 12);
        var results = new List<float[]>();
        foreach (var kernels in new IClipKernels[] { new ReferenceClipKernels(Be), Be.Clip() })
        {
            var total = Be.Allocate(2);
            kernels.AddSumOfSquares(Be.FromHost(x), x.Length, total);
            kernels.AddSumOfSquares(Be.FromHost(x), 1000, total); // accumulates
            var result = Be.Allocate(2);
            kernels.ClipCoefficient(total, 0.25f, result);
            var loose = Be.Allocate(2);
            kernels.ClipCoefficient(total, 1e9f, loose); // norm below the limit: factor 1
            results.Add([.. Read(result, 2), .. Read(loose, 2)]);
        }
        Close(results[0], results[1], "clip (factor, norm)", 1e-6);
        Assert.Equal(1f, results[1][2]);
    }
}

/// <summary>The CPU's families against their references.</summary>
public sealed class KernelFamilyTestsCpu() : KernelFamilyTests(Device.Cpu);

/// <summary>CUDA's families against their references (skipped without a GPU).</summary>
public sealed class KernelFamilyTestsCuda() : KernelFamilyTests(Device.Cuda);

/// <summary>The head kernels' suite on the core-only backend: the reference head kernels against NormalizerReference.</summary>
public sealed class HeadKernelReferenceTestsCoreOnly() : HeadKernelReferenceTests(CoreOnlyBackend.Device);

/// <summary>The huge-input suite on the core-only backend: every op through the core and the reference families.</summary>
public sealed class HugeInputTestsCoreOnly() : TinyGrad.Tests.Ops.HugeInputTests(CoreOnlyBackend.Device);

/// <summary>The heads on huge logits through the reference head kernels.</summary>
public sealed class HeadHugeInputTestsCoreOnly() : TinyGrad.Tests.Ops.HeadHugeInputTests(CoreOnlyBackend.Device);

/// <summary>A third backend needs only the core: WordLM trains on it, through every family's reference, as on the CPU.</summary>
public sealed class CoreOnlyBackendTests
{
    [Theory]
    [MemberData(nameof(CudaParityTests.Heads), MemberType = typeof(CudaParityTests))]
    public void Training_on_the_core_alone_gives_the_cpus_losses(HeadKind head)
    {
        var cpu = CudaParityTests.TrainingLosses(head, Device.Cpu, 5);
        var core = CudaParityTests.TrainingLosses(head, CoreOnlyBackend.Device, 5);
        for (int i = 0; i < cpu.Length; i++)
            Assert.True(Math.Abs(cpu[i] - core[i]) <= 1e-4 * Math.Abs(cpu[i]), $"{HeadKinds.Name(head)} step {i + 1}: cpu {cpu[i]:G9}, core-only {core[i]:G9}");
    }

    [Fact]
    public void The_core_only_device_is_found_by_name_and_has_no_family()
    {
        Assert.Same(CoreOnlyBackend.Device, Device.Named("core-only"));
        Assert.Contains("core-only", Device.Names);
        var be = CoreOnlyBackend.Device.Backend;
        Assert.IsType<ReferenceHeadKernels>(be.Heads());
        Assert.IsType<ReferenceLstmKernels>(be.Lstm());
        Assert.IsType<ReferenceOptimizerKernels>(be.Optimizer());
        Assert.IsType<ReferenceClipKernels>(be.Clip());
        Assert.Same(Device.Cpu.Backend, Device.Cpu.Backend.Heads()); // the CPU runs its own
        var e = Assert.Throws<ArgumentException>(() => Device.Named("tpu"));
        Assert.Contains("unknown device 'tpu'", e.Message);
    }
}

/// <summary>WordLM reaches a registered third backend by name, with no edit to WordLM.</summary>
[Collection("WordLM")]
public sealed class CoreOnlyWordLMTests(TinyGrad.Tests.WordLM.WordLMFixture fixture)
{
    [Fact]
    public void Train_runs_on_a_registered_device_named_on_the_command_line()
    {
        _ = CoreOnlyBackend.Device; // registered by its static initialiser
        var (code, stdout, stderr) = TinyGrad.Tests.WordLM.ConsoleCapture.Run(() => global::WordLM.Program.Main(["train", "--data", fixture.Directory,
            "--device", "core-only", "--head", "sigsoftmax", "--emsize", "8", "--nhid", "16", "--epochs", "1", "--max-steps", "2",
            "--batch-size", "8", "--bptt", "10", "--log-interval", "1"]));
        Assert.True(code == 0, stderr);
        Assert.Contains("device core-only", stdout);
        Assert.Matches("test ppl [0-9.]+", stdout);
    }
}
