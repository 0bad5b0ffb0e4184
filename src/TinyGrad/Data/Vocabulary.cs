namespace TinyGrad.Data;

/// <summary>
/// Words ↔ ids. Built in order of first appearance (the standard PTB/WikiText pipelines, and the
/// reference's build_vocab), so the same files give the same ids in PyTorch and here.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The end-of-sentence token appended to every line.</summary>
    public const string Eos = "<eos>";

    /// <summary>The unknown-word token of the preprocessed corpora.</summary>
    public const string Unk = "<unk>";

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _words = [];

    /// <summary>An empty vocabulary.</summary>
    public Vocabulary()
    {
    }

    /// <summary>A vocabulary holding <paramref name="words"/> in id order (e.g. from a checkpoint).</summary>
    public Vocabulary(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        foreach (var w in words)
        {
            int before = _words.Count;
            if (Add(w) != before) throw new ArgumentException($"vocabulary: the word '{w}' appears twice");
        }
    }

    /// <summary>Number of words.</summary>
    public int Count => _words.Count;

    /// <summary>The words in id order.</summary>
    public IReadOnlyList<string> Words => _words;

    /// <summary>The id of a word, adding it when new.</summary>
    public int Add(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (_ids.TryGetValue(word, out int id)) return id;
        _ids[word] = _words.Count;
        _words.Add(word);
        return _words.Count - 1;
    }

    /// <summary>The id of a word, if present.</summary>
    public bool TryGetId(string word, out int id) => _ids.TryGetValue(word, out id);

    /// <summary>The word of an id.</summary>
    public string this[int id] => id >= 0 && id < _words.Count
        ? _words[id]
        : throw new ArgumentOutOfRangeException(nameof(id), $"vocabulary: id {id} is outside [0, {_words.Count})");
}
