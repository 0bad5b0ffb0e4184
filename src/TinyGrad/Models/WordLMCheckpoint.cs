using System.Globalization;
using System.Text;
using System.Text.Json;
using TinyGrad.Data;
using TinyGrad.IO;
using TinyGrad.NN;

namespace TinyGrad.Models;

/// <summary>
/// A WordLM checkpoint that cannot be loaded: the message names the file and every problem found. (A file that
/// is not valid safetensors fails earlier with <see cref="SafeTensorsException"/>, which has the same shape.)
/// </summary>
public sealed class CheckpointException(string path, string problem, Exception? inner = null) : Exception($"{path}: {problem}", inner)
{
    /// <summary>The file.</summary>
    public string Path { get; } = path;
}

/// <summary>
/// WordLM checkpoints in the layout of wordlm_reference.py, so that PyTorch and TinyGrad read each other's files:
/// safetensors with the PyTorch state-dict names in state-dict order (a tied <c>decoder.weight</c> omitted), and
/// string metadata <c>format</c> = "tinygrad.wordlm", <c>version</c> = "1", <c>config</c> (the model's config
/// as JSON) and <c>vocab</c> (the words in id order, as a JSON list). The file holds the model only; training
/// state belongs in a sibling file.
/// </summary>
public static class WordLMCheckpoint
{
    /// <summary>The metadata <c>format</c> value.</summary>
    public const string Format = "tinygrad.wordlm";

    /// <summary>The metadata <c>version</c> value this code writes and reads.</summary>
    public const string Version = "1";

    /// <summary>
    /// Writes <paramref name="model"/> and <paramref name="vocab"/> to <paramref name="path"/> atomically (a
    /// temporary file, flushed, then renamed over the target), so a crash never leaves a half-written checkpoint.
    /// </summary>
    public static void Save(string path, WordLM model, Vocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocab);
        if (vocab.Count != model.Config.VocabSize)
            throw new ArgumentException($"WordLM checkpoint {path}: the vocabulary has {vocab.Count} words but the model's vocab_size is {model.Config.VocabSize}");
        // NamedParameters lists a tied tensor once, under its first name (encoder.weight): exactly the
        // reference's state dict without the tied decoder.weight. The filter only makes that explicit.
        var tensors = model.NamedParameters()
            .Where(p => !(model.Config.Tied && p.Key == "decoder.weight"))
            .ToList();
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["version"] = Version,
            ["config"] = model.Config.ToJson(),
            ["vocab"] = PythonJsonList(vocab.Words),
        };
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>
    /// Reads a checkpoint written by <see cref="Save"/> or by the reference's save_checkpoint. Loading is strict:
    /// every tensor the config implies must be present with its shape and no other may be; all problems are
    /// reported together. A tied decoder weight is restored as the encoder's tensor (one shared parameter).
    /// The model comes back in training mode with no dropout set, like a new one.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="generator">Draws dropout masks if training continues (its initial draws are overwritten); a fixed seed when null.</param>
    /// <param name="note">Told, as one line naming the file, of anything read leniently (see <see cref="WordLMConfig.FromJson(string, out string?)"/>).</param>
    /// <exception cref="SafeTensorsException">The file is not valid safetensors.</exception>
    /// <exception cref="CheckpointException">Metadata is missing or wrong, or the tensors do not fit the config.</exception>
    public static (WordLM Model, Vocabulary Vocab) Load(string path, Generator? generator = null, Action<string>? note = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (tensors, metadata) = SafeTensors.Load(path);
        CheckpointException Bad(string problem, Exception? inner = null) => new(path, problem, inner);

        string Meta(string key) => metadata.TryGetValue(key, out var value)
            ? value
            : throw Bad($"missing metadata key '{key}' (a WordLM checkpoint has format, version, config and vocab; found {(metadata.Count == 0 ? "none" : string.Join(", ", metadata.Keys))})");
        string format = Meta("format");
        if (format != Format) throw Bad($"metadata format is '{format}', expected '{Format}'");
        string version = Meta("version");
        if (version != Version) throw Bad($"metadata version '{version}' is not supported (this build reads version {Version})");

        WordLMConfig config;
        try
        {
            config = WordLMConfig.FromJson(Meta("config"), out string? lenient);
            if (lenient is not null) note?.Invoke($"{path}: {lenient}");
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw Bad($"metadata 'config' is invalid: {e.Message}", e);
        }
        var vocab = ParseVocab(Meta("vocab"), config.VocabSize, Bad);

        var model = new WordLM(config, generator ?? new Generator(0));
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors) state[name] = tensor;
        var problems = new List<string>();
        if (config.Tied)
        {
            // The reference omits the tied weight; one that is present anyway is ambiguous (which copy wins?).
            if (state.ContainsKey("decoder.weight"))
                problems.Add("decoder.weight is present but the config says tied (a tied checkpoint omits it)");
            else if (state.TryGetValue("encoder.weight", out var shared))
                state["decoder.weight"] = shared;
        }
        try
        {
            if (problems.Count == 0) model.LoadStateDict(state, strict: true);
        }
        catch (StateDictException e)
        {
            // With a tied model, decoder.weight is encoder.weight: report the problem once, under encoder.weight.
            bool Echo(string s) => config.Tied && s.StartsWith("decoder.weight", StringComparison.Ordinal);
            var missing = e.Missing.Where(s => !Echo(s)).ToList();
            var mismatched = e.Mismatched.Where(s => !Echo(s)).ToList();
            if (missing.Count > 0) problems.Add($"missing: {string.Join(", ", missing)}");
            if (e.Unexpected.Count > 0) problems.Add($"unexpected: {string.Join(", ", e.Unexpected)}");
            if (mismatched.Count > 0) problems.Add($"wrong shape: {string.Join("; ", mismatched)}");
            throw Bad($"tensors do not fit the config {config.ToJson()}: {string.Join(" | ", problems)}", e);
        }
        if (problems.Count > 0) throw Bad($"tensors do not fit the config {config.ToJson()}: {string.Join(" | ", problems)}");
        return (model, vocab);
    }

    private static Vocabulary ParseVocab(string json, int expected, Func<string, Exception?, CheckpointException> bad)
    {
        var words = new List<string>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw bad($"metadata 'vocab' must be a JSON list of words, got {doc.RootElement.ValueKind}", null);
            int i = 0;
            foreach (var w in doc.RootElement.EnumerateArray())
            {
                if (w.ValueKind != JsonValueKind.String) throw bad($"metadata 'vocab': entry {i} is {w.GetRawText()}, not a string", null);
                words.Add(w.GetString()!);
                i++;
            }
        }
        catch (JsonException e)
        {
            throw bad($"metadata 'vocab' is not valid JSON ({e.Message})", e);
        }
        if (words.Count != expected)
            throw bad($"metadata 'vocab' has {words.Count} words but config vocab_size is {expected}", null);
        // Checked here rather than left to Vocabulary, so the message can give both positions.
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < words.Count; i++)
        {
            if (!first.TryAdd(words[i], i))
                throw bad($"metadata 'vocab': the word '{words[i]}' appears twice (ids {first[words[i]]} and {i})", null);
        }
        return new Vocabulary(words);
    }

    /// <summary>
    /// A list of strings exactly as Python's <c>json.dumps</c> writes it (", " between items, non-ASCII and control
    /// characters as \uxxxx: everything outside ' '..'~'), so the metadata is what the reference itself would have written.
    /// </summary>
    private static string PythonJsonList(IReadOnlyList<string> words)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < words.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append('"');
            foreach (char c in words[i])
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c is < ' ' or > '~') sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }
        return sb.Append(']').ToString();
    }
}
