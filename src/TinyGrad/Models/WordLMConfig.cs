using System.Globalization;
using System.Text;
using System.Text.Json;
using TinyGrad.NN.Heads;

namespace TinyGrad.Models;

/// <summary>
/// The shape of a <see cref="WordLM"/>: the reference's <c>model.config</c> (wordlm_reference.py), which a
/// checkpoint stores as JSON under the metadata key <c>config</c>. Every instance is valid: the constructor
/// checks sizes, the head, the number of experts and whether tying is possible.
/// </summary>
public sealed record WordLMConfig
{
    private static readonly string[] JsonKeys = ["vocab_size", "emsize", "nhid", "nhidlast", "nlayers", "head", "experts", "tied"];

    /// <summary>
    /// A configuration with the reference constructor's defaults: <paramref name="nHidLast"/> null means
    /// <paramref name="emSize"/> for softmax and sigsoftmax (so the decoder can be tied) and
    /// <paramref name="nHid"/> for the mixtures (whose decoder reads emsize-sized contexts anyway).
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, the head is not a defined <see cref="HeadKind"/>,
    /// experts ≠ 1 for a single-normaliser head, or tying is asked for with a decoder input size other than emsize.</exception>
    public WordLMConfig(int vocabSize, int emSize, int nHid, int nLayers, HeadKind head = HeadKind.Softmax, int experts = 1, int? nHidLast = null, bool tied = true)
    {
        // A cast can put any int in the enum; neither messages nor the reference's JSON have a name for it.
        if (!Enum.IsDefined(head))
            throw new ArgumentException($"WordLM config: unknown head {(int)head} (expected {HeadKinds.ValidNames})", nameof(head));
        string headName = HeadKinds.Name(head);
        bool mixture = HeadKinds.IsMixture(head);
        int last = nHidLast ?? (mixture ? nHid : emSize);
        foreach (var (name, value) in new[] { ("vocab_size", vocabSize), ("emsize", emSize), ("nhid", nHid), ("nhidlast", last), ("nlayers", nLayers), ("experts", experts) })
        {
            if (value <= 0) throw new ArgumentException($"WordLM config: {name} = {value} must be positive", name);
        }
        if (!mixture && experts != 1)
            throw new ArgumentException($"WordLM config: experts = {experts} applies only to the mos and moss heads; the {headName} head needs experts = 1", nameof(experts));
        // The decoder reads the last LSTM layer (softmax, sigsoftmax) or an emsize-sized context (mixtures).
        if (tied && !mixture && last != emSize)
            throw new ArgumentException($"WordLM config: tied weights need the decoder input size to equal emsize, but the {headName} decoder reads nhidlast = {last} and emsize = {emSize} (set nhidlast = emsize or untie)", nameof(tied));
        VocabSize = vocabSize;
        EmSize = emSize;
        NHid = nHid;
        NHidLast = last;
        NLayers = nLayers;
        Head = head;
        Experts = experts;
        Tied = tied;
    }

    /// <summary>Number of words V (<c>vocab_size</c>).</summary>
    public int VocabSize { get; }

    /// <summary>Embedding size (<c>emsize</c>); also the size of each mixture expert's context.</summary>
    public int EmSize { get; }

    /// <summary>Hidden size of every LSTM layer but the last (<c>nhid</c>).</summary>
    public int NHid { get; }

    /// <summary>Hidden size of the last LSTM layer (<c>nhidlast</c>), which the head reads.</summary>
    public int NHidLast { get; }

    /// <summary>Number of LSTM layers (<c>nlayers</c>).</summary>
    public int NLayers { get; }

    /// <summary>The output head (the JSON's <c>head</c> holds its name, <see cref="HeadKinds.Name"/>).</summary>
    public HeadKind Head { get; }

    /// <summary>Number of mixture experts K (1 for softmax and sigsoftmax).</summary>
    public int Experts { get; }

    /// <summary>Whether the decoder weight is the encoder weight (then checkpoints omit <c>decoder.weight</c>).</summary>
    public bool Tied { get; }

    /// <summary>True for the mixture heads (mos, moss), which have <c>prior</c> and <c>latent</c> layers.</summary>
    public bool IsMixture => HeadKinds.IsMixture(Head);

    /// <summary>The input and hidden size of each LSTM layer: emsize → nhid → … → nhidlast.</summary>
    public (int Input, int Hidden)[] LayerSizes()
    {
        var sizes = new (int, int)[NLayers];
        for (int l = 0; l < NLayers; l++)
            sizes[l] = (l == 0 ? EmSize : NHid, l == NLayers - 1 ? NHidLast : NHid);
        return sizes;
    }

