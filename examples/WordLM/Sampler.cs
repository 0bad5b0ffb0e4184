using TinyGrad;
using TinyGrad.Data;
using TinyGrad.NN;

namespace WordLM;

/// <summary>
/// Ancestral sampling from a WordLM: feed a context, then draw one word at a time from softmax(log p / T) and feed
/// it back, carrying the LSTM state. Deterministic for a given model, context, temperature and seed.
/// </summary>
public static class Sampler
{
    /// <summary>
    /// The ids of a prompt's words. A word missing from the vocabulary becomes <c>&lt;unk&gt;</c> when the vocabulary
    /// has it; otherwise it is an error naming the word. An empty or null prompt gives no ids.
    /// </summary>
    /// <exception cref="ArgumentException">A word is unknown and the vocabulary has no <c>&lt;unk&gt;</c>.</exception>
    public static int[] PromptIds(string? prompt, Vocabulary vocab)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        if (string.IsNullOrWhiteSpace(prompt)) return [];
        bool hasUnk = vocab.TryGetId(Vocabulary.Unk, out int unk);
        var ids = new List<int>();
        foreach (var word in prompt.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (vocab.TryGetId(word, out int id)) ids.Add(id);
            else if (hasUnk) ids.Add(unk);
            else throw new ArgumentException($"generate: the prompt word '{word}' is not in the checkpoint's vocabulary, which has no '{Vocabulary.Unk}'");
        }
        return [.. ids];
    }

    /// <summary>
    /// Samples <paramref name="words"/> ids after <paramref name="context"/> (at least one id: the model needs an
    /// input before it predicts anything). Runs in evaluation mode under no-grad and restores the model's mode.
    /// </summary>
    /// <param name="model">The language model.</param>
    /// <param name="context">The ids fed first; their own predictions are not sampled.</param>
    /// <param name="words">How many ids to sample.</param>
    /// <param name="temperature">T &gt; 0: below 1 sharpens the distribution, above 1 flattens it.</param>
    /// <param name="generator">The random source of the draws.</param>
    public static int[] Sample(TinyGrad.Models.WordLM model, int[] context, int words, float temperature, Generator generator) =>
        [.. Draws(model, context, words, temperature, generator)];

    /// <summary>
    /// The draws of <see cref="Sample"/>, one at a time as they are made (the same ids for the same arguments), so
    /// a caller can print each before the next is drawn. The arguments are checked at once; the model is in
    /// evaluation mode, under no-grad, while the sequence is enumerated, and gets its mode back when it ends.
    /// </summary>
    public static IEnumerable<int> Draws(TinyGrad.Models.WordLM model, int[] context, int words, float temperature, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(generator);
        if (context.Length == 0) throw new ArgumentException("generate: the context is empty; the model needs at least one word to start from");
        if (words <= 0) throw new ArgumentException($"generate: --words {words} must be positive");
        if (!(temperature > 0) || !float.IsFinite(temperature)) throw new ArgumentException($"generate: --temperature {temperature} must be a finite number > 0");
        return Iterate(model, context, words, temperature, generator);
    }

    private static IEnumerable<int> Iterate(TinyGrad.Models.WordLM model, int[] context, int words, float temperature, Generator generator)
    {
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            var (hidden, state, _, _) = model.Forward(context, context.Length, 1, null);
            var last = hidden.Narrow(0, context.Length - 1, 1); // only the last position predicts the first new word
            var weights = new double[model.Config.VocabSize];
            for (int n = 0; n < words; n++)
            {
                int id = Draw(model.LogProbs(last).ToArray(), temperature, weights, generator);
                yield return id;
                if (n + 1 == words) break; // no need to run the model on the last word
                LstmState[] next;
                (last, next, _, _) = model.Forward([id], 1, 1, state);
                state = next;
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    /// <summary>
    /// The words as text: separated by spaces, <c>&lt;eos&gt;</c> as a line break, and a final line break if the
    /// text does not already end with one (what <see cref="WordWriter"/> writes).
    /// </summary>
    public static string Format(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        using var text = new StringWriter();
        var writer = new WordWriter(text);
        foreach (var w in words) writer.Write(w);
        writer.Finish();
        return text.ToString();
    }

    // One draw from softmax(logp / T), computed in double with the maximum subtracted so that a small T cannot
    // overflow exp; inverse-CDF on one uniform from the seeded generator.
    private static int Draw(float[] logp, float temperature, double[] weights, Generator generator)
    {
        double max = double.NegativeInfinity;
        for (int j = 0; j < logp.Length; j++) max = Math.Max(max, logp[j] / (double)temperature);
        double total = 0;
        for (int j = 0; j < logp.Length; j++) total += weights[j] = Math.Exp(logp[j] / (double)temperature - max);
        double u = generator.NextDouble() * total, cumulative = 0;
        for (int j = 0; j < logp.Length; j++)
        {
            cumulative += weights[j];
            if (u < cumulative) return j;
        }
        // Rounding can leave u at the very top of the sum: take the last word with any weight.
        for (int j = logp.Length - 1; j >= 0; j--) if (weights[j] > 0) return j;
        throw new ArgumentException("generate: the model's log-probabilities are not finite; is the checkpoint corrupt?");
    }
}
