using System.CommandLine;
using System.Globalization;
using System.Text;
using TinyGrad.Models;
using TinyGrad.NN.Heads;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// <c>compare [train options] [--heads softmax,sigsoftmax,mos,moss]</c>: the paper's experiment in one command. Each
/// head is trained with the same data, budget, seed and settings, its best model's log-probability matrix is
/// ranked over the first test contexts, and a table sets them side by side.
/// </summary>
public static class CompareCommand
{
    /// <summary>Every head, in the paper's order: the default of <c>--heads</c>.</summary>
    public const string AllHeads = "softmax,sigsoftmax,mos,moss";

    /// <summary>Builds the verb: the training options (but <c>--head</c>) plus <c>--heads</c>.</summary>
    public static Command Build()
    {
        var options = new TrainOptionSet(withHead: false);
        var heads = new Option<string>("--heads") { Description = "Comma-separated heads to train and compare", DefaultValueFactory = _ => AllHeads };
        heads.Validators.Add(r =>
        {
            try
            {
                ParseHeads(r.GetValueOrDefault<string>());
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        var command = new Command("compare", "Train several heads with identical settings and compare perplexity and the rank of log P.");
        options.AddTo(command);
        command.Options.Add(heads);
        InvariantNumbers.ApplyTo(command);
        command.SetAction(p => Run(options.Read(p), ParseHeads(p.GetValue(heads))));
        return command;
    }

    /// <summary>The heads of a <c>--heads</c> value, in its order.</summary>
    /// <exception cref="ArgumentException">The list is empty, names an unknown head, or names one twice.</exception>
    public static IReadOnlyList<HeadKind> ParseHeads(string? text)
    {
        var names = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string all = string.Join(", ", HeadKinds.All.Select(HeadKinds.Name));
        if (names.Length == 0) throw new ArgumentException($"--heads: give at least one of {all}");
        var heads = new HeadKind[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!HeadKinds.TryParse(names[i], out heads[i]))
                throw new ArgumentException($"--heads: unknown head '{names[i]}' (expected a comma-separated list of {all})");
        }
        var twice = heads.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ArgumentException($"--heads: '{HeadKinds.Name(twice.Key)}' is listed twice");
        return heads;
    }

    /// <summary>Where <c>--save PATH</c> puts one head's model: the head's name before the extension (m.safetensors → m.moss.safetensors).</summary>
    public static string HeadPath(string path, HeadKind head)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileNameWithoutExtension(path) + "." + HeadKinds.Name(head) + Path.GetExtension(path);
        return Path.Combine(Path.GetDirectoryName(path) ?? "", name);
    }

    private static int Run(TrainOptions o, IReadOnlyList<HeadKind> heads)
    {
        if (o.Experts > 1 && !heads.Any(HeadKinds.IsMixture))
            throw new ArgumentException($"--experts {o.Experts} needs a mixture head (mos or moss) in --heads {string.Join(",", heads.Select(HeadKinds.Name))}");
        PathChecks.ForTraining(o, o.Training.Save is not string save ? [] : heads.Select(h => (save, HeadPath(save, h)))).Verify(); // before any work
        var splits = DataSource.Resolve(o); // once: every head sees the very same streams
        // Per head: the experts only where they apply, and its own checkpoint file. Checking every shape before
        // training anything keeps a bad option from surfacing only after the first heads have run for minutes.
        var runs = heads.Select(h => o with
        {
            Head = h,
            Experts = HeadKinds.IsMixture(h) ? o.Experts : 0,
            Training = o.Training with { Save = o.Training.Save is null ? null : HeadPath(o.Training.Save, h) },
            MetricsJson = null,
        }).ToList();
        foreach (var run in runs) TrainCommand.ConfigFor(run, splits.Vocabulary.Count);

        var rows = new List<Row>();
        var failed = new List<HeadKind>();
        for (int i = 0; i < runs.Count; i++)
        {
            Console.WriteLine($"=== {HeadKinds.Name(runs[i].Head)} ({i + 1}/{runs.Count}) ===");
            TrainResult result;
            try
            {
                result = TrainCommand.Run(runs[i], splits);
            }
            catch (TrainingDivergedException e)
            {
                // One head diverging should not throw away the others' results; the exit code still says so.
                Console.Error.WriteLine($"wordlm: {e.Message}");
                failed.Add(runs[i].Head);
                continue;
            }
            LogProbRankResult? rank = null;
            try
            {
                rank = LogProbRank.Compute(result.Model, splits.Test);
                foreach (var line in rank.Lines()) Console.WriteLine("  " + line);
            }
            catch (RankUndefinedException e)
            {
                Console.Error.WriteLine($"wordlm: {HeadKinds.Name(runs[i].Head)}: {e.Message}");
                failed.Add(runs[i].Head);
            }
            Console.WriteLine();
            rows.Add(new Row(result.Metrics, LogProbRank.Bound(result.Model.Config).Bound, rank));
        }

        Console.WriteLine();
        Console.Write(Table(rows, splits.OptimumPerplexity));
        if (failed.Count > 0) Console.WriteLine($"failed (see the messages above): {string.Join(", ", failed.Select(HeadKinds.Name))}");
        if (o.Plot is not null) Curves.Save(o.Plot, [.. rows.Select(r => r.Metrics)]);
        if (o.MetricsJson is not null)
        {
            MetricsFile.Write(o.MetricsJson, rows.Select(r =>
            {
                var json = r.Metrics.ToJsonObject();
                // Beyond the train object: what compare adds to it (null where the rank was undefined).
                json["rank"] = r.Rank?.Rank.Rank;
                json["rank_bound"] = r.Bound;
                json["rank_contexts"] = r.Rank?.Contexts;
                return json;
            }).ToList());
        }
        return failed.Count > 0 ? 1 : 0;
    }

    // A Markdown table (it reads as plain text too, and pastes into a README as is).
    private static string Table(List<Row> rows, double? optimum)
    {
        var c = CultureInfo.InvariantCulture;
        string[] header = ["head", "parameters", "valid ppl", "test ppl", "rank of log P (bound)", "tokens/s", "time"];
        var cells = rows.Select(r => new[]
        {
            HeadKinds.Name(r.Metrics.Head),
            r.Metrics.Parameters.ToString("N0", c),
            r.Metrics.ValidPpl.ToString("F2", c),
            r.Metrics.TestPpl.ToString("F2", c),
            r.Rank is null ? "undefined" : string.Create(c, $"{r.Rank.Rank.Rank} ({(HeadKinds.IsMixture(r.Metrics.Head) ? "E" : "d")}+2 = {r.Bound})"),
            r.Metrics.TokensPerSecond.ToString("N0", c),
            string.Create(c, $"{r.Metrics.Seconds:F1} s"),
        }).ToList();
        var width = header.Select((h, j) => cells.Select(row => row[j].Length).Append(h.Length).Max()).ToArray();
        var sb = new StringBuilder();
        void Line(string[] values) =>
            sb.Append("| ").AppendJoin(" | ", values.Select((v, j) => j == 0 ? v.PadRight(width[j]) : v.PadLeft(width[j]))).Append(" |\n");
        Line(header);
        sb.Append('|').AppendJoin("|", width.Select((w, j) => j == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")).Append("|\n");
        foreach (var row in cells) Line(row);
        if (rows.Select(r => r.Rank).FirstOrDefault(r => r is not null) is LogProbRankResult rank)
        {
            sb.Append(c, $"rank: of log P over the first {rank.Contexts:N0} test contexts × {rank.Vocab:N0} words; a softmax head of width d cannot exceed d + 2 (for the mixtures, E + 2 is that bound for a softmax as wide as their decoder)\n");
        }
        if (optimum is double opt) sb.Append(c, $"optimum ppl {opt:F2} (the exact entropy rate of the built-in source: no model can do better)\n");
        return sb.ToString();
    }

    // One head's line of the table: its training figures, its bound, and its rank (null where undefined).
    private sealed record Row(TrainMetrics Metrics, int Bound, LogProbRankResult? Rank);
}
