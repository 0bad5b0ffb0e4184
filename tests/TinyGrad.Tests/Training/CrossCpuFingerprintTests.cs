namespace TinyGrad.Tests.Training;

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Tests.Backends.Cuda;
using TinyGrad.Training;

// The same answers on every CPU: a run's bits depend on the SIMD path (AVX-512, AVX2 or portable: the vector width
// and the GEMM micro-kernel fix the order of every sum) and on nothing else about the CPU. No kernel reads cache
// sizes or core counts (and results do not depend on the thread count, ThreadDeterminismTests), none uses an
// estimate instruction whose bits differ between vendors (rcpps, rsqrtps), and the math library is the same
// software everywhere. So one short training run per head, with every regulariser on, must give the very bits that
// were recorded for its path on another machine: the loss of every step, each epoch's validation loss, the test
// loss, a dynamic evaluation and a SHA-256 of the final weights. tests/TinyGrad.Tests/fixtures/cpu_fingerprints.json
// holds them, one entry per path, each naming the CPU it was recorded on. A different CPU of the same path that
// fails here has found a real cross-CPU difference. After a deliberate change of the numerics, re-record each path
// (docs/testing.md): TINYGRAD_RECORD_FINGERPRINTS=1 with the path's switches, as .ci/run sets them.
public sealed class CrossCpuFingerprintTests
{
    private const string FixtureName = "cpu_fingerprints.json";

