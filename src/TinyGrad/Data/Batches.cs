namespace TinyGrad.Data;

/// <summary>
/// A token stream laid out as B parallel streams, cut into BPTT windows (the reference's evaluate):
/// the stream is cut to a multiple of B; column b holds tokens b·n … b·n + n − 1; window i covers rows
/// [i, i + len) as input and rows [i + 1, i + 1 + len) as targets.
/// </summary>
public sealed class Batches
{
    private readonly int[] _data; // [n, B] row-major: _data[t * B + b]

    /// <summary>Lays out <paramref name="tokens"/> as <paramref name="batchSize"/> streams.</summary>
    public Batches(int[] tokens, int batchSize, string source = "corpus")
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"batches: batch size {batchSize} must be positive");
        int n = tokens.Length / batchSize;
        if (n < 2)
            throw new CorpusException($"{source}: {tokens.Length} tokens are too few for batch size {batchSize} (each of the {batchSize} streams needs at least 2 tokens)");
        BatchSize = batchSize;
        Rows = n;
        _data = new int[n * batchSize];
        for (int b = 0; b < batchSize; b++)
            for (int t = 0; t < n; t++)
                _data[t * batchSize + b] = tokens[b * n + t];
    }

    /// <summary>Number of parallel streams (B).</summary>
    public int BatchSize { get; }

    /// <summary>Tokens per stream (n).</summary>
    public int Rows { get; }

    /// <summary>Number of predicted tokens over all windows: (n − 1)·B.</summary>
    public long PredictedTokens => (long)(Rows - 1) * BatchSize;

    /// <summary>
    /// The window starting at row <paramref name="start"/> of at most <paramref name="length"/> steps:
    /// inputs and targets as flat [len, B] arrays and the actual length.
    /// </summary>
    public (int[] Inputs, int[] Targets, int Length) Window(int start, int length)
    {
        if (start < 0 || start >= Rows - 1) throw new ArgumentOutOfRangeException(nameof(start), $"batches: window start {start} is outside [0, {Rows - 1})");
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), $"batches: window length {length} must be positive");
        int len = Math.Min(length, Rows - 1 - start);
        var inputs = _data.AsSpan(start * BatchSize, len * BatchSize).ToArray();
        var targets = _data.AsSpan((start + 1) * BatchSize, len * BatchSize).ToArray();
        return (inputs, targets, len);
    }

    /// <summary>Window starts for fixed-length windows: 0, bptt, 2·bptt, … while a target remains.</summary>
    public IEnumerable<int> Starts(int bptt)
    {
        if (bptt <= 0) throw new ArgumentOutOfRangeException(nameof(bptt), $"batches: bptt {bptt} must be positive");
        for (int i = 0; i < Rows - 1; i += bptt) yield return i;
    }
}
