using System.Text;

namespace TinyGrad.Data;

/// <summary>
/// The built-in corpus: a seeded first-order Markov source over pronounceable pseudo-words whose true
/// next-word distribution is known exactly, with train/valid/test splits sampled from it. It is the one corpus
/// on which a language model's perplexity (and the rank of its log-probability matrix) can be measured against
/// ground truth: <see cref="OptimumPerplexity"/> is the best any model can reach.
/// </summary>
/// <remarks>
/// <para><b>The source.</b> State <c>&lt;eos&gt;</c> plus V − 1 words. Row i of the transition matrix is the mixture
/// <c>P_i = s·Uniform(V) + (1 − s)·[q_i·δ_eos + (1 − q_i)·Σ_k w_ik·δ_succ(i,k)]</c>:
/// <list type="bullet">
/// <item>m = <c>successors</c> distinct likely successors succ(i, ·), drawn uniformly from the non-<c>&lt;eos&gt;</c>
/// words, with Dirichlet(1, …, 1) weights w_i (normalised exponentials). One of them is forced from a random
/// permutation, and given the row's largest weight, so that every word is the most likely successor of some row:
/// no word lives on smoothing alone, every word occurs in a corpus of ordinary size, and no column of log P is the
/// constant log(s/V).</item>
/// <item>q_i, the chance that the sentence ends after word i, is uniform in [½, 1½]/L (L = <c>meanSentenceLength</c>),
/// so sentences have PTB-like lengths and where they end depends on the last word; q_eos = 0.</item>
/// <item>s = <c>smoothing</c> spread evenly over all V states, so every log-probability is finite.</item>
/// </list>
/// log P is then a constant plus a sparse random matrix with m + 1 entries per row: generically of full rank,
/// far above the d + 2 a softmax head of width d can express. That is the situation where the softmax
/// bottleneck bites (the sparse m = 4 source was the one that showed it in our prototypes; see FIELD-NOTES).</para>
/// <para><b>The splits.</b> Each split is sampled by running the chain from a sentence start (as if after
/// <c>&lt;eos&gt;</c>) until it holds at least the requested number of tokens and ends with <c>&lt;eos&gt;</c>, so it
/// is whole sentences. Ids are assigned in order of first appearance over train, valid, test (words that never occur
/// go last), the order <see cref="TextCorpus.BuildVocabulary"/> uses: the files of <see cref="WriteTo"/> read
/// back to the same vocabulary and the same ids.</para>
/// <para><b>Determinism.</b> Everything follows from the seed through <see cref="Generator"/>; the source, and each
/// split, get their own sub-stream, so changing one split's length changes neither the language nor the text of
/// the other splits (ids may move, since they follow first appearance).</para>
/// </remarks>
public sealed class SyntheticCorpus
{
    /// <summary>The largest vocabulary accepted: <see cref="TransitionLogProbs"/> is dense (V² doubles, 200 MB here).</summary>
    public const int MaxVocabSize = 5000;

    /// <summary>The most tokens a split may ask for.</summary>
    public const int MaxSplitTokens = 100_000_000;

    private const string Consonants = "bdfgklmnprstvz";
    private const string Vowels = "aeiou";

    private readonly int _v, _m;
    private readonly double _base;     // s / V: every entry of P has at least this
    private readonly int[] _succ;      // [V, m]: the likely successors of each row
    private readonly double[] _extra;  // [V, m]: (1 − s)(1 − q_i) w_ik, the mass on top of _base
    private readonly double[] _end;    // [V]: (1 − s) q_i, the extra mass on <eos>
    private readonly double[] _pi;     // [V]: the stationary distribution

    private SyntheticCorpus(int v, int m, double smoothing, int eos, string[] words, int[] succ, double[] extra,
        double[] end, int[] train, int[] valid, int[] test)
    {
        (_v, _m, _base, EosId, _succ, _extra, _end) = (v, m, smoothing / v, eos, succ, extra, end);
        (Vocabulary, Train, Valid, Test) = (new Vocabulary(words), train, valid, test);
        _pi = StationaryDistribution();
        double h = 0;
        for (int i = 0; i < v; i++) h += _pi[i] * RowEntropy(i);
        EntropyRate = h;
    }

