using System.Diagnostics;
using System.Globalization;
using TinyGrad;
using TinyGrad.Analysis;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;

namespace WordLM;

/// <summary>
/// The rank of a model's log-probability matrix over the first contexts of a token stream, beside the softmax bound.
/// </summary>
/// <param name="Rank">The numerical rank, its threshold and the spectrum.</param>
/// <param name="Bound">d + 2 for the head's input size d (for a mixture, E + 2 for its decoder's input size E).</param>
/// <param name="BoundNote">What the bound means for this head, for printing.</param>
/// <param name="Contexts">Rows of the matrix: predicted positions actually analysed.</param>
/// <param name="Vocab">Columns: the vocabulary size V.</param>
/// <param name="Seconds">Time for the forward passes, the matrix and the SVD.</param>
public sealed record LogProbRankResult(RankResult Rank, int Bound, string BoundNote, int Contexts, int Vocab, double Seconds)
{
    /// <summary>The <c>rank --metrics-json</c> object of the command-line contract.</summary>
    public Dictionary<string, object> ToJsonObject() => new()
    {
        ["rank"] = Rank.Rank,
        ["bound"] = Bound,
        ["contexts"] = Contexts,
        ["vocab"] = Vocab,
    };

    /// <summary>The figures as <c>rank</c> prints them (and <c>compare</c> after each head).</summary>
    public IEnumerable<string> Lines()
    {
        var c = CultureInfo.InvariantCulture;
        yield return string.Create(c, $"contexts {Contexts:N0} | vocab {Vocab:N0}");
        yield return string.Create(c, $"rank of log P {Rank.Rank:N0} | bound {BoundNote}");
        yield return $"  {Rank}";
        yield return string.Create(c, $"time {Seconds:F1} s");
    }
}

/// <summary>The model's log-probability matrix has NaN or infinite entries, so it has no meaningful rank.</summary>
public sealed class RankUndefinedException(string message) : Exception(message);

/// <summary>
/// The paper's measurement: run the model over a test stream, stack log P(· | context) for the first N contexts
/// into an N × V matrix, and count its singular values above the float32-aware threshold
/// (<see cref="NumericalRank.Of(ReadOnlySpan{double}, int, int, double?, double)"/>).
/// </summary>
/// <remarks>
/// The stream is read as one stream (batch 1) so that context i is simply the i-th predicted position, in bptt
/// windows with the state carried: the same contexts whatever the batch size of training. A softmax head over
/// d-dimensional states gives log P = H Wᵀ + 1 bᵀ − lse·1ᵀ, of rank at most d + 2; sigsoftmax and the mixtures
/// are not bounded that way, which is the point of the comparison.
/// </remarks>
public static class LogProbRank
{
    /// <summary>The paper's default number of contexts.</summary>
    public const int DefaultContexts = 2000;

    private const int Bptt = 35, Chunk = 256; // rows per LogProbs call: [256, V] at a time, not [N, V] in float32 too

    /// <summary>
    /// The rank over the first min(<paramref name="contexts"/>, tokens − 1) predicted positions of
    /// <paramref name="tokens"/>. Runs in evaluation mode under no-grad and restores the model's mode.
    /// </summary>
    /// <exception cref="RankUndefinedException">Some log-probability is NaN or infinite.</exception>
    public static LogProbRankResult Compute(TinyGrad.Models.WordLM model, int[] tokens, int contexts = DefaultContexts)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        if (contexts <= 0) throw new ArgumentException($"rank: --contexts {contexts} must be positive");
        if (tokens.Length < 2) throw new CorpusException($"rank: the test split has {tokens.Length} token(s); at least 2 are needed for one context");
        var clock = Stopwatch.StartNew();
        int n = Math.Min(contexts, tokens.Length - 1), d = model.Config.NHidLast, v = model.Config.VocabSize;
        var hidden = new float[(long)n * d];
        var matrix = new double[(long)n * v];
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            // Only the first n positions matter, so run just the n inputs that predict them.
            var batches = new Batches(tokens[..(n + 1)], 1, "test split");
            LstmState[]? state = null;
            foreach (int start in batches.Starts(Bptt))
            {
                var (inputs, _, steps) = batches.Window(start, Bptt);
                var (h, next, _, _) = model.Forward(inputs, steps, 1, state);
                h.ToArray().CopyTo(hidden, (long)start * d);
                state = next;
            }
            for (int row = 0; row < n; row += Chunk)
            {
                int rows = Math.Min(Chunk, n - row);
                var logp = model.LogProbs(Tensor.FromArray(hidden[(row * d)..((row + rows) * d)], [rows, d], null)).ToArray();
                for (int i = 0; i < logp.Length; i++) matrix[(long)row * v + i] = logp[i];
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        int bad = 0, first = -1;
        for (int i = 0; i < matrix.Length; i++)
        {
            if (double.IsFinite(matrix[i])) continue;
            if (bad++ == 0) first = i;
        }
        if (bad > 0)
        {
            // An SVD of such a matrix fails or means nothing; say what happened instead.
            throw new RankUndefinedException($"rank: {bad:N0} of the {n:N0} × {v:N0} log-probabilities are not finite (the first at context {first / v}, word id {first % v}); " +
                                             "the model's probabilities overflow or underflow float32 (did training blow up?), so the rank is undefined");
        }
        var rank = NumericalRank.Of(matrix, n, v);
        var (bound, note) = Bound(model.Config);
        return new LogProbRankResult(rank, bound, note, n, v, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// d + 2 for softmax and sigsoftmax (d = nhidlast, the head's input size). A mixture has no such bound; it gets the
    /// bound a single softmax over its decoder's input size E would have, E + 2, and the note says so.
    /// </summary>
    public static (int Bound, string Note) Bound(WordLMConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.IsMixture)
        {
            int e = config.EmSize;
            return (e + 2, $"E + 2 = {e + 2} (E = {e}, the decoder's input size: the bound of a single softmax that wide; {HeadKinds.Name(config.Head)} is a mixture, not limited by it)");
        }
        int d = config.NHidLast;
        return (d + 2, $"d + 2 = {d + 2} (d = {d}, the head's input size; a softmax head cannot exceed it{(config.Head == HeadKind.Softmax ? "" : ", sigsoftmax can")})");
    }
}
