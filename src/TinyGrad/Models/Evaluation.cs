using TinyGrad.Data;
using TinyGrad.NN;

namespace TinyGrad.Models;

/// <summary>The result of scoring a token stream: mean NLL per predicted token (nats), its exp, and how many tokens were predicted.</summary>
/// <param name="Loss">Mean negative log-likelihood over every predicted token.</param>
/// <param name="Perplexity">exp(<paramref name="Loss"/>).</param>
/// <param name="Tokens">Predicted tokens: (n − 1)·B for n rows of B streams.</param>
public readonly record struct EvaluationResult(double Loss, double Perplexity, long Tokens);

/// <summary>
/// The reference's evaluation protocol (wordlm_reference.py, evaluate), so perplexities agree with PyTorch:
/// the stream is cut to a multiple of the batch size and laid out as B parallel streams; windows of bptt
/// steps are scored in order with the LSTM state carried (detached) across windows, starting at zero; the loss
/// is the mean NLL over every predicted token and the perplexity its exp.
/// </summary>
public static class Evaluation
{
    /// <summary>Scores <paramref name="tokens"/> (e.g. <see cref="TextCorpus.Tokenize"/> of a split) with <paramref name="model"/>.</summary>
    public static EvaluationResult Evaluate(WordLM model, int[] tokens, int batchSize = 10, int bptt = 35) =>
        Evaluate(model, new Batches(tokens, batchSize), bptt);

    /// <summary>
    /// Scores an already laid-out stream. Runs under <see cref="Autograd.NoGrad"/> in eval mode (no dropout) and
    /// restores the model's previous mode afterwards, so a training loop can call it between epochs.
    /// </summary>
    /// <remarks>
    /// Each window uses the head's fused NLL with <see cref="Reduction.Sum"/>: no [T·B, V] log-probability
    /// matrix is built, and with no gradient to record the mixture heads skip their in-forward gradient too.
    /// Window sums are added in double, as the reference adds Python floats.
    /// </remarks>
    public static EvaluationResult Evaluate(WordLM model, Batches batches, int bptt = 35)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        if (bptt <= 0) throw new ArgumentOutOfRangeException(nameof(bptt), $"evaluate: bptt {bptt} must be positive");
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            double total = 0;
            long count = 0;
            LstmState[]? state = null;
            foreach (int start in batches.Starts(bptt))
            {
                var (inputs, targets, steps) = batches.Window(start, bptt);
                var (hidden, next, _, _) = model.Forward(inputs, steps, batches.BatchSize, state);
                total += model.Nll(hidden, targets, Reduction.Sum).Item();
                count += targets.Length;
                state = next; // nothing was recorded, so there is no history to cut
            }
            double loss = total / count;
            return new EvaluationResult(loss, Math.Exp(loss), count);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }
}
