using System.Text;

namespace TinyGrad.Data;

/// <summary>A clear error about a corpus file: it names the file and, where it applies, the line.</summary>
public sealed class CorpusException(string message) : Exception(message);

/// <summary>
/// Reads tokenised text: each line becomes its space-separated tokens followed by <c>&lt;eos&gt;</c>
/// (the reference's read_tokens). CRLF endings and a missing final newline are handled; invalid UTF-8 and
/// an empty file are errors that name the file (and line).
/// </summary>
public static class TextCorpus
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lines of a file, each already split into tokens (without the <c>&lt;eos&gt;</c>).</summary>
    public static List<string[]> ReadLines(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new CorpusException($"{path}: file not found");
        // Decode line by line from the raw bytes, so invalid UTF-8 is reported at its own line (a buffered
        // reader would fail wherever its read-ahead happened to be).
        var bytes = File.ReadAllBytes(path);
        var lines = new List<string[]>();
        int number = 0, start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0; // skip a BOM
        bool anyToken = false;
        // Lines end at \n, \r\n or a lone \r (Python's universal newlines, as the reference's open() reads them).
        while (start < bytes.Length)
        {
            int end = start;
            while (end < bytes.Length && bytes[end] != (byte)'\n' && bytes[end] != (byte)'\r') end++;
            number++;
            string line;
            try
            {
                line = StrictUtf8.GetString(bytes, start, end - start);
            }
            catch (DecoderFallbackException)
            {
                throw new CorpusException($"{path}:{number}: invalid UTF-8");
            }
            var tokens = SplitWords(line);
            anyToken |= tokens.Length > 0;
            lines.Add(tokens);
            start = end + (end + 1 < bytes.Length && bytes[end] == (byte)'\r' && bytes[end + 1] == (byte)'\n' ? 2 : 1);
        }
        if (!anyToken) throw new CorpusException($"{path}: the file holds no tokens ({number} lines, all blank)");
        return lines;
    }

    // Python's str.split(): runs of any whitespace separate words (char.IsWhiteSpace misses \x1c–\x1f).
    private static string[] SplitWords(string line)
    {
        var words = new List<string>();
        int begin = -1;
        for (int i = 0; i <= line.Length; i++)
        {
            bool space = i == line.Length || char.IsWhiteSpace(line[i]) || line[i] is >= '\x1c' and <= '\x1f';
            if (space && begin >= 0)
            {
                words.Add(line[begin..i]);
                begin = -1;
            }
            else if (!space && begin < 0) begin = i;
        }
        return [.. words];
    }

    /// <summary>Adds every token of the files (and <c>&lt;eos&gt;</c> at each line end) to a vocabulary, in order of first appearance.</summary>
    public static Vocabulary BuildVocabulary(params string[] paths)
    {
        var vocab = new Vocabulary();
        foreach (var path in paths)
        {
            foreach (var line in ReadLines(path))
            {
                foreach (var w in line) vocab.Add(w);
                vocab.Add(Vocabulary.Eos);
            }
        }
        return vocab;
    }

    /// <summary>
    /// The token ids of a file. A word missing from the vocabulary becomes <c>&lt;unk&gt;</c> when the
    /// vocabulary has it; otherwise it is an error naming the word, the file and the line.
    /// </summary>
    public static int[] Tokenize(string path, Vocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        var ids = new List<int>();
        bool hasUnk = vocab.TryGetId(Vocabulary.Unk, out int unk);
        if (!vocab.TryGetId(Vocabulary.Eos, out int eos))
            throw new CorpusException($"{path}: the vocabulary has no '{Vocabulary.Eos}' token");
        var lines = ReadLines(path);
        for (int n = 0; n < lines.Count; n++)
        {
            foreach (var w in lines[n])
            {
                if (vocab.TryGetId(w, out int id)) ids.Add(id);
                else if (hasUnk) ids.Add(unk);
                else throw new CorpusException($"{path}:{n + 1}: the word '{w}' is not in the vocabulary, which has no '{Vocabulary.Unk}'");
            }
            ids.Add(eos);
        }
        return [.. ids];
    }
}