    /// <summary>The words in id order; <c>&lt;eos&gt;</c> is one of them (<see cref="EosId"/>).</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The id of <c>&lt;eos&gt;</c>.</summary>
    public int EosId { get; }

    /// <summary>V, the number of states (words plus <c>&lt;eos&gt;</c>).</summary>
    public int VocabSize => _v;

    /// <summary>The number of likely successors per word (m).</summary>
    public int Successors => _m;

    /// <summary>The training split: token ids, whole sentences each ending with <c>&lt;eos&gt;</c>. Shared, not copied.</summary>
    public int[] Train { get; }

    /// <summary>The validation split (as <see cref="Train"/>).</summary>
    public int[] Valid { get; }

    /// <summary>The test split (as <see cref="Train"/>).</summary>
    public int[] Test { get; }

    /// <summary>The stationary distribution π of the chain (πP = π), by power iteration in double.</summary>
    public ReadOnlySpan<double> Stationary => _pi;

    /// <summary>
    /// The exact entropy rate H = −Σ_i π_i Σ_j P_ij log P_ij of the source, in nats per token: the expected loss
    /// of the true model on a long sample.
    /// </summary>
    public double EntropyRate { get; }

    /// <summary>
    /// exp(<see cref="EntropyRate"/>): the best perplexity any model can achieve on this source, even one that sees
    /// the whole history — the source is first-order, so the previous word already says all that can be known.
    /// A finite split scores the true model within sampling noise of it (<see cref="TrueModelLoss"/>).
    /// </summary>
    public double OptimumPerplexity => Math.Exp(EntropyRate);

