using System.Diagnostics;
using System.Globalization;
using TinyGrad.Backends.Cpu;
using TinyGrad.NN;

namespace TinyGrad.Bench;

/// <summary>
/// <c>lstm [--hidden H ...] [--threads N] [--reps R]</c>: forward + backward of a 2-layer LSTM at T=35, B=20
/// (the word-LM shapes), TinyGrad beside PyTorch (bench/torch_lstm.py, when /usr/bin/python3 has torch),
/// alternating the two so the ratio comes from one run. Prints one line per hidden size:
/// <c>lstm hidden=200 layers=2 T=35 B=20 threads=1 tinygrad_ms=12.3 torch_ms=15.0 ratio=1.22</c>
/// (ratio = torch time / TinyGrad time: above 1 means TinyGrad is faster).
/// </summary>
public static class LstmQuick
{
    private const int Steps = 35, Batch = 20, Layers = 2;

    /// <summary>Runs the comparison.</summary>
    public static int Run(string[] args)
    {
        var hidden = new List<int>();
        int threads = CpuThreads.Count, reps = 20, rounds = 3;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--hidden": hidden.Add(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--reps": reps = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"lstm: unknown option '{args[i]}' (use --hidden H, --threads N, --reps R, --rounds K)");
                    return 2;
            }
        }
        if (hidden.Count == 0) hidden.AddRange([200, 650]);
        CpuThreads.Count = threads;
        string? script = FindScript();
        foreach (int h in hidden)
        {
            var ours = new List<double>();
            var theirs = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                ours.Add(TimeTinyGrad(h, reps));
                if (script is not null && TimeTorch(script, h, threads, reps) is double t) theirs.Add(t);
            }
            double mine = Median(ours);
            string torch = theirs.Count > 0 ? Median(theirs).ToString("F3", CultureInfo.InvariantCulture) : "NA";
            string ratio = theirs.Count > 0 ? (Median(theirs) / mine).ToString("F2", CultureInfo.InvariantCulture) : "NA";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"lstm hidden={h} layers={Layers} T={Steps} B={Batch} threads={threads} tinygrad_ms={mine:F3} torch_ms={torch} ratio={ratio}"));
        }
        return 0;
    }

    private static double TimeTinyGrad(int hidden, int reps)
    {
        var g = new Generator(0);
        var lstm = new LSTM(hidden, hidden, Layers, g);
        var x = Tensor.Randn([Steps, Batch, hidden], g).RequireGrad();
        var up = Tensor.Randn([Steps, Batch, hidden], g);
        void Step()
        {
            lstm.ZeroGrad();
            x.ZeroGrad();
            var (output, _) = lstm.Forward(x);
            (output * up).Sum().Backward();
        }
        for (int i = 0; i < 3; i++) Step();
        var times = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Step();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return Median(times);
    }

    private static double? TimeTorch(string script, int hidden, int threads, int reps)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { script, "--hidden", $"{hidden}", "--layers", $"{Layers}", "--steps", $"{Steps}", "--batch", $"{Batch}", "--threads", $"{threads}", "--reps", $"{reps}" })
            psi.ArgumentList.Add(a);
        // Debian's torch links the pthread OpenBLAS, whose pool fights torch's own at 2 threads; the OpenMP
        // build (libopenblas0-openmp) honours torch.set_num_threads.
        const string openmp = "/usr/lib/x86_64-linux-gnu/openblas-openmp";
        if (Directory.Exists(openmp)) psi.Environment["LD_LIBRARY_PATH"] = openmp;
        psi.Environment["OMP_NUM_THREADS"] = $"{threads}";
        psi.Environment["OPENBLAS_NUM_THREADS"] = $"{threads}";
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) return null;
            int at = output.IndexOf(" ms=", StringComparison.Ordinal);
            return at < 0 ? null : double.Parse(output[(at + 4)..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no /usr/bin/python3
        }
    }

    private static string? FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "torch_lstm.py");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
