using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TinyGrad.NN.Heads;

namespace TinyGrad.Bench;

/// <summary>
/// BenchmarkDotNet suite: the NLL of each output head, forward + backward, at the size of the paper's small
/// configuration (N = 700 rows = 35 steps × 20 streams, d = 200, V = 10,000; K = 15 experts with contexts of
/// 200 for the mixtures), fused beside the same head composed from primitive ops (the baseline), so the saving
/// is a ratio from one run. Run: <c>dotnet run -c Release --project bench/TinyGrad.Bench -- --filter *HeadBenchmarks*</c>.
/// </summary>
/// <remarks>
/// Columns: time; Allocated (BenchmarkDotNet's memory diagnoser, per operation); "Peak heap" — the largest
/// managed heap seen while the benchmark ran, over the heap after setup (sampled every millisecond, so it is
/// the memory the operation needs at once, garbage not yet collected included); and "Peak WS", the process's
/// peak working set. Each case runs in its own process, so the peaks are per case. One operation takes
/// 0.1–10 s, so a short job (1 invocation per iteration, 2 warm-ups, 5 iterations) is enough.
/// </remarks>
[Config(typeof(HeadBenchmarkConfig))]
public class HeadBenchmarks
{
    private const int N = 700, D = 200, V = 10_000, K = 15, E = 200;
    private OutputHead _head = null!;
    private Tensor _hidden = null!;
    private int[] _targets = [];
    private PeakSampler? _sampler;

    /// <summary>The head under test, by name: the results table and the peak file's keys show the reference's names.</summary>
    [Params("softmax", "sigsoftmax", "mos", "moss")]
    public string Head { get; set; } = "softmax";

    /// <summary>Builds the head, a batch of hidden states and targets, then starts the heap sampler.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _head = OutputHead.Create(HeadKinds.Parse(Head), D, V, new Generator(1), embeddingSize: E, experts: K);
        _hidden = Tensor.Randn([N, D], new Generator(2)).RequireGrad();
        var g = new Generator(3);
        _targets = [.. Enumerable.Range(0, N).Select(_ => g.NextInt(V))];
        _sampler = new PeakSampler();
    }

    /// <summary>The NLL composed from primitive ops (for the mixtures the full [N, K, V] tensor), forward and backward.</summary>
    [Benchmark(Baseline = true)]
    public float Composed() => Step(_head.NllComposed(_hidden, _targets));

    /// <summary>The fused NLL (one tape node; the mixtures in chunks), forward and backward.</summary>
    [Benchmark]
    public float Fused() => Step(_head.Nll(_hidden, _targets));

    /// <summary>Records the peaks of the composed run.</summary>
    [GlobalCleanup(Target = nameof(Composed))]
    public void CleanupComposed() => _sampler?.Save(Head, nameof(Composed));

    /// <summary>Records the peaks of the fused run.</summary>
    [GlobalCleanup(Target = nameof(Fused))]
    public void CleanupFused() => _sampler?.Save(Head, nameof(Fused));

    private float Step(Tensor loss)
    {
        loss.Backward();
        _head.ZeroGrad();
        _hidden.ZeroGrad();
        return loss.Item();
    }

    /// <summary>Samples the managed heap every millisecond on a background thread and keeps the maximum.</summary>
    private sealed class PeakSampler
    {
        private readonly long _baseline;
        private long _peak;
        private volatile bool _stop;

        public PeakSampler()
        {
            _baseline = GC.GetTotalMemory(forceFullCollection: true);
            _peak = _baseline;
            new Thread(() =>
            {
                while (!_stop)
                {
                    _peak = Math.Max(_peak, GC.GetTotalMemory(false));
                    Thread.Sleep(1);
                }
            })
            { IsBackground = true }.Start();
        }

        public void Save(string head, string method)
        {
            _stop = true;
            long ws = Process.GetCurrentProcess().PeakWorkingSet64;
            File.AppendAllText(PeakColumn.FilePath, string.Create(CultureInfo.InvariantCulture, $"{head}/{method}\t{_peak - _baseline}\t{ws}\n"));
        }
    }
}

/// <summary>The suite's job and columns: a short job, the memory diagnoser, and the two peak columns.</summary>
public sealed class HeadBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public HeadBenchmarkConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5)
            .WithInvocationCount(1).WithUnrollFactor(1).WithId("HeadShort"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new PeakColumn(heap: true), new PeakColumn(heap: false));
    }
}

/// <summary>
/// A column that reads the peaks each benchmark process appended to a file when it finished (the last line
/// for a case wins, so a rerun replaces an earlier run's figures).
/// </summary>
public sealed class PeakColumn(bool heap) : IColumn
{
    /// <summary>Where the benchmark processes leave their peaks.</summary>
    public static string FilePath => Path.Combine(Path.GetTempPath(), "tinygrad-head-bench-peaks.tsv");

    /// <inheritdoc/>
    public string Id => heap ? "PeakHeap" : "PeakWS";

    /// <inheritdoc/>
    public string ColumnName => heap ? "Peak heap" : "Peak WS";

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Metric;

    /// <inheritdoc/>
    public int PriorityInCategory => heap ? 10 : 11;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Size;

    /// <inheritdoc/>
    public string Legend => heap
        ? "Largest managed heap while the case ran, over the heap after setup (sampled every 1 ms)"
        : "Peak working set of the case's process";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (!File.Exists(FilePath)) return "?";
        string key = $"{benchmarkCase.Parameters["Head"]}/{benchmarkCase.Descriptor.WorkloadMethod.Name}";
        var line = File.ReadAllLines(FilePath).LastOrDefault(l => l.StartsWith(key + "\t", StringComparison.Ordinal));
        if (line is null) return "?";
        long bytes = long.Parse(line.Split('\t')[heap ? 1 : 2], CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MB");
    }

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
}
