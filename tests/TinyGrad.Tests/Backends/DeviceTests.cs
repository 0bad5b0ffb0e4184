namespace TinyGrad.Tests.Backends;

using TinyGrad.Backends;
using TinyGrad.NN;
using TinyGrad.Optim;

// The device plumbing that works without a GPU: the default-device scope, Module.To, device-side clipping.
public class DeviceTests
{
    private static readonly Device Dummy = Device.Register("dummy", () => TinyGrad.Backends.Cpu.CpuBackend.Instance);

    [Fact]
    public void The_default_device_is_the_cpu_and_a_scope_changes_it_until_disposed()
    {
        Assert.Equal(Device.Cpu, Device.Default);
        using (Device.UseDefault(Dummy))
        {
            Assert.Equal(Dummy, Device.Default);
            using (Device.UseDefault(Device.Cpu)) Assert.Equal(Device.Cpu, Device.Default);
            Assert.Equal(Dummy, Device.Default);
        }
        Assert.Equal(Device.Cpu, Device.Default);
    }

    [Fact]
    public void Naming_the_cuda_device_loads_nothing()
    {
        Assert.Equal("cuda", Device.Cuda.Name);
        Assert.NotEqual(Device.Cpu, Device.Cuda);
    }

    [Fact]
    public void Module_to_its_own_device_keeps_the_parameters_and_their_tying()
    {
        var g = new Generator(1);
        var embedding = new Embedding(5, 3, g);
        var model = new TiedModel(embedding, new Linear(3, 5, g));
        var before = model.Parameters().ToList();
        Assert.Same(model, model.To(Device.Cpu));
        Assert.Equal(before, model.Parameters().ToList());
        Assert.Same(model.Encoder.Weight, model.Decoder.Weight);
    }

    private sealed class TiedModel : Module
    {
        public TiedModel(Embedding encoder, Linear decoder)
        {
            Encoder = RegisterModule("encoder", encoder);
            Decoder = RegisterModule("decoder", decoder);
            decoder.Weight = encoder.Weight;
        }

        public Embedding Encoder { get; }

        public Linear Decoder { get; }
    }

    public static TheoryData<float> MaxNorms => new(0.05f, 1f, 1e6f);

    [Theory]
    [MemberData(nameof(MaxNorms))]
    public void Device_side_clipping_gives_the_same_bits_as_ClipGradNorm(float maxNorm)
    {
        var (a, b) = (Params(7), Params(7));
        float hostNorm = ClipGrad.ClipGradNorm(a, maxNorm);
        var deviceNorm = ClipGrad.ClipGradNormOnDevice(b, maxNorm);
        Assert.Equal(hostNorm, deviceNorm.Item());
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i].Grad!.ToArray(), b[i].Grad!.ToArray());
    }

    [Fact]
    public void Device_side_clipping_leaves_gradients_alone_when_the_norm_is_not_finite()
    {
        var p = Params(3);
        var g = p[0].Grad!.ToArray();
        g[0] = float.NaN;
        p[0].Grad = Tensor.FromArray(g, p[0].Shape);
        var before = p[1].Grad!.ToArray();
        Assert.True(float.IsNaN(ClipGrad.ClipGradNormOnDevice(p, 0.1f).Item()));
        Assert.Equal(before, p[1].Grad!.ToArray());
    }

    private static Tensor[] Params(ulong seed)
    {
        var g = new Generator(seed);
        var ps = new[] { Tensor.Randn([4, 3], g).RequireGrad(), Tensor.Randn([5], g).RequireGrad() };
        foreach (var p in ps) p.Grad = Tensor.Randn(p.Shape, g);
        return ps;
    }
}

// Runs in a class whose constructor set the default device: the test method must see it (OnDevice relies on this).
public sealed class OnDeviceScopeTests() : OnDevice(Scoped)
{
    private static readonly Device Scoped = Device.Register("scoped", () => TinyGrad.Backends.Cpu.CpuBackend.Instance);

    [Fact]
    public void A_test_sees_the_device_its_class_made_default()
    {
        Assert.Equal("scoped", Device.Default.Name);
        Assert.Same(Device, Device.Default);
    }
}
