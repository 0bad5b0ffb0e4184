using TinyGrad.Data;

namespace WordLM;

/// <summary>
/// Lays words out as text one at a time: separated by spaces, <c>&lt;eos&gt;</c> as a line break, and a final line
/// break from <see cref="Finish"/> if the text does not already end with one. Streaming is what lets
/// <c>generate --words N</c> print as it samples, in constant memory, however large N is.
/// </summary>
public sealed class WordWriter(TextWriter output)
{
    private readonly TextWriter _output = output ?? throw new ArgumentNullException(nameof(output));
    private bool _lineStart = true;

    /// <summary>Writes one word (or a line break for <c>&lt;eos&gt;</c>).</summary>
    public void Write(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word == Vocabulary.Eos)
        {
            _output.Write('\n');
            _lineStart = true;
            return;
        }
        if (!_lineStart) _output.Write(' ');
        _output.Write(word);
        _lineStart = false;
    }

    /// <summary>Ends the last line if a word is still on it.</summary>
    public void Finish()
    {
        if (!_lineStart) _output.Write('\n');
        _lineStart = true;
    }
}
