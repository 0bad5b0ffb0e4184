namespace TinyGrad.Training;

/// <summary>
/// When a training run has diverged: its loss is no longer a usable number. The same rule on every CPU path.
/// </summary>
/// <remarks>
/// <para>A loss or gradient norm that is NaN or ±∞ has diverged. So has a finite loss far past the loss of a
/// uniform guess, ln V: above <c>3·ln V + 10</c> nats the model gives its targets, on average, less than
/// e⁻¹⁰·V⁻³ of the probability — over 20,000·V³ times less than knowing nothing would. Healthy training never
/// comes near that: it starts at about ln V (or below it, with the unigram bias), and a bad step that it
/// recovers from stays within a few nats of it. The bound stays far below the ~709 nats where the perplexity
/// e^loss overflows a double.</para>
/// <para>Why finite losses count: once an update overflows the weights, whether the float32 GEMMs make ±∞ or NaN
/// of the products depends on the order of summation (an FMA keeps (−1e60) + ∞ = ∞ where a rounded product
/// makes ∞ − ∞ = NaN), so one CPU path saw NaN and another saw a loss of 2e31. Both runs have diverged, and
/// this rule says so on both.</para>
/// </remarks>
public static class Divergence
{
    /// <summary>The largest mean loss (nats per token) a run over <paramref name="vocabSize"/> words may report.</summary>
    public static double Bound(int vocabSize) => 3 * Math.Log(Math.Max(2, vocabSize)) + 10;

    /// <summary>Why the loss (and gradient norm, if given) show a diverged run, or null when they are usable.</summary>
    public static string? Check(double loss, int vocabSize, double gradientNorm = 0)
    {
        if (double.IsNaN(loss) || double.IsInfinity(loss)) return $"loss {loss}";
        if (double.IsNaN(gradientNorm) || double.IsInfinity(gradientNorm)) return $"gradient norm {gradientNorm}";
        if (loss > Bound(vocabSize))
            return $"loss {loss:G4} is past {Bound(vocabSize):F1} nats = 3·ln V + 10 for V = {vocabSize}, far worse than a uniform guess ({Math.Log(Math.Max(2, vocabSize)):F2})";
        return null;
    }
}
