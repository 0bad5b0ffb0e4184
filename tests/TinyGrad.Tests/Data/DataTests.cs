namespace TinyGrad.Tests.Data;

using System.Text;
using TinyGrad.Data;

public sealed class DataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Vocabulary_is_in_order_of_first_appearance_with_eos_at_line_ends()
    {
        var a = Write("a.txt", "the cat\nthe dog\n");
        var b = Write("b.txt", "a cat\n");
        var vocab = TextCorpus.BuildVocabulary(a, b);
        Assert.Equal(["the", "cat", "<eos>", "dog", "a"], vocab.Words);
        Assert.Equal([0, 1, 2, 0, 3, 2], TextCorpus.Tokenize(a, vocab));
    }

    [Fact]
    public void Crlf_and_a_missing_final_newline_are_handled()
    {
        var path = Write("crlf.txt", "x y\r\nz");
        var vocab = TextCorpus.BuildVocabulary(path);
        Assert.Equal(["x", "y", "<eos>", "z"], vocab.Words);
        Assert.Equal(5, TextCorpus.Tokenize(path, vocab).Length);
    }

    [Fact]
    public void Empty_or_blank_files_are_a_clear_error()
    {
        var empty = Write("empty.txt", "");
        var blank = Write("blank.txt", "\n  \n\n");
        Assert.Contains("empty.txt", Assert.Throws<CorpusException>(() => TextCorpus.ReadLines(empty)).Message);
        Assert.Contains("no tokens", Assert.Throws<CorpusException>(() => TextCorpus.ReadLines(blank)).Message);
        Assert.Contains("not found", Assert.Throws<CorpusException>(() => TextCorpus.ReadLines(Path.Combine(_dir, "nope.txt"))).Message);
    }

    [Fact]
    public void Invalid_utf8_names_the_file_and_line()
    {
        var path = Write("bad.txt", [(byte)'o', (byte)'k', (byte)'\n', 0xC3, 0x28, (byte)'\n']);
        var error = Assert.Throws<CorpusException>(() => TextCorpus.ReadLines(path));
        Assert.Contains("bad.txt:2", error.Message);
        Assert.Contains("UTF-8", error.Message);
    }

    [Fact]
    public void Unknown_words_map_to_unk_or_name_the_word_file_and_line()
    {
        var train = Write("train.txt", "a <unk>\n");
        var test = Write("test.txt", "a\nb\n");
        Assert.Equal([0, 2, 1, 2], TextCorpus.Tokenize(test, TextCorpus.BuildVocabulary(train)));
        var noUnk = new Vocabulary(["a", "<eos>"]);
        var error = Assert.Throws<CorpusException>(() => TextCorpus.Tokenize(test, noUnk));
        Assert.Contains("test.txt:2", error.Message);
        Assert.Contains("'b'", error.Message);
    }

    [Fact]
    public void Batches_follow_the_reference_layout()
    {
        // 11 tokens, B = 2: cut to 10, column b holds tokens b·5 … b·5 + 4.
        var batches = new Batches(Enumerable.Range(0, 11).ToArray(), 2);
        Assert.Equal(5, batches.Rows);
        Assert.Equal(8, batches.PredictedTokens);
        var (inputs, targets, len) = batches.Window(0, 3);
        Assert.Equal(3, len);
        Assert.Equal([0, 5, 1, 6, 2, 7], inputs);
        Assert.Equal([1, 6, 2, 7, 3, 8], targets);
        var last = batches.Window(3, 3);
        Assert.Equal(1, last.Length);                       // only one target row remains
        Assert.Equal([4, 9], last.Targets);
        Assert.Equal([0, 3], batches.Starts(3));
    }

    [Fact]
    public void A_corpus_shorter_than_one_batch_is_a_clear_error()
    {
        var error = Assert.Throws<CorpusException>(() => new Batches([1, 2, 3], 4, "tiny.txt"));
        Assert.Contains("tiny.txt", error.Message);
        Assert.Contains("batch size 4", error.Message);
    }
}

public class VocabularyTests
{
    [Fact]
    public void A_word_list_with_a_repeat_is_rejected_even_at_the_end()
    {
        Assert.Throws<ArgumentException>(() => new TinyGrad.Data.Vocabulary(["a", "b", "b"]));
        Assert.Throws<ArgumentException>(() => new TinyGrad.Data.Vocabulary(["a", "b", "a"]));
        Assert.Equal(2, new TinyGrad.Data.Vocabulary(["a", "b"]).Count);
    }
}

public sealed class CorpusSplittingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-split-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Lines_and_words_split_as_the_reference_python_reader_does()
    {
        // Python: open() ends lines at \r, \n and \r\n; str.split() splits on any whitespace.
        string path = Path.Combine(_dir, "mixed.txt");
        File.WriteAllText(path, "a\rb\r\nc\u00A0d e\vf\tg\n");
        var lines = TinyGrad.Data.TextCorpus.ReadLines(path);
        Assert.Equal(3, lines.Count);
        Assert.Equal(["a"], lines[0]);
        Assert.Equal(["b"], lines[1]);
        Assert.Equal(["c", "d", "e", "f", "g"], lines[2]);
    }
}