    // The path this process runs, named as .ci/run names them; null for a mix no machine of ours runs (AVX-512 that
    // .NET prefers not to use for Vector512, or a non-x86 CPU), for which nothing is recorded.
    internal static string? SimdPath()
    {
        if (!X86Base.IsSupported) return null;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported) return "avx512";
        if (Avx512F.IsSupported) return null;
        if (Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported) return "avx2";
        if (!Vector256.IsHardwareAccelerated && !Avx2.IsSupported) return "portable";
        return null;
    }

    // One case per output head, each with a different optimizer and set of regularisers, so that between them they
    // run what a training run runs: GEMMs, the LSTM with DropConnect, the four heads' forward and backward, embedding
    // and locked dropout, AR/TAR, clipping, Adam, SGD with weight decay, averaged SGD, the variable window length,
    // validation, the test score and the dynamic-evaluation update. (The sizes are a toy's, so the GEMMs take the
    // drivers of small shapes; the Brown checkpoints' matching scores on two CPUs cover the large ones.)
    public static TheoryData<string> Cases => ["softmax-adam", "sigsoftmax-asgd", "mos-adam", "moss-sgd"];

    private static (WordLMConfig Config, TrainingOptions Options) Case(string name, int vocab) => name switch
    {
        "softmax-adam" => (new WordLMConfig(vocab, emSize: 16, nHid: 32, nLayers: 2, head: HeadKind.Softmax),
            new TrainingOptions { Optimizer = "adam", Lr = 3e-3f, Dropout = 0.3f, DropoutH = 0.2f, DropoutI = 0.4f, DropoutE = 0.1f, WDrop = 0.3f, VariableBptt = true }),
        "sigsoftmax-asgd" => (new WordLMConfig(vocab, emSize: 16, nHid: 32, nLayers: 2, head: HeadKind.Sigsoftmax),
            new TrainingOptions { Optimizer = "asgd", Lr = 5f, AverageFromStart = true, Alpha = 2f, Beta = 1f, Dropout = 0.2f, WDrop = 0.2f }),
        "mos-adam" => (new WordLMConfig(vocab, emSize: 16, nHid: 32, nLayers: 2, head: HeadKind.Mos, experts: 3, nHidLast: 24),
            new TrainingOptions { Optimizer = "adam", Lr = 3e-3f, Dropout = 0.3f, DropoutH = 0.2f, DropoutL = 0.25f, WDecay = 1e-6f }),
        "moss-sgd" => (new WordLMConfig(vocab, emSize: 16, nHid: 32, nLayers: 2, head: HeadKind.Moss, experts: 3, nHidLast: 24),
            new TrainingOptions { Optimizer = "sgd", Lr = 10f, WDecay = 1.2e-6f, Clip = 0.1f, Alpha = 2f, Beta = 1f, DropoutL = 0.1f, DropoutE = 0.1f }),
        _ => throw new ArgumentException($"no case {name}", nameof(name)),
    };

    private sealed class StepLosses : TrainingCallbacks
    {
        public List<float> Losses { get; } = [];

        public override void OnStep(StepInfo info) => Losses.Add(info.Loss);
    }

    // Trains the case for two short epochs and returns what is compared.
    private static JsonObject Fingerprint(string name)
    {
        var corpus = SyntheticCorpus.Generate(seed: 11, vocabSize: 200, trainTokens: 3000, validTokens: 400, testTokens: 400);
        var (config, options) = Case(name, corpus.VocabSize);
        options = options with { Epochs = 2, BatchSize = 8, Bptt = 12, Seed = 5 };
        var steps = new StepLosses();
        var result = new LanguageModelTrainer(config, TokenSplits.From(corpus), options, steps).Fit();
        var dynamic = DynamicEvaluation.Evaluate(result.Model, corpus.Train, corpus.Test[..200],
            new DynamicEvaluationOptions { StatsBatchSize = 10, StatsMaxBatches = 20 });

        return new JsonObject
        {
            ["step_losses"] = new JsonArray([.. steps.Losses.Select(l => JsonValue.Create(l))]),
            ["valid_losses"] = new JsonArray([.. result.ValidLossByEpoch.Select(l => JsonValue.Create(l))]),
            ["test_loss"] = result.Test.Loss,
            ["dynamic_loss"] = dynamic.Result.Loss,
            ["weights_sha256"] = WeightsHash(result.Model),
        };
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void A_short_run_gives_the_bits_recorded_for_its_simd_path(string name)
    {
        string? path = SimdPath();
        Skip.If(path is null, "this CPU runs no SIMD path that has fingerprints (AVX-512, AVX2 or portable on x86)");
        var actual = Fingerprint(name);

        if (Environment.GetEnvironmentVariable("TINYGRAD_RECORD_FINGERPRINTS") == "1")
        {
            Record(path, name, actual);
            Skip.If(true, $"recorded {name} for the {path} path into the source tree's {FixtureName}; rebuild and run again to check");
        }

        var file = JsonNode.Parse(File.ReadAllText(Parity.Fixtures.PathOf(FixtureName)))!;
        var entry = file["paths"]?[path];
        Skip.If(entry?["cases"]?[name] is null, $"{FixtureName} holds no fingerprint of {name} for the {path} path; record it (docs/testing.md)");
        string where = $"the {path} path, case {name}: here ({CpuName()}) vs recorded on {entry!["recorded_on"]}";
        var expected = entry["cases"]![name]!;

        // The first difference in the order things happened, so a failure says where the runs parted.
        var (mine, theirs) = (actual["step_losses"]!.AsArray(), expected["step_losses"]!.AsArray());
        Assert.True(mine.Count == theirs.Count, $"{where}: {mine.Count} training steps, recorded {theirs.Count}");
        for (int i = 0; i < mine.Count; i++)
        {
            var (a, b) = (mine[i]!.GetValue<float>(), theirs[i]!.GetValue<float>());
            Assert.True(BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b),
                $"{where}: step {i + 1}'s loss is {a:R}, recorded {b:R} (the first step that differs)");
        }
        foreach (string key in new[] { "valid_losses", "test_loss", "dynamic_loss", "weights_sha256" })
        {
            var (a, b) = (actual[key]!.ToJsonString(), expected[key]!.ToJsonString());
            Assert.True(a == b, $"{where}: {key} is {a}, recorded {b}");
        }
    }

    // SHA-256 over the state dict: each name, then its float32 values' bytes, in the order of the names.
    private static string WeightsHash(global::TinyGrad.Models.WordLM model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, tensor) in model.StateDict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(key));
            sha.AppendData(MemoryMarshal.AsBytes(tensor.ToArray().AsSpan()));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    // Negative control: the hash sees the last bit of one weight, so a match means the weights are the same bits.
    [Fact]
    public void The_weights_hash_sees_one_flipped_bit()
    {
        var model = new global::TinyGrad.Models.WordLM(new WordLMConfig(50, emSize: 8, nHid: 8, nLayers: 1), new Generator(1));
        string before = WeightsHash(model);
        var state = model.StateDict();
        var (name, tensor) = state.First(p => p.Key.Contains("weight_hh", StringComparison.Ordinal));
        float[] data = tensor.ToArray();
        data[7] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(data[7]) ^ 1);
        model.LoadStateDict(new Dictionary<string, Tensor>(state) { [name] = Tensor.FromArray(data, tensor.Shape) });
        Assert.NotEqual(before, WeightsHash(model));
        data[7] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(data[7]) ^ 1);
        model.LoadStateDict(new Dictionary<string, Tensor>(state) { [name] = Tensor.FromArray(data, tensor.Shape) });
        Assert.Equal(before, WeightsHash(model)); // and flipped back, the same hash again
    }

    // "Intel(R) Xeon(R) Processor, family 6 model 207", the form scripts/brown.sh records: the first processor's
    // model name, family and model from /proc/cpuinfo.
    private static string CpuName()
    {
        var fields = new Dictionary<string, string>();
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                int colon = line.IndexOf(':');
                if (colon > 0) fields.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
        return $"{fields.GetValueOrDefault("model name", "unknown")}, family {fields.GetValueOrDefault("cpu family", "?")} model {fields.GetValueOrDefault("model", "?")}";
    }

    // Writes this path's case into the source tree's fixture (not the copy beside the test binaries).
    private static void Record(string path, string name, JsonObject fingerprint)
    {
        string file = Path.Combine(KernelSourcesTests.RepoRoot(), "tests", "TinyGrad.Tests", "fixtures", FixtureName);
        // No lock: xUnit runs the cases of one test class one after another.
        var root = File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file))!.AsObject() : new JsonObject();
        root["about"] = "Bits of short training runs, one entry per SIMD path, made by CrossCpuFingerprintTests with "
            + "TINYGRAD_RECORD_FINGERPRINTS=1 (docs/testing.md). Every CPU of a path must reproduce them exactly.";
        var paths = root["paths"]?.AsObject() ?? (JsonObject)(root["paths"] = new JsonObject());
        var entry = paths[path]?.AsObject() ?? (JsonObject)(paths[path] = new JsonObject());
        entry["recorded_on"] = CpuName();
        var cases = entry["cases"]?.AsObject() ?? (JsonObject)(entry["cases"] = new JsonObject());
        cases[name] = fingerprint;
        File.WriteAllText(file, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
