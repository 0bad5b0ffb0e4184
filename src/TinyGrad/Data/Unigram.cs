namespace TinyGrad.Data;

/// <summary>Unigram statistics of a token stream, for initialising an output layer.</summary>
public static class Unigram
{
    /// <summary>
    /// log((count_j + α) / (N + α·V)) for each word j: the log unigram frequencies of <paramref name="tokens"/>, with
    /// a small pseudo-count α so that a word absent from the stream gets a finite, very low value rather than −∞.
    /// </summary>
    /// <remarks>
    /// Why: a decoder bias initialised to these makes the untrained model predict the unigram distribution instead
    /// of the uniform one. In our prototypes that one change stopped mixture-of-softmaxes heads from collapsing
    /// under Adam (rank 2, perplexity far above the other heads) on every source tried (FIELD-NOTES, "A synthetic
    /// corpus that shows the bottleneck"). Works for any corpus, not only the synthetic one.
    /// </remarks>
    /// <param name="tokens">Token ids, each in [0, <paramref name="vocabSize"/>).</param>
    /// <param name="vocabSize">V, the length of the result.</param>
    /// <param name="pseudoCount">α &gt; 0, added to every count.</param>
    public static float[] LogFrequencies(ReadOnlySpan<int> tokens, int vocabSize, double pseudoCount = 0.1)
    {
        if (vocabSize < 1)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"unigram: vocabSize {vocabSize} must be positive");
        if (!(pseudoCount > 0) || double.IsInfinity(pseudoCount))
            throw new ArgumentOutOfRangeException(nameof(pseudoCount), pseudoCount, $"unigram: pseudoCount {pseudoCount} must be a positive finite number");
        var counts = new long[vocabSize];
        for (int n = 0; n < tokens.Length; n++)
        {
            int t = tokens[n];
            if ((uint)t >= (uint)vocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), t, $"unigram: token {t} at position {n} is outside [0, {vocabSize})");
            counts[t]++;
        }
        double logTotal = Math.Log(tokens.Length + pseudoCount * vocabSize);
        var result = new float[vocabSize];
        for (int j = 0; j < vocabSize; j++) result[j] = (float)(Math.Log(counts[j] + pseudoCount) - logTotal);
        return result;
    }
}
