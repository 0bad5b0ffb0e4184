using System.Diagnostics;
using System.Globalization;
using TinyGrad.Fuzzing;

namespace TinyGrad.Bench;

/// <summary>
/// <c>fuzz [--cases N] [--seed S]</c>: the long mode of the suite's safetensors mutation test. Runs N cases
/// (default 100,000) round-robin over the families in tests/Fuzzing/SafeTensorsFuzz.cs, each from its own seeded
/// generator (case i of seed S replays alone), and prints one line per family: cases, rejected (with
/// SafeTensorsException), accepted (still a valid file, which then round-tripped), and failures. A failure (any
/// other exception, an allocation past the file's size, a load that does not round-trip) is printed with its
/// case number; the exit code is then 1.
/// </summary>
public static class FuzzQuick
{
    /// <summary>Runs the fuzz cases.</summary>
    public static int Run(string[] args)
    {
        long cases = 100_000;
        ulong seed = 1;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--cases" when i + 1 < args.Length && long.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out cases) && cases > 0: i++; break;
                case "--seed" when i + 1 < args.Length && ulong.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out seed): i++; break;
                default:
                    Console.Error.WriteLine($"fuzz: bad option '{args[i]}' (use --cases N with N > 0, --seed S)");
                    return 2;
            }
        }

        string dir = Directory.CreateTempSubdirectory("tinygrad-fuzz-").FullName;
        try
        {
            string path = Path.Combine(dir, "case.safetensors"), scratch = Path.Combine(dir, "roundtrip.safetensors");
            byte[] original = SafeTensorsFuzz.WriteSample(path);
            SafeTensorsFuzz.Check(path, original, scratch); // warm up: the first load's one-time allocations are not the reader's
            int families = SafeTensorsFuzz.Families.Length;
            var rejected = new long[families];
            var accepted = new long[families];
            var failed = new long[families];
            var clock = Stopwatch.StartNew();
            for (long c = 0; c < cases; c++)
            {
                int family = (int)(c % families);
                var bytes = SafeTensorsFuzz.Mutate(original, family, CaseGenerator(seed, c));
                File.WriteAllBytes(path, bytes);
                try
                {
                    if (SafeTensorsFuzz.Check(path, bytes, scratch) == FuzzOutcome.Rejected) rejected[family]++;
                    else accepted[family]++;
                }
                catch (Exception e)
                {
                    failed[family]++;
                    if (failed.Sum() <= 20)
                        Console.WriteLine($"FAILURE case {c} (--seed {seed}) family {SafeTensorsFuzz.Families[family]}: {e.GetType().Name}: {e.Message}");
                }
            }
            double seconds = clock.Elapsed.TotalSeconds;

            Console.WriteLine($"{"family",-22}{"cases",10}{"rejected",10}{"accepted",10}{"failed",8}");
            for (int f = 0; f < families; f++)
            {
                long n = rejected[f] + accepted[f] + failed[f];
                Console.WriteLine($"{SafeTensorsFuzz.Families[f],-22}{n,10}{rejected[f],10}{accepted[f],10}{failed[f],8}");
            }
            Console.WriteLine($"{"total",-22}{cases,10}{rejected.Sum(),10}{accepted.Sum(),10}{failed.Sum(),8}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz: {cases} cases (seed {seed}) in {seconds:F1} s ({cases / seconds:F0} cases/s); file {original.Length} bytes"));
            return failed.Sum() == 0 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The generator of one case, so that any case can be replayed without the ones before it.</summary>
    private static Generator CaseGenerator(ulong seed, long c) => new(seed * 0x9E3779B97F4A7C15UL + (ulong)c);
}
