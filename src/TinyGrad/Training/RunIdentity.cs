using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TinyGrad.Models;
using TinyGrad.NN.Heads;

namespace TinyGrad.Training;

/// <summary>
/// The options that define a training run, stored in its training state, so that <c>--resume</c> can tell a
/// continuation from a different run: the model's shape and the data must match (their weights and token ids
/// would not fit otherwise), while a changed <c>--lr</c> or <c>--seed</c> is overridden by the state (its optimizer
/// scalars and random streams) and only noted. Keys are WordLM's command-line options (and "data" for the corpus),
/// so a message can name what differs; they are part of the state file's format.
/// </summary>
public static class RunIdentity
{
    /// <summary>The training-state metadata key that holds the identity (as a JSON object).</summary>
    public const string MetaKey = "run";

    // Options whose value the state overrides on resume: a difference is a note, not an error.
    private static readonly string[] Overridden = ["--lr", "--seed"];

    /// <summary>The identity of the run <paramref name="o"/> describes, on <paramref name="splits"/> with <paramref name="config"/>.</summary>
    public static Dictionary<string, string> Of(TrainingOptions o, WordLMConfig config, TokenSplits splits)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(splits);
        var c = CultureInfo.InvariantCulture;
        // Vocabulary words in id order: two corpora of the same size still differ here.
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", splits.Vocabulary.Words))))[..16];
        return new Dictionary<string, string>
        {
            ["--head"] = HeadKinds.Name(config.Head), // the name, as --head takes it: the stored format predates the enum
            ["--experts"] = config.Experts.ToString(c),
            ["--emsize"] = config.EmSize.ToString(c),
            ["--nhid"] = config.NHid.ToString(c),
            ["--nhidlast"] = config.NHidLast.ToString(c),
            ["--nlayers"] = config.NLayers.ToString(c),
            ["--tied"] = config.Tied ? "true" : "false",
            ["data"] = string.Create(c, $"a vocabulary of {splits.Vocabulary.Count} words (hash {hash}) and {splits.Train.Length}/{splits.Valid.Length}/{splits.Test.Length} train/valid/test tokens"),
            ["--optimizer"] = o.Optimizer,
            ["--batch-size"] = o.BatchSize.ToString(c),
            ["--bptt"] = o.Bptt.ToString(c),
            ["--seed"] = o.Seed.ToString(c),
            ["--lr"] = o.Lr.ToString("R", c),
        };
    }

    /// <summary>
    /// Compares the identity a state was written with (<paramref name="saved"/>; null for a state written before
    /// identities were kept, and a key it lacks is skipped) with this run's. A different model, data, optimizer,
    /// batch size or window is refused; a different <c>--lr</c> or <c>--seed</c> gets one note, handed to
    /// <paramref name="note"/> (the library prints nothing).
    /// </summary>
    /// <returns>The identity the continued run keeps: this run's, with the state's values where the state overrides
    /// the options (so a later resume compares against what the run really uses).</returns>
    /// <exception cref="ArgumentException">The state belongs to a different run; the message names the first differing option.</exception>
    public static Dictionary<string, string> CheckResume(string statePath, IReadOnlyDictionary<string, string>? saved, IReadOnlyDictionary<string, string> now,
        Action<string>? note = null)
    {
        ArgumentNullException.ThrowIfNull(now);
        var kept = new Dictionary<string, string>(now);
        if (saved is null) return kept;
        var differing = now.Where(p => saved.TryGetValue(p.Key, out var was) && was != p.Value).ToList();
        foreach (var (key, value) in differing.Where(p => !Overridden.Contains(p.Key)))
        {
            throw new ArgumentException(key == "data"
                ? $"--resume {statePath} was written with other data ({saved[key]}); this run has {value}"
                : $"--resume {statePath} was written with {key} {saved[key]}, this run has {key} {value}");
        }
        foreach (var (key, value) in differing)
        {
            note?.Invoke($"--resume {statePath} continues with the state's {key} {saved[key]}; the given {key} {value} is ignored");
            kept[key] = saved[key];
        }
        return kept;
    }
}
