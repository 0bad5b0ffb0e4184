namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;
using TinyGrad.Optim;
using TinyGrad.Tests.Parity;

// CPU against GPU directly (besides each device against PyTorch in the per-device suites): every op of the fixture
// file to 1e-4 relative, and the first 50 steps of a WordLM training run to 1e-3. Skipped without a GPU.
public class CudaParityTests
{
    private const double Rtol = 1e-4, Atol = 1e-6;

    private static void SkipWithoutGpu() => Skip.IfNot(OnDevice.CudaAvailable, "no usable CUDA GPU here");

    public static TheoryData<string> CaseNames => new(Fixtures.Ops.Cases.Select(c => c.Name));

    private static (float[][] Outputs, float[][] Grads) Run(OpCase c, Device device)
    {
        var inputs = c.Inputs.Select(t => Tensor.FromArray(t.Data, t.Shape, device).RequireGrad()).ToArray();
        var outputs = OpParityTests.Runners[c.Op](c, inputs);
        Tensor loss = (outputs[0] * Tensor.FromArray(c.Upstream[0].Data, c.Upstream[0].Shape, device)).Sum();
        for (int k = 1; k < outputs.Length; k++) loss += (outputs[k] * Tensor.FromArray(c.Upstream[k].Data, c.Upstream[k].Shape, device)).Sum();
        loss.Backward();
        return ([.. outputs.Select(o => o.ToArray())], [.. inputs.Select(x => x.Grad!.ToArray())]);
    }

    private static void AssertClose(string what, float[] cpu, float[] gpu, double rtol)
    {
        Assert.Equal(cpu.Length, gpu.Length);
        for (int i = 0; i < cpu.Length; i++)
        {
            if (float.IsNaN(cpu[i]) || float.IsInfinity(cpu[i])) Assert.Equal(cpu[i], gpu[i]);
            else Assert.True(Math.Abs(cpu[i] - gpu[i]) <= Atol + rtol * Math.Abs(cpu[i]), $"{what}[{i}]: cpu {cpu[i]}, cuda {gpu[i]}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(CaseNames))]
    public void Every_op_matches_the_cpu_to_1e_4(string name)
    {
        SkipWithoutGpu();
        var c = Fixtures.Op(name);
        var cpu = Run(c, Device.Cpu);
        var gpu = Run(c, Device.Cuda);
        for (int k = 0; k < cpu.Outputs.Length; k++) AssertClose($"{name} output {k}", cpu.Outputs[k], gpu.Outputs[k], Rtol);
        for (int i = 0; i < cpu.Grads.Length; i++) AssertClose($"{name} grad {i}", cpu.Grads[i], gpu.Grads[i], Rtol);
    }

    public static TheoryData<HeadKind> Heads => new(HeadKind.Softmax, HeadKind.Sigsoftmax, HeadKind.Mos, HeadKind.Moss);

    /// <summary>The per-step training losses of a small WordLM: SGD with clipping, dropout on, the same seed.</summary>
    internal static float[] TrainingLosses(HeadKind head, Device device, int steps)
    {
        var rng = new Generator(3);
        var tokens = Enumerable.Range(0, 4000).Select(_ => (int)(rng.NextDouble() * rng.NextDouble() * 200)).ToArray();
        var config = new WordLMConfig(200, 16, 32, 2, head, HeadKinds.IsMixture(head) ? 3 : 1);
        var model = new WordLM(config, new Generator(7)) { Dropout = 0.2f, DropoutH = 0.1f, DropoutI = 0.1f, DropoutE = 0.05f, WeightDrop = 0.2f };
        model.InitDecoderBiasFromUnigram(tokens);
        model.To(device);
        var parameters = model.Parameters().ToList();
        var optimizer = new Sgd(parameters, 1f);
        var batches = new Batches(tokens, 8, "parity");
        var losses = new List<Tensor>();
        LstmState[]? state = null;
        for (int i = 0, step = 0; step < steps; step++, i = (i + 10) % (batches.Rows - 11))
        {
            var (inputs, targets, len) = batches.Window(i, 10);
            var (loss, nll, next) = model.TrainingLoss(inputs, targets, len, 8, state, 1f, 1f);
            state = next;
            optimizer.ZeroGrad();
            loss.Backward();
            ClipGrad.ClipGradNormOnDevice(parameters, 0.25f);
            optimizer.Step();
            losses.Add(nll);
        }
        return [.. losses.Select(l => l.Item())];
    }

    [Theory]
    [MemberData(nameof(Heads))]
    public void The_training_run_is_deterministic_and_finite_on_the_cpu(HeadKind head)
    {
        // Checks the helper the GPU comparison relies on: any difference there must come from the device.
        var a = TrainingLosses(head, Device.Cpu, 5);
        Assert.Equal(a, TrainingLosses(head, Device.Cpu, 5));
        Assert.All(a, v => Assert.True(float.IsFinite(v) && v > 0));
    }

    [SkippableTheory]
    [MemberData(nameof(Heads))]
    public void The_first_50_training_steps_give_the_cpus_losses_to_1e_3(HeadKind head)
    {
        SkipWithoutGpu();
        var cpu = TrainingLosses(head, Device.Cpu, 50);
        var gpu = TrainingLosses(head, Device.Cuda, 50);
        AssertClose($"{HeadKinds.Name(head)} loss", cpu, gpu, 1e-3);
    }

    [SkippableFact]
    public void Module_to_cuda_moves_every_parameter_keeps_tying_and_later_optimizers_see_device_tensors()
    {
        SkipWithoutGpu();
        var model = new WordLM(new WordLMConfig(50, 8, 16, 1, HeadKind.Softmax, 1, tied: true), new Generator(1));
        model.To(Device.Cuda);
        Assert.All(model.Parameters(), p => Assert.Equal(Device.Cuda, p.Device));
        Assert.Same(model.Encoder.Weight, model.Head.Decoder.Weight);
        var optimizer = new Sgd(model.Parameters(), 0.1f);
        Assert.All(optimizer.Parameters, p => Assert.Equal(Device.Cuda, p.Device));
    }

    [SkippableFact]
    public void An_op_on_tensors_from_two_devices_is_a_clear_error()
    {
        SkipWithoutGpu();
        var cpu = Tensor.Ones(2, 2);
        var gpu = Tensor.Ones(2, 2).To(Device.Cuda);
        foreach (var op in new Func<Tensor>[] { () => cpu + gpu, () => Tensor.MatMul(cpu, gpu), () => Tensor.Cat([cpu, gpu]) })
        {
            var e = Assert.Throws<ArgumentException>(op);
            Assert.Contains("different devices", e.Message, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public void Tensors_round_trip_and_gradients_flow_back_across_devices()
    {
        SkipWithoutGpu();
        var x = Tensor.FromArray([1f, -2f, 3f], 3).RequireGrad();
        var y = (x.To(Device.Cuda) * 2f).Sum();
        y.Backward();
        Assert.Equal(Device.Cpu, x.Grad!.Device);
        Assert.Equal([2f, 2f, 2f], x.Grad.ToArray());
    }
}
