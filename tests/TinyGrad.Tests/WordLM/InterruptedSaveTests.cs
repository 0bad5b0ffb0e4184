namespace TinyGrad.Tests.WordLM;

using System.Diagnostics;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Optim;
using Xunit.Abstractions;
using TrainingState = TinyGrad.Training.TrainingState;

// A checkpoint write that is killed at any moment leaves the previous checkpoint whole. A child process
// (tests/SaveKiller) rewrites a model file and its training state in a loop; it is killed (SIGKILL: no finally
// blocks run) at seeded random moments, many times. After every kill both files are byte for byte what they were,
// the model loads and scores the same perplexity, and the only leftovers are the killed writer's temporary files
// (at most one per target), which the next save removes.
public sealed class InterruptedSaveTests(ITestOutputHelper output) : IDisposable
{
    private const int Kills = 24;

    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_writer_killed_mid_save_leaves_the_previous_checkpoint_and_state_whole()
    {
        var clock = Stopwatch.StartNew();
        string model = Path.Combine(_dir, "m.safetensors"), state = TrainingState.PathFor(model);
        var corpus = SyntheticCorpus.Generate(7, vocabSize: 50, trainTokens: 1000, validTokens: 600, testTokens: 200);
        // ~1.6 MB of weights (the state file holds them three times): a save takes long enough to be hit mid-write.
        var config = new WordLMConfig(corpus.Vocabulary.Count, emSize: 64, nHid: 256, nLayers: 2, head: HeadKind.Softmax);
        var net = new global::TinyGrad.Models.WordLM(config, new Generator(3));
        WordLMCheckpoint.Save(model, net, corpus.Vocabulary);
        var weights = net.StateDict();
        var optimizer = new Sgd(net.Parameters(), 0.5f, momentum: 0.9f);
        new TrainingState(2, 40, 4000, 1234.5, 4000, 4.25, [4.5, 4.25], false, new Generator(1).GetState(), new Generator(2).GetState(), 1.5,
            weights, weights, optimizer.GetState()).Save(state);
        byte[] modelBytes = File.ReadAllBytes(model), stateBytes = File.ReadAllBytes(state);
        double perplexity = Perplexity(model, corpus.Valid);

        var rng = new Generator(20240601);
        int midWrite = 0;
        for (int kill = 0; kill < Kills; kill++)
        {
            int pid = KillWhileSaving(model, delayMs: rng.NextInt(40));
            var temps = Directory.GetFiles(_dir, "*.tmp-*").Select(Path.GetFileName).ToList();
            if (temps.Any(t => t!.EndsWith($".tmp-{pid}", StringComparison.Ordinal))) midWrite++;
            // At most one leftover per target (the killed writer's, or an earlier one's not yet cleaned).
            Assert.True(temps.Count(t => t!.StartsWith("m.safetensors.tmp-", StringComparison.Ordinal)) <= 1, string.Join(", ", temps));
            Assert.True(temps.Count(t => t!.StartsWith("m.safetensors.state.tmp-", StringComparison.Ordinal)) <= 1, string.Join(", ", temps));

            Assert.Equal(modelBytes, File.ReadAllBytes(model));
            Assert.Equal(stateBytes, File.ReadAllBytes(state));
            Assert.Equal(perplexity, Perplexity(model, corpus.Valid));
            var restored = TrainingState.Load(state);
            Assert.Equal(weights["rnns.0.weight_hh_l0"].ToArray(), restored.Weights["rnns.0.weight_hh_l0"].ToArray());
        }

        // The next save (from a live process) removes the leftovers of dead writers.
        WordLMCheckpoint.Save(model, net, corpus.Vocabulary);
        new TrainingState(2, 40, 4000, 1234.5, 4000, 4.25, [4.5, 4.25], false, new Generator(1).GetState(), new Generator(2).GetState(), 1.5,
            weights, weights, optimizer.GetState()).Save(state);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
        Assert.Equal(modelBytes, File.ReadAllBytes(model));
        output.WriteLine($"{Kills} kills, {midWrite} with the writer's temporary file present (killed mid-write), {clock.Elapsed.TotalSeconds:F1} s");
        // Nearly all of the child's life after "ready" is spent inside a save; most kills must land mid-write,
        // or the test is not testing what it says.
        Assert.True(midWrite >= Kills / 3, $"only {midWrite} of {Kills} kills landed mid-write");
    }

    private static double Perplexity(string model, int[] tokens) =>
        Evaluation.Evaluate(WordLMCheckpoint.Load(model).Model, tokens, batchSize: 5, bptt: 20).Perplexity;

    /// <summary>Starts SaveKiller on <paramref name="model"/>, waits for it to start saving, kills it after the delay; returns its pid.</summary>
    private static int KillWhileSaving(string model, int delayMs)
    {
        var start = new ProcessStartInfo(DotnetHost(), [Path.Combine(AppContext.BaseDirectory, "SaveKiller.dll"), model])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var child = Process.Start(start)!;
        try
        {
            var ready = child.StandardOutput.ReadLineAsync();
            if (!ready.Wait(TimeSpan.FromSeconds(60)) || ready.Result != "ready")
                throw new InvalidOperationException($"SaveKiller did not start: {ready.Status} {(ready.IsCompleted ? ready.Result : "")} {child.StandardError.ReadToEnd()}");
            Thread.Sleep(delayMs);
            if (child.HasExited) throw new InvalidOperationException($"SaveKiller stopped by itself: {child.StandardError.ReadToEnd()}");
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
        return child.Id;
    }

    private static string DotnetHost()
    {
        // The test host usually runs under the dotnet executable itself; the SDK also names it in DOTNET_HOST_PATH.
        string? current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }
}
