using System.Diagnostics;
using System.Globalization;
using TinyGrad.Backends.Cpu;
using TinyGrad.Diagnostics;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;
using TinyGrad.Optim;

namespace TinyGrad.Bench;

/// <summary>
/// <c>lm [--head H] [--experts K] [--emsize E] [--nhid H] [--nlayers L] [--vocab V] [--batch-size B] [--bptt T]
/// [--threads N] [--steps S] [--warmup W] [--chunk-rows R] [--profile]</c>: times full word-LM training steps (forward, loss,
/// backward, gradient clipping at 0.25, SGD update) on random token ids, the same step as
/// <c>bench/torch_lm.py</c>. Prints one line:
/// <c>lm head=softmax emsize=200 nhid=200 vocab=10000 threads=1 tokens_per_second=1234.5 peak_mb=456</c>.
/// </summary>
/// <remarks>
/// tokens_per_second is B·T·S over the wall time of the S timed steps (after W warm-up steps); peak_mb is the
/// process's peak resident set (VmHWM), the same measure torch_lm.py reports (ru_maxrss), so both include
/// their runtime. The model is the reference's: tied weights, no dropout (dropout does not change the
/// kernels' cost much and would make the two sides draw different masks). <c>--profile</c> adds a line per
/// phase with its share of the timed steps (see <see cref="Profiler"/>).
/// </remarks>
public static class LmBench
{
    /// <summary>Runs the benchmark.</summary>
    public static int Run(string[] args)
    {
        var head = HeadKind.Softmax;
        int? experts = null;
        int emsize = 200, nhid = 200, nlayers = 2, vocab = 10_000, batch = 20, bptt = 35, threads = 1, steps = 20, warmup = 3;
        bool profile = false;
        int? chunkRows = null;
        string device = "cpu";
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"lm: {args[i]} needs a value");
                int NextInt()
                {
                    string name = args[i], s = Next();
                    if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v <= 0)
                        throw new ArgumentException($"lm: {name} must be a positive integer, got '{s}'");
                    return v;
                }
                switch (args[i])
                {
                    case "--head": head = ParseHead(Next()); break;
                    case "--experts": experts = NextInt(); break;
                    case "--emsize": emsize = NextInt(); break;
                    case "--nhid": nhid = NextInt(); break;
                    case "--nlayers": nlayers = NextInt(); break;
                    case "--vocab": vocab = NextInt(); break;
                    case "--batch-size": batch = NextInt(); break;
                    case "--bptt": bptt = NextInt(); break;
                    case "--threads": threads = NextInt(); break;
                    case "--steps": steps = NextInt(); break;
                    case "--warmup": warmup = NextInt(); break;
                    case "--profile": profile = true; break;
                    case "--chunk-rows": chunkRows = NextInt(); break;
                    case "--device": device = Next(); break;
                    default:
                        throw new ArgumentException($"lm: unknown option '{args[i]}' (use --head, --experts, --emsize, --nhid, --nlayers, --vocab, --batch-size, --bptt, --threads, --steps, --warmup, --chunk-rows, --device, --profile)");
                }
            }
            var target = TinyGrad.Backends.Device.Named(device); // cpu, cuda, or any registered device
            if (device == "cuda" && !TinyGrad.Backends.Cuda.CudaBackend.IsAvailable)
                throw new ArgumentException($"lm: --device cuda: {TinyGrad.Backends.Cuda.CudaBackend.UnavailableReason}");
            var config = new WordLMConfig(vocab, emsize, nhid, nlayers, head, experts ?? (HeadKinds.IsMixture(head) ? 15 : 1));
            CpuThreads.Count = threads;
            var result = Measure(config, batch, bptt, steps, warmup, profile, chunkRows, target == TinyGrad.Backends.Device.Cpu ? null : target);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"lm head={HeadKinds.Name(head)} emsize={emsize} nhid={nhid} vocab={vocab} threads={threads}{(device == "cpu" ? "" : $" device={device}")} tokens_per_second={result.TokensPerSecond:F1} peak_mb={PeakResidentMegabytes():F0}"));
            if (profile) Console.WriteLine(result.Profile);
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static (double TokensPerSecond, string Profile) Measure(WordLMConfig config, int batch, int bptt, int steps, int warmup, bool profile, int? chunkRows,
        TinyGrad.Backends.Device? gpu)
    {
        var generator = new Generator(1);
        var model = new WordLM(config, generator);
        if (gpu is not null) model.To(gpu); // before the optimizer, which keeps the parameter tensors
        if (chunkRows is int rows)
        {
            if (model.Head is not MixtureHead mixture)
                throw new ArgumentException($"lm: --chunk-rows applies to the mos and moss heads, not {HeadKinds.Name(config.Head)}");
            mixture.ChunkRows = rows;
        }
        model.Train();
        var parameters = model.Parameters().ToList();
        var optimizer = new Sgd(parameters, lr: 1f);
        var tokens = new Random(7);
        int[] NextIds()
        {
            var ids = new int[bptt * batch];
            for (int i = 0; i < ids.Length; i++) ids[i] = tokens.Next(config.VocabSize);
            return ids;
        }
        LstmState[]? state = null;
        void Step()
        {
            var (loss, _, next) = model.TrainingLoss(NextIds(), NextIds(), bptt, batch, state);
            state = next;
            optimizer.ZeroGrad();
            loss.Backward();
            // On the GPU the clipping stays on the device (no host round trip per step, as the trainer does).
            if (gpu is null) ClipGrad.ClipGradNorm(parameters, 0.25f);
            else ClipGrad.ClipGradNormOnDevice(parameters, 0.25f);
            optimizer.Step();
        }
        // GPU work is asynchronous: wait for it before reading a clock.
        void Sync()
        {
            if (gpu is not null) TinyGrad.Backends.Cuda.CudaBackend.Instance.Synchronize();
        }
        for (int i = 0; i < warmup; i++) Step();
        Sync();
        Profiler.Reset();
        Profiler.Enabled = profile;
        TimeSpan gcBefore = GC.GetTotalPauseDuration();
        int gen0 = GC.CollectionCount(0), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++) Step();
        Sync();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Profiler.Enabled = false;
        double gcSeconds = (GC.GetTotalPauseDuration() - gcBefore).TotalSeconds;
        string report = "";
        if (profile)
        {
            report = Profiler.Report(seconds, gcSeconds) + string.Create(CultureInfo.InvariantCulture,
                $"\n  allocated {(GC.GetTotalAllocatedBytes() - allocated) / 1e6 / steps:F1} MB/step, gen0 {GC.CollectionCount(0) - gen0}, gen2 {GC.CollectionCount(2) - gen2} collections in {steps} steps");
        }
        return ((double)batch * bptt * steps / seconds, report);
    }

    /// <summary>The process's peak resident set in MB (VmHWM), or NaN where /proc is unavailable.</summary>
    // The command line is where a head is still text; past here it is a HeadKind.
    private static HeadKind ParseHead(string name) =>
        HeadKinds.TryParse(name, out var head) ? head : throw new ArgumentException($"lm: --head {name}: unknown head (expected {HeadKinds.ValidNames})");

    private static double PeakResidentMegabytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }
        catch (IOException)
        {
        }
        return double.NaN;
    }
}
