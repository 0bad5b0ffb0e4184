using TinyGrad.Data;

namespace TinyGrad.Training;

/// <summary>
/// The three token streams a run trains, validates and tests on, as ids of <paramref name="Vocabulary"/> (which the
/// saved checkpoint carries, and whose words identify the data on resume). Reading files is the caller's business.
/// </summary>
/// <param name="Vocabulary">The words the ids refer to.</param>
/// <param name="Train">The training stream.</param>
/// <param name="Valid">The validation stream (scored after every epoch; the best model is kept by it).</param>
/// <param name="Test">The test stream (scored once, with the best model).</param>
public sealed record TokenSplits(Vocabulary Vocabulary, int[] Train, int[] Valid, int[] Test)
{
    /// <summary>The splits of a built-in synthetic corpus.</summary>
    public static TokenSplits From(SyntheticCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        return new TokenSplits(corpus.Vocabulary, corpus.Train, corpus.Valid, corpus.Test);
    }
}
