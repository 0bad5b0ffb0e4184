namespace TinyGrad.Tests.Models;

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TinyGrad;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using Xunit.Abstractions;

// PyTorch interop both ways, for all four heads, tied and untied: a checkpoint TinyGrad saves loads in PyTorch
// with load_state_dict(strict=True) and scores the same perplexity, and one PyTorch saves loads here and scores
// the same. The PyTorch side is tests/interop/wordlm_interop.py (which also runs the reference's own loader and
// evaluate when ../shared/reference is present). Runs when /usr/bin/python3 has torch; skipped otherwise.
public sealed class WordLMInteropTests(ITestOutputHelper output) : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const double RelativeTolerance = 1e-4;
    private const int BatchSize = 4, Bptt = 5;

    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-interop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Lazy<bool> HasTorch = new(() =>
    {
        if (!File.Exists(Python)) return false;
        try
        {
            using var p = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit(60_000);
            return p.HasExited && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    private static string Script()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "interop", "wordlm_interop.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"tests/interop/wordlm_interop.py not found above {AppContext.BaseDirectory}");
    }

    /// <summary>About 300 tokens over 29 words plus &lt;eos&gt;, in lines of 2–9 words.</summary>
    private string WriteText()
    {
        var g = new Generator(42);
        var sb = new StringBuilder();
        for (int line = 0; line < 45; line++)
        {
            int n = 2 + g.NextInt(8);
            sb.AppendJoin(' ', Enumerable.Range(0, n).Select(_ => "w" + g.NextInt(29).ToString(CultureInfo.InvariantCulture))).Append('\n');
        }
        string path = Path.Combine(_dir, "text.txt");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static void AssertClose(double expected, double actual, string what)
    {
        double rel = Math.Abs(actual - expected) / expected;
        Assert.True(rel < RelativeTolerance, $"{what}: {actual:R} vs {expected:R} (relative difference {rel:E2})");
    }

    [SkippableFact]
    public void Checkpoints_move_between_TinyGrad_and_PyTorch_with_the_same_perplexity_for_every_head()
    {
        Skip.IfNot(HasTorch.Value, $"{Python} with torch is not available; the PyTorch interop test needs it");
        string text = WriteText();
        var vocab = TextCorpus.BuildVocabulary(text);
        var tokens = TextCorpus.Tokenize(text, vocab);
        var cases = (from head in HeadKinds.All from tied in new[] { true, false } select (head, tied)).ToList();

        var jobs = new List<Dictionary<string, object>>();
        var ours = new List<double>();
        foreach (var (head, tied) in cases)
        {
            var config = new WordLMConfig(vocab.Count, 8, 12, 2, head, HeadKinds.IsMixture(head) ? 3 : 1, tied: tied);
            var model = WordLMCheckpointTests.Randomized(config, (ulong)jobs.Count + 1);
            string mine = Path.Combine(_dir, $"tinygrad-{HeadKinds.Name(head)}-{tied}.safetensors");
            WordLMCheckpoint.Save(mine, model, vocab);
            ours.Add(Evaluation.Evaluate(model, tokens, BatchSize, Bptt).Perplexity);
            jobs.Add(new()
            {
                ["head"] = HeadKinds.Name(head), // the name, as the reference takes it
                ["tied"] = tied,
                ["experts"] = 3,
                ["emsize"] = 8,
                ["nhid"] = 12,
                ["nlayers"] = 2,
                ["seed"] = jobs.Count,
                ["text"] = text,
                ["batch_size"] = BatchSize,
                ["bptt"] = Bptt,
                ["tinygrad_checkpoint"] = mine,
                ["torch_checkpoint"] = Path.Combine(_dir, $"torch-{HeadKinds.Name(head)}-{tied}.safetensors"),
            });
        }
        string jobsPath = Path.Combine(_dir, "jobs.json");
        File.WriteAllText(jobsPath, JsonSerializer.Serialize(jobs));

        var results = RunPython(jobsPath);
        Assert.Equal(cases.Count, results.GetArrayLength());
        for (int i = 0; i < cases.Count; i++)
        {
            var r = results[i];
            string name = $"{HeadKinds.Name(cases[i].head)} ({(cases[i].tied ? "tied" : "untied")})";
            double inTorch = r.GetProperty("tinygrad_ppl").GetDouble();
            double torchPpl = r.GetProperty("torch_ppl").GetDouble();
            var (loaded, words) = WordLMCheckpoint.Load(jobs[i]["torch_checkpoint"].ToString()!);
            Assert.Equal(vocab.Words, words.Words);
            Assert.Equal(cases[i].tied, loaded.Config.Tied);
            double here = Evaluation.Evaluate(loaded, TextCorpus.Tokenize(text, words), BatchSize, Bptt).Perplexity;
            bool reference = r.GetProperty("reference").GetBoolean();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-20} TinyGrad→PyTorch ppl {ours[i]:F6} here, {inTorch:F6} in PyTorch | PyTorch→TinyGrad ppl {torchPpl:F6} in PyTorch, {here:F6} here{(reference ? " | reference agrees" : "")}"));
            AssertClose(ours[i], inTorch, $"{name}: TinyGrad checkpoint scored in PyTorch");
            AssertClose(torchPpl, here, $"{name}: PyTorch checkpoint scored in TinyGrad");
            if (reference)
            {
                AssertClose(ours[i], r.GetProperty("reference_tinygrad_ppl").GetDouble(), $"{name}: TinyGrad checkpoint in the reference");
                AssertClose(torchPpl, r.GetProperty("reference_torch_ppl").GetDouble(), $"{name}: PyTorch checkpoint in the reference");
            }
        }
    }

    private JsonElement RunPython(string jobsPath)
    {
        var start = new ProcessStartInfo(Python, [Script(), jobsPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["OMP_NUM_THREADS"] = "1", ["OPENBLAS_NUM_THREADS"] = "1" },
        };
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000))
        {
            p.Kill();
            Assert.Fail("wordlm_interop.py did not finish in 180 s");
        }
        Assert.True(p.ExitCode == 0, $"wordlm_interop.py exited with {p.ExitCode}:\n{stderr.Result}");
        string json = stdout.Result;
        output.WriteLine($"wordlm_interop.py: {json.Length} bytes of results");
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}
