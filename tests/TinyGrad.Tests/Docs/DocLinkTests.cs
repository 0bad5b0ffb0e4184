using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TinyGrad.Tests.Backends.Cuda;

namespace TinyGrad.Tests.Docs;

// The documentation's relative links (README.md and every docs/*.md, the guided tour first among them) must point at
// files that exist, and a link with a #fragment into a Markdown file at a heading that exists (GitHub's anchors).
// External links (http:, https:, mailto:) are not followed; links inside fenced code blocks are not links.
public partial class DocLinkTests
{
    [GeneratedRegex(@"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex LinkPattern();

    public static TheoryData<string> Pages()
    {
        var root = KernelSourcesTests.RepoRoot();
        var data = new TheoryData<string> { "README.md" };
        foreach (var path in Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(root, path).Replace('\\', '/'));
        return data;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_resolves(string page)
    {
        var root = KernelSourcesTests.RepoRoot();
        var broken = BrokenLinks(Path.Combine(root, page), File.ReadAllText(Path.Combine(root, page)));
        Assert.True(broken.Count == 0, $"{page}: broken links:\n  " + string.Join("\n  ", broken));
    }

    [Fact]
    public void The_tour_exists_and_links_into_the_code()
    {
        var root = KernelSourcesTests.RepoRoot();
        var tour = File.ReadAllText(Path.Combine(root, "docs", "tour.md"));
        var targets = Links(tour).Select(l => l.Target).ToList();
        // The steps it must link: embedding, LSTM (module, op, cell kernels, their reference), heads, the tape, tying, optimizer, trainer.
        foreach (var file in new[]
                 {
                     "NN/Embedding.cs", "NN/LSTM.cs", "Ops/Lstm.cs", "Backends/Cpu/CpuBackend.Lstm.cs", "Backends/Kernels/ReferenceLstmKernels.cs",
                     "Ops/Sigsoftmax.cs", "Ops/HeadNll.cs", "Ops/MixtureNll.cs", "Autograd/Autograd.cs", "Models/WordLM.cs", "Optim/Optimizer.cs",
                     "Training/LanguageModelTrainer.cs",
                 })
        {
            Assert.Contains(targets, t => t.EndsWith("src/TinyGrad/" + file, StringComparison.Ordinal));
        }
        Assert.Contains("```mermaid", tour, StringComparison.Ordinal);
        Assert.Contains("](docs/tour.md)", File.ReadAllText(Path.Combine(root, "README.md")), StringComparison.Ordinal); // the front page points at it
    }

    [Fact]
    public void A_missing_file_or_heading_is_reported_and_code_blocks_and_external_links_are_not()
    {
        var root = KernelSourcesTests.RepoRoot();
        var page = Path.Combine(root, "docs", "example.md"); // need not exist: only its folder is used
        const string text = """
            # A page
            [ok](tour.md) [ok too](../src/TinyGrad/Ops/Sigsoftmax.cs) [anchor](#a-page) [external](https://example.org/x.md)
            [gone](no-such-file.md) ![gone too](results/none.png) [bad anchor](tour.md#no-such-heading)
            ```sh
            [in code](not-a-link.md)
            ```
            """;
        var broken = BrokenLinks(page, text);
        Assert.Equal(["no-such-file.md", "results/none.png", "tour.md#no-such-heading"], broken.Select(b => b.Split(' ')[0]));
    }

    [Theory]
    [InlineData("5. The softmax bottleneck: why d + 2", "5-the-softmax-bottleneck-why-d--2")]
    [InlineData("Weight tying: one tensor, two gradients", "weight-tying-one-tensor-two-gradients")]
    [InlineData("A 3 × 3 example you can check by hand", "a-3--3-example-you-can-check-by-hand")]
    [InlineData("`LogSigsoftmax` and MoS_MoSS", "logsigsoftmax-and-mos_moss")]
    public void Anchors_follow_GitHub(string heading, string anchor) => Assert.Equal(anchor, Slug(heading));

    private static List<string> BrokenLinks(string pagePath, string text)
    {
        var broken = new List<string>();
        var dir = Path.GetDirectoryName(pagePath)!;
        foreach (var (target, line) in Links(text))
        {
            if (Regex.IsMatch(target, "^[a-zA-Z][a-zA-Z0-9+.-]*:")) continue; // http:, https:, mailto:
            int hash = target.IndexOf('#', StringComparison.Ordinal);
            string file = hash < 0 ? target : target[..hash], fragment = hash < 0 ? "" : target[(hash + 1)..];
            string resolved = file.Length == 0 ? pagePath : Path.GetFullPath(Path.Combine(dir, Uri.UnescapeDataString(file)));
            if (file.Length > 0 && !File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"{target} (line {line}: no such file {resolved})");
                continue;
            }
            if (fragment.Length > 0 && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
            {
                var anchors = Anchors(file.Length == 0 ? text : File.ReadAllText(resolved));
                if (!anchors.Contains(fragment))
                    broken.Add($"{target} (line {line}: no heading with anchor #{fragment})");
            }
        }
        return broken;
    }

    // Every [text](target) and ![alt](target) outside fenced code blocks, with its 1-based line.
    private static List<(string Target, int Line)> Links(string text)
    {
        var links = new List<(string, int)>();
        bool fenced = false;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal) || lines[i].TrimStart().StartsWith("~~~", StringComparison.Ordinal))
            {
                fenced = !fenced;
                continue;
            }
            if (fenced) continue;
            var line = Regex.Replace(lines[i], "`[^`]*`", ""); // inline code is not a link
            foreach (Match m in LinkPattern().Matches(line)) links.Add((m.Groups[1].Value, i + 1));
        }
        return links;
    }

    // GitHub's heading anchors: lower case, punctuation dropped (letters, digits, '-', '_' and spaces kept), spaces to '-';
    // a repeated anchor gets -1, -2, ….
    private static HashSet<string> Anchors(string markdown)
    {
        var seen = new Dictionary<string, int>();
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        bool fenced = false;
        foreach (var raw in markdown.Split('\n'))
        {
            if (raw.TrimStart().StartsWith("```", StringComparison.Ordinal)) fenced = !fenced;
            if (fenced) continue;
            var m = Regex.Match(raw, @"^#{1,6}\s+(.*?)\s*#*\s*$");
            if (!m.Success) continue;
            var slug = Slug(m.Groups[1].Value);
            int n = seen.GetValueOrDefault(slug);
            anchors.Add(n == 0 ? slug : $"{slug}-{n}");
            seen[slug] = n + 1;
        }
        return anchors;
    }

    private static string Slug(string heading)
    {
        var sb = new StringBuilder();
        foreach (char c in heading.ToLowerInvariant())
        {
            var cat = char.GetUnicodeCategory(c);
            if (char.IsLetterOrDigit(c) || c is '-' or '_' || cat == UnicodeCategory.NonSpacingMark) sb.Append(c);
            else if (c == ' ') sb.Append('-');
        }
        return sb.ToString();
    }
}
