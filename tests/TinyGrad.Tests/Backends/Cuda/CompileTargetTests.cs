namespace TinyGrad.Tests.Backends.Cuda;

using TinyGrad.Backends.Cuda;

public class CompileTargetTests
{
    [Fact]
    public void A_supported_architecture_gets_a_cubin_for_itself()
    {
        var t = CompileTarget.Choose(90, [75, 80, 86, 89, 90]);
        Assert.Equal(("sm_90", true, "--gpu-architecture=sm_90", ".cubin"), (t.Architecture, t.Cubin, t.Option, t.Extension));
    }

    [Fact]
    public void A_gpu_newer_than_nvrtc_gets_ptx_for_the_newest_older_virtual_architecture()
    {
        var t = CompileTarget.Choose(120, [75, 80, 90]);
        Assert.Equal(("compute_90", false, ".ptx"), (t.Architecture, t.Cubin, t.Extension));
    }

    [Fact]
    public void Without_a_list_the_gpus_own_architecture_is_trusted()
    {
        Assert.Equal("sm_86", CompileTarget.Choose(86, []).Architecture);
    }

    [Fact]
    public void A_gpu_older_than_every_supported_architecture_is_unavailable()
    {
        var e = Assert.Throws<CudaUnavailableException>(() => CompileTarget.Choose(35, [50, 90]));
        Assert.Contains("sm_35", e.Message, StringComparison.Ordinal);
    }
}
