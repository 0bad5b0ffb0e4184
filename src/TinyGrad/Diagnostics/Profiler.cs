using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace TinyGrad.Diagnostics;

/// <summary>The kernel families a training step's time is split into (see <see cref="Profiler"/>).</summary>
public enum Phase
{
    /// <summary>Matrix products (every GEMM, wherever it is called from).</summary>
    Gemm,
    /// <summary>The fused LSTM cell, forward and backward (the gates' nonlinearities and the state update).</summary>
    LstmCell,
    /// <summary>The output heads' normalisers, NLL and mixture kernels (their GEMMs count as <see cref="Gemm"/>).</summary>
    Head,
    /// <summary>Embedding lookups and their scatter-add backward.</summary>
    Embedding,
    /// <summary>Optimizer updates and gradient-norm clipping.</summary>
    Optimizer,
    /// <summary>Everything else the backend runs: elementwise maps, reductions, copies, fills, allocation.</summary>
    Elementwise,
}

/// <summary>
/// A per-phase wall-clock profile of the kernels, for the end-to-end benchmark (<c>bench -- lm --profile</c>).
/// Off by default: a disabled scope costs one static read. Time is exclusive: a phase that starts inside
/// another (a GEMM inside a fused head) stops the outer one's clock, so the phases add up to the kernels'
/// total and the rest of a step is tape bookkeeping and managed overhead.
/// </summary>
/// <remarks>
/// Only the thread that enabled it is profiled (the training loop's thread; the GEMM's pool threads work
/// inside a scope opened on it). Not meant for concurrent use.
/// </remarks>
public static class Profiler
{
    private static readonly long[] s_ticks = new long[Enum.GetValues<Phase>().Length];
    private static readonly long[] s_calls = new long[s_ticks.Length];
    private static readonly Stack<(Phase Phase, string Kernel, long Start)> s_open = new();
    private static readonly Dictionary<(Phase, string), (long Ticks, long Calls)> s_kernels = new();
    private static int s_thread;
    private static bool s_enabled;

    /// <summary>Turns profiling on (for the calling thread) or off.</summary>
    public static bool Enabled
    {
        get => s_enabled;
        set
        {
            s_thread = Environment.CurrentManagedThreadId;
            s_open.Clear();
            s_enabled = value;
        }
    }

    /// <summary>Clears the accumulated times.</summary>
    public static void Reset()
    {
        Array.Clear(s_ticks);
        Array.Clear(s_calls);
        s_kernels.Clear();
        s_open.Clear();
    }

    /// <summary>Opens a timed scope for <paramref name="kernel"/> (the calling method unless named); dispose it to close. Free when profiling is off.</summary>
    public static Scope Begin(Phase phase, [CallerMemberName] string kernel = "")
    {
        if (!s_enabled || Environment.CurrentManagedThreadId != s_thread) return default;
        long now = Stopwatch.GetTimestamp();
        if (s_open.TryPop(out var outer))
        {
            Charge(outer, now);
            s_open.Push((outer.Phase, outer.Kernel, now)); // restarted when this scope ends
        }
        s_open.Push((phase, kernel, now));
        s_calls[(int)phase]++;
        ref var k = ref CollectionsMarshal.GetValueRefOrAddDefault(s_kernels, (phase, kernel), out _);
        k.Calls++;
        return new Scope(true);
    }

    private static void End()
    {
        if (!s_open.TryPop(out var top)) return;
        long now = Stopwatch.GetTimestamp();
        Charge(top, now);
        if (s_open.TryPop(out var outer)) s_open.Push((outer.Phase, outer.Kernel, now)); // the outer phase's clock restarts
    }

    private static void Charge((Phase Phase, string Kernel, long Start) scope, long now)
    {
        s_ticks[(int)scope.Phase] += now - scope.Start;
        ref var k = ref CollectionsMarshal.GetValueRefOrAddDefault(s_kernels, (scope.Phase, scope.Kernel), out _);
        k.Ticks += now - scope.Start;
    }

    /// <summary>Seconds spent in <paramref name="phase"/> since the last <see cref="Reset"/>.</summary>
    public static double Seconds(Phase phase) => (double)s_ticks[(int)phase] / Stopwatch.Frequency;

    /// <summary>
    /// One line per phase with its seconds and share of <paramref name="totalSeconds"/>, then the remainder
    /// (tape and managed overhead) and the garbage collector's pause time (which overlaps the phases).
    /// </summary>
    public static string Report(double totalSeconds, double gcSeconds)
    {
        var sb = new StringBuilder();
        double accounted = 0;
        foreach (var phase in Enum.GetValues<Phase>())
        {
            double s = Seconds(phase);
            accounted += s;
            sb.Append(CultureInfo.InvariantCulture, $"  {phase,-12} {s * 1e3,9:F1} ms {100 * s / totalSeconds,5:F1} %  ({s_calls[(int)phase]} calls)\n");
            foreach (var (key, value) in s_kernels.Where(p => p.Key.Item1 == phase).OrderByDescending(p => p.Value.Ticks))
            {
                double ks = (double)value.Ticks / Stopwatch.Frequency;
                sb.Append(CultureInfo.InvariantCulture, $"      {key.Item2,-24} {ks * 1e3,9:F1} ms {100 * ks / totalSeconds,5:F1} %  ({value.Calls} calls)\n");
            }
        }
        double rest = totalSeconds - accounted;
        sb.Append(CultureInfo.InvariantCulture, $"  {"other",-12} {rest * 1e3,9:F1} ms {100 * rest / totalSeconds,5:F1} %  (tape, managed overhead)\n");
        sb.Append(CultureInfo.InvariantCulture, $"  {"gc pauses",-12} {gcSeconds * 1e3,9:F1} ms {100 * gcSeconds / totalSeconds,5:F1} %  (inside the phases above)");
        return sb.ToString();
    }

    /// <summary>An open profiling scope.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool _open;

        internal Scope(bool open) => _open = open;

        /// <summary>Closes the scope.</summary>
        public void Dispose()
        {
            if (_open) End();
        }
    }
}
