namespace TinyGrad.Tests.Diagnostics;

using System.Diagnostics;
using TinyGrad.Diagnostics;

// The profiler is global state: its tests run alone (the GEMM collection also changes global settings).
[Collection(nameof(TinyGrad.Tests.Backends.GemmTests))]
public class ProfilerTests
{
    [Fact]
    public void Nested_scopes_charge_time_exclusively_and_count_calls()
    {
        Profiler.Reset();
        Profiler.Enabled = true;
        try
        {
            using (Profiler.Begin(Phase.Head, "outer"))
            {
                Spin(20);
                using (Profiler.Begin(Phase.Gemm, "inner")) Spin(40);
                Spin(20);
            }
        }
        finally
        {
            Profiler.Enabled = false;
        }
        // The inner 40 ms belong to Gemm alone; Head keeps the 40 ms around it, not 80.
        Assert.InRange(Profiler.Seconds(Phase.Gemm), 0.035, 0.2);
        Assert.InRange(Profiler.Seconds(Phase.Head), 0.035, 0.2);
        string report = Profiler.Report(0.1, 0.0);
        Assert.Contains("outer", report);
        Assert.Contains("inner", report);
        Assert.Contains("(1 calls)", report);
        Profiler.Reset();
    }

    [Fact]
    public void A_disabled_profiler_records_nothing()
    {
        Profiler.Reset();
        using (Profiler.Begin(Phase.Optimizer)) Spin(5);
        Assert.Equal(0.0, Profiler.Seconds(Phase.Optimizer));
    }

    private static void Spin(int milliseconds)
    {
        long end = Stopwatch.GetTimestamp() + milliseconds * Stopwatch.Frequency / 1000;
        while (Stopwatch.GetTimestamp() < end) { }
    }
}