    /// <summary>
    /// Generates a corpus. The defaults (V = 1,000, m = 4, about 200k/20k/20k tokens) suit the default WordLM run
    /// (a small model, about two minutes on 2 cores): 200k training tokens are some 40 sightings of each of the
    /// V·(m + 1) ≈ 5,000 likely transitions, enough for a model to approach the optimum in a few epochs of a couple
    /// of minutes' budget, while 20k valid/test tokens measure a perplexity to about 1% (the per-token loss has a
    /// standard deviation near 1.25 nats, so its standard error on 20k tokens is under 0.01). Generation takes milliseconds.
    /// </summary>
    /// <param name="seed">Fixes the words, the source and the splits.</param>
    /// <param name="vocabSize">V, including <c>&lt;eos&gt;</c>: 2 … <see cref="MaxVocabSize"/>.</param>
    /// <param name="trainTokens">Minimum tokens in the training split (it is completed to a sentence end).</param>
    /// <param name="validTokens">Minimum tokens in the validation split.</param>
    /// <param name="testTokens">Minimum tokens in the test split.</param>
    /// <param name="successors">m, the likely successors of each word: 1 … V − 1.</param>
    /// <param name="smoothing">s, the probability mass spread evenly over all V states in every row: 1e-4 … 1.</param>
    /// <param name="meanSentenceLength">L, about the mean number of words per sentence: 2 … 1,000,000.</param>
    public static SyntheticCorpus Generate(ulong seed, int vocabSize = 1000, int trainTokens = 200_000,
        int validTokens = 20_000, int testTokens = 20_000, int successors = 4, double smoothing = 0.01,
        int meanSentenceLength = 20)
    {
        if (vocabSize < 2 || vocabSize > MaxVocabSize)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"synthetic corpus: vocabSize {vocabSize} must be in [2, {MaxVocabSize}]");
        CheckTokens(trainTokens, nameof(trainTokens));
        CheckTokens(validTokens, nameof(validTokens));
        CheckTokens(testTokens, nameof(testTokens));
        if (successors < 1 || successors > vocabSize - 1)
            throw new ArgumentOutOfRangeException(nameof(successors), successors, $"synthetic corpus: successors {successors} must be in [1, vocabSize − 1 = {vocabSize - 1}]");
        if (!(smoothing >= 1e-4 && smoothing <= 1)) // also rejects NaN
            throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, $"synthetic corpus: smoothing {smoothing} must be in [1e-4, 1] (it keeps every log-probability finite and the chain mixing)");
        if (meanSentenceLength < 2 || meanSentenceLength > 1_000_000)
            throw new ArgumentOutOfRangeException(nameof(meanSentenceLength), meanSentenceLength, $"synthetic corpus: meanSentenceLength {meanSentenceLength} must be in [2, 1000000]");

        int v = vocabSize, m = successors;
        var root = new Generator(seed);
        var rng = new Generator(root.NextUInt64());
        ulong trainSeed = root.NextUInt64(), validSeed = root.NextUInt64(), testSeed = root.NextUInt64();

        // Build in internal labels (0 = <eos>, then words in creation order); relabelled below.
        var words = new string[v];
        words[0] = Vocabulary.Eos;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 1; i < v; i++)
        {
            string w;
            do w = PseudoWord(rng); while (!seen.Add(w));
            words[i] = w;
        }

        // pool holds the non-<eos> words; pos is its inverse, so a forced successor can be moved to the end and the
        // other m − 1 drawn by a partial Fisher–Yates over the rest (O(m) per row; the pool needs no reset, since a
        // partial shuffle of any arrangement still draws a uniform subset).
        int nw = v - 1;
        var pool = new int[nw];
        var pos = new int[v];
        for (int k = 0; k < nw; k++) (pool[k], pos[k + 1]) = (k + 1, k);
        var forced = (int[])pool.Clone();
        for (int k = nw - 1; k > 0; k--) { int r = rng.NextInt(k + 1); (forced[k], forced[r]) = (forced[r], forced[k]); }

        var succ = new int[v * m];
        var extra = new double[v * m];
        var end = new double[v];
        for (int i = 0; i < v; i++)
        {
            Swap(pool, pos, pos[forced[i % nw]], nw - 1);
            succ[i * m] = pool[nw - 1];
            for (int k = 1; k < m; k++)
            {
                int r = k - 1 + rng.NextInt(nw - 1 - (k - 1));
                Swap(pool, pos, k - 1, r);
                succ[i * m + k] = pool[k - 1];
            }
            double q = i == 0 ? 0 : (0.5 + rng.NextDouble()) / meanSentenceLength;
            end[i] = (1 - smoothing) * q;
            double total = 0;
            for (int k = 0; k < m; k++) total += extra[i * m + k] = -Math.Log(1 - rng.NextDouble()); // Exp(1), never ∞
            int top = 0;
            for (int k = 0; k < m; k++)
            {
                extra[i * m + k] *= (1 - smoothing) * (1 - q) / total;
                if (extra[i * m + k] > extra[i * m + top]) top = k;
            }
            (extra[i * m], extra[i * m + top]) = (extra[i * m + top], extra[i * m]); // the forced successor gets the largest weight
        }

        var train = Sample(new Generator(trainSeed), trainTokens, v, m, smoothing, succ, extra, end);
        var valid = Sample(new Generator(validSeed), validTokens, v, m, smoothing, succ, extra, end);
        var test = Sample(new Generator(testSeed), testTokens, v, m, smoothing, succ, extra, end);

        // Relabel by first appearance over train, valid, test (TextCorpus.BuildVocabulary's order), unseen states last.
        var newId = new int[v];
        Array.Fill(newId, -1);
        int next = 0;
        foreach (var split in (int[][])[train, valid, test])
            foreach (int t in split) if (newId[t] < 0) newId[t] = next++;
        for (int i = 0; i < v; i++) if (newId[i] < 0) newId[i] = next++;
        foreach (var split in (int[][])[train, valid, test])
            for (int n = 0; n < split.Length; n++) split[n] = newId[split[n]];
        var words2 = new string[v];
        var succ2 = new int[v * m];
        var extra2 = new double[v * m];
        var end2 = new double[v];
        for (int old = 0; old < v; old++)
        {
            int i = newId[old];
            words2[i] = words[old];
            end2[i] = end[old];
            for (int k = 0; k < m; k++)
            {
                succ2[i * m + k] = newId[succ[old * m + k]];
                extra2[i * m + k] = extra[old * m + k];
            }
        }
        return new SyntheticCorpus(v, m, smoothing, newId[0], words2, succ2, extra2, end2, train, valid, test);
    }

    private static void CheckTokens(int tokens, string name)
    {
        if (tokens < 1 || tokens > MaxSplitTokens)
            throw new ArgumentOutOfRangeException(name, tokens, $"synthetic corpus: {name} {tokens} must be in [1, {MaxSplitTokens}]");
    }

    private static void Swap(int[] pool, int[] pos, int a, int b)
    {
        (pool[a], pool[b]) = (pool[b], pool[a]);
        pos[pool[a]] = a;
        pos[pool[b]] = b;
    }

    // Two to four consonant–vowel syllables ("kobani", "telu"): pronounceable, letters only.
    private static string PseudoWord(Generator rng)
    {
        double u = rng.NextDouble();
        int syllables = u < 0.35 ? 2 : u < 0.8 ? 3 : 4;
        var chars = new char[2 * syllables];
        for (int k = 0; k < syllables; k++)
        {
            chars[2 * k] = Consonants[rng.NextInt(Consonants.Length)];
            chars[2 * k + 1] = Vowels[rng.NextInt(Vowels.Length)];
        }
        return new string(chars);
    }

    // Runs the chain from a sentence start (internal <eos> = 0) until at least `tokens` tokens and a final <eos>.
    // Each step draws the mixture exactly: with probability s a uniform state, else <eos> or a likely successor.
    private static int[] Sample(Generator rng, int tokens, int v, int m, double s, int[] succ, double[] extra, double[] end)
    {
        var ids = new List<int>(tokens + 64);
        int prev = 0;
        while (ids.Count < tokens || prev != 0)
        {
            double u = rng.NextDouble();
            int next;
            if (u < s) next = rng.NextInt(v);
            else
            {
                u -= s;
                if (u < end[prev]) next = 0;
                else
                {
                    u -= end[prev];
                    int k = 0;
                    while (k < m - 1 && u >= extra[prev * m + k]) u -= extra[prev * m + k++];
                    next = succ[prev * m + k]; // the last successor also absorbs rounding
                }
            }
            ids.Add(next);
            prev = next;
        }
        return [.. ids];
    }

    /// <summary>P[prev, next], the true probability that <paramref name="next"/> follows <paramref name="prev"/>.</summary>
    public double Probability(int prev, int next)
    {
        CheckId(prev, nameof(prev));
        CheckId(next, nameof(next));
        double p = _base + (next == EosId ? _end[prev] : 0);
        for (int k = 0; k < _m; k++) if (_succ[prev * _m + k] == next) return p + _extra[prev * _m + k];
        return p;
    }

    /// <summary>log P[prev, next] (natural log; always finite).</summary>
    public double LogProbability(int prev, int next) => Math.Log(Probability(prev, next));

    /// <summary>The dense transition matrix P [V, V], row-major (row = previous word), in double. Allocates V² doubles.</summary>
    public double[] TransitionProbabilities()
    {
        var p = new double[_v * _v];
        Array.Fill(p, _base);
        for (int i = 0; i < _v; i++)
        {
            p[i * _v + EosId] += _end[i];
            for (int k = 0; k < _m; k++) p[i * _v + _succ[i * _m + k]] += _extra[i * _m + k];
        }
        return p;
    }

    /// <summary>
    /// The true log-probability matrix log P [V, V], row-major, in double: the ground truth for a rank analysis
    /// (<see cref="Analysis.NumericalRank"/>) of a model's log-probabilities. Allocates V² doubles.
    /// </summary>
    public double[] TransitionLogProbs()
    {
        var p = TransitionProbabilities();
        for (int n = 0; n < p.Length; n++) p[n] = Math.Log(p[n]);
        return p;
    }

    /// <summary>
    /// The true model's mean loss (−mean log P[prev, next], nats/token) on a token stream that starts at a sentence
    /// start, as every split does: the empirical optimum on that stream, which tends to <see cref="EntropyRate"/>.
    /// </summary>
    public double TrueModelLoss(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty) throw new ArgumentException("synthetic corpus: the token stream is empty", nameof(tokens));
        double sum = 0;
        int prev = EosId;
        foreach (int t in tokens)
        {
            sum -= LogProbability(prev, t);
            prev = t;
        }
        return sum / tokens.Length;
    }

    /// <summary>
    /// Writes the splits as <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c> in the PTB format: one sentence per
    /// line, tokens separated by single spaces, <c>&lt;eos&gt;</c> not written (the reader appends it at each line end).
    /// <see cref="TextCorpus"/> reads them back to the same vocabulary and ids. Creates the directory if needed.
    /// </summary>
    public void WriteTo(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        foreach (var (name, split) in (ReadOnlySpan<(string, int[])>)[("train.txt", Train), ("valid.txt", Valid), ("test.txt", Test)])
        {
            using var writer = new StreamWriter(Path.Combine(directory, name), append: false, new UTF8Encoding(false)) { NewLine = "\n" };
            var line = new StringBuilder();
            foreach (int t in split)
            {
                if (t == EosId)
                {
                    writer.WriteLine(line);
                    line.Clear();
                }
                else (line.Length > 0 ? line.Append(' ') : line).Append(Vocabulary[t]);
            }
            if (line.Length > 0) writer.WriteLine(line); // unreachable for generated splits, which end with <eos>
        }
    }

    private void CheckId(int id, string name)
    {
        if (id < 0 || id >= _v)
            throw new ArgumentOutOfRangeException(name, id, $"synthetic corpus: {name} id {id} is outside [0, {_v})");
    }

    private double RowEntropy(int i)
    {
        // −Σ_j P_ij log P_ij over the V − 1 − m columns that hold only the base, then <eos> and the m successors.
        double b = _base, h = -(_v - 1 - _m) * b * Math.Log(b);
        double pe = b + _end[i];
        h -= pe * Math.Log(pe);
        for (int k = 0; k < _m; k++)
        {
            double p = b + _extra[i * _m + k];
            h -= p * Math.Log(p);
        }
        return h;
    }

    // Power iteration π ← πP on the sparse structure (O(V·m) per step) until the L1 change is below 1e-14. The
    // uniform component makes P a contraction with factor at most 1 − s, and a random sparse chain mixes far faster.
    private double[] StationaryDistribution()
    {
        var pi = new double[_v];
        var next = new double[_v];
        Array.Fill(pi, 1.0 / _v);
        for (int iter = 0; iter < 1_000_000; iter++)
        {
            Array.Fill(next, _base); // Σ_i π_i · s/V, with Σ π = 1
            for (int i = 0; i < _v; i++)
            {
                double w = pi[i];
                next[EosId] += w * _end[i];
                for (int k = 0; k < _m; k++) next[_succ[i * _m + k]] += w * _extra[i * _m + k];
            }
            double total = 0, change = 0;
            foreach (double x in next) total += x;
            for (int j = 0; j < _v; j++)
            {
                next[j] /= total; // keeps Σ π = 1 against rounding drift
                change += Math.Abs(next[j] - pi[j]);
            }
            (pi, next) = (next, pi);
            if (change < 1e-14) return pi;
        }
        throw new InvalidOperationException("synthetic corpus: the stationary distribution did not converge");
    }
}
