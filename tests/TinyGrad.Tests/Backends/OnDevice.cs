namespace TinyGrad.Tests.Backends;

using TinyGrad.Backends;
using TinyGrad.Backends.Cuda;

/// <summary>
/// The base of a test class that runs on one device. A suite is written once as an abstract class deriving from
/// this, with a sealed <c>…Cpu</c> and <c>…Cuda</c> subclass each naming its device (tinygrad's "the GPU test class
/// reuses the CPU tests"). For the test's duration the device is the default (<see cref="Device.UseDefault"/>), so
/// fixtures, tensors and layers the test creates without naming a device land on it. On a machine without a usable
/// GPU the CUDA subclass's tests are skipped with the reason (their attributes must be SkippableFact/SkippableTheory).
/// </summary>
public abstract class OnDevice : IDisposable
{
    private readonly IDisposable _scope;

    /// <summary>Skips when <paramref name="device"/> is CUDA and there is none, then makes it the default device.</summary>
    protected OnDevice(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device == Device.Cuda) Skip.IfNot(CudaBackend.IsAvailable, $"no usable CUDA GPU here ({CudaBackend.UnavailableReason})");
        Device = device;
        _scope = Device.UseDefault(device);
    }

    /// <summary>The device this test class runs on.</summary>
    protected Device Device { get; }

    /// <summary>True when CUDA is usable in this process (tests that need a GPU skip on it).</summary>
    public static bool CudaAvailable => CudaBackend.IsAvailable;

    /// <summary>Restores the previous default device.</summary>
    public void Dispose()
    {
        _scope.Dispose();
        GC.SuppressFinalize(this);
    }
}
