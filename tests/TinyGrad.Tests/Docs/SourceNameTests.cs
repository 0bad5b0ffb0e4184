using System.Text.RegularExpressions;
using TinyGrad.Tests.Backends.Cuda;

namespace TinyGrad.Tests.Docs;

// Comments and docs send a reader to files by name ("see Backends/Kernels/IHeadKernels.cs"). A file renamed or merged
// leaves such a pointer dangling, and no compiler notices; DocLinkTests covers Markdown links, this covers every
// other mention of a .cs or .cu file in the library, the examples, the bench, README.md and docs/.
public partial class SourceNameTests
{
    // A file name, optionally with its folders: Ops/HeadNll.cs, CpuBackend.Heads.cs, Kernels/lstm.cu (not a string
    // literal such as the name NVRTC is given for a probe).
    [GeneratedRegex(@"(?<![\w/.""-])((?:[A-Za-z0-9_.-]+/)*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\.(?:cs|cu))\b")]
    private static partial Regex FileName();

    [Fact]
    public void Every_source_file_named_in_comments_and_docs_exists()
    {
        var root = KernelSourcesTests.RepoRoot();
        var known = AllFiles(root).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToList();
        var missing = new List<string>();
        foreach (var file in Scanned(root))
        {
            var rel = Path.GetRelativePath(root, file).Replace('\\', '/');
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                foreach (Match m in FileName().Matches(lines[i]))
                {
                    var name = m.Groups[1].Value.TrimStart('.', '/');
                    if (!Exists(known, name)) missing.Add($"{rel}:{i + 1}: {name}");
                }
            }
        }
        Assert.True(missing.Count == 0, "files named but not in the repository:\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void A_renamed_file_is_caught_and_a_suffix_of_a_real_path_is_not()
    {
        var known = new List<string> { "src/TinyGrad/Ops/HeadNll.cs", "src/TinyGrad/Backends/Cpu/CpuBackend.Heads.cs" };
        Assert.True(Exists(known, "Ops/HeadNll.cs"));
        Assert.True(Exists(known, "CpuBackend.Heads.cs"));
        Assert.False(Exists(known, "IBackend.Heads.cs"));
        Assert.False(Exists(known, "Nn/HeadNll.cs"));
        var names = FileName().Matches("see IBackend.Heads.cs and Ops/HeadNll.cs; not x.csv or Tensor.CrossEntropy").Select(m => m.Groups[1].Value);
        Assert.Equal(["IBackend.Heads.cs", "Ops/HeadNll.cs"], names);
        Assert.Empty(FileName().Matches("var name = Utf8(\"probe.cu\");"));
    }

    // A mention matches a file whose path ends with it at a folder boundary.
    private static bool Exists(List<string> known, string name) =>
        known.Any(k => k == name || k.EndsWith("/" + name, StringComparison.Ordinal));

    private static IEnumerable<string> Scanned(string root)
    {
        foreach (var dir in new[] { "src", "examples", "bench" })
        {
            foreach (var f in AllFiles(Path.Combine(root, dir)))
                if (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".cu", StringComparison.Ordinal) || f.EndsWith(".md", StringComparison.Ordinal))
                    yield return f;
        }
        yield return Path.Combine(root, "README.md");
        foreach (var f in Directory.GetFiles(Path.Combine(root, "docs"), "*.md")) yield return f;
    }

    // Files of the working tree, without build outputs and hidden folders.
    private static IEnumerable<string> AllFiles(string dir)
    {
        foreach (var f in Directory.GetFiles(dir)) yield return f;
        foreach (var d in Directory.GetDirectories(dir))
        {
            var name = Path.GetFileName(d);
            if (name is "bin" or "obj" or "node_modules" || name.StartsWith('.') || name == "gpu-check" || name == "gpu-bench") continue;
            foreach (var f in AllFiles(d)) yield return f;
        }
    }
}