    /// <summary>
    /// The config as the reference writes it, byte for byte: Python's <c>json.dumps(model.config)</c>
    /// (keys in the reference's order, ", " and ": " separators), e.g.
    /// <c>{"vocab_size": 30, "emsize": 8, "nhid": 12, "nhidlast": 8, "nlayers": 2, "head": "softmax", "experts": 1, "tied": true}</c>.
    /// </summary>
    public string ToJson()
    {
        var sb = new StringBuilder("{");
        void Int(string key, int value) => sb.Append(CultureInfo.InvariantCulture, $"\"{key}\": {value}, ");
        Int("vocab_size", VocabSize);
        Int("emsize", EmSize);
        Int("nhid", NHid);
        Int("nhidlast", NHidLast);
        Int("nlayers", NLayers);
        sb.Append(CultureInfo.InvariantCulture, $"\"head\": \"{HeadKinds.Name(Head)}\", "); // one of four ASCII names: nothing to escape
        Int("experts", Experts);
        sb.Append("\"tied\": ").Append(Tied ? "true" : "false").Append('}');
        return sb.ToString();
    }

    /// <summary>
    /// Parses a config written by <see cref="ToJson"/> or by the reference. All eight keys are required and no
    /// others are allowed (the reference passes them to its constructor as keyword arguments). Like the reference,
    /// which never reads <c>experts</c> for a single-normaliser head, it takes experts ≠ 1 with a softmax or
    /// sigsoftmax head as 1 (see the overload that reports it).
    /// </summary>
    /// <exception cref="FormatException">The text is not a JSON object, a key is missing, unknown or of the wrong type.</exception>
    /// <exception cref="ArgumentException">The values do not make a valid model (see the constructor).</exception>
    public static WordLMConfig FromJson(string json) => FromJson(json, out _);

    /// <summary>
    /// <see cref="FromJson(string)"/>, with <paramref name="note"/> saying what was read leniently (an
    /// <c>experts</c> value ignored for a single-normaliser head), or null when nothing was.
    /// </summary>
    /// <exception cref="FormatException">The text is not a JSON object, a key is missing, unknown or of the wrong type.</exception>
    /// <exception cref="ArgumentException">The values do not make a valid model (see the constructor).</exception>
    public static WordLMConfig FromJson(string json, out string? note)
    {
        note = null;
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"WordLM config: not valid JSON ({e.Message})", e);
        }
        using var _ = doc;
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException($"WordLM config: expected a JSON object, got {root.ValueKind}");
        var unknown = root.EnumerateObject().Select(p => p.Name).Where(n => !JsonKeys.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new FormatException($"WordLM config: unknown key(s) {string.Join(", ", unknown.Select(k => $"'{k}'"))} (expected {string.Join(", ", JsonKeys)})");
        var missing = JsonKeys.Where(k => !root.TryGetProperty(k, out var _)).ToList();
        if (missing.Count > 0)
            throw new FormatException($"WordLM config: missing key(s) {string.Join(", ", missing.Select(k => $"'{k}'"))}");

        int Int(string key)
        {
            var v = root.GetProperty(key);
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)
                ? i
                : throw new FormatException($"WordLM config: '{key}' must be an integer, got {v.GetRawText()}");
        }
        var head = root.GetProperty("head");
        if (head.ValueKind != JsonValueKind.String)
            throw new FormatException($"WordLM config: 'head' must be a string, got {head.GetRawText()}");
        var tied = root.GetProperty("tied");
        if (tied.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw new FormatException($"WordLM config: 'tied' must be true or false, got {tied.GetRawText()}");
        // The name becomes the enum here, at the boundary; like the reference, only the exact lower-case names.
        string name = head.GetString()!;
        if (!HeadKinds.TryParse(name, out var kind))
            throw new ArgumentException($"WordLM config: unknown head '{name}' (expected {HeadKinds.ValidNames})", nameof(json));
        int experts = Int("experts");
        // The reference stores whatever experts its constructor got but reads it only for the mixtures, so its
        // softmax checkpoints can say experts = 3. The constructor still refuses the contradiction when asked for it.
        if (!HeadKinds.IsMixture(kind) && experts != 1)
        {
            note = $"experts = {experts} ignored for the {name} head (as the reference does)";
            experts = 1;
        }
        return new WordLMConfig(Int("vocab_size"), Int("emsize"), Int("nhid"), Int("nlayers"), kind,
            experts, Int("nhidlast"), tied.GetBoolean());
    }
}
