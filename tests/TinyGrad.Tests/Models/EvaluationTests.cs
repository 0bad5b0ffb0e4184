namespace TinyGrad.Tests.Models;

using TinyGrad;
using TinyGrad.Data;
using TinyGrad.Models;
using TinyGrad.NN.Heads;

// The reference's evaluation protocol: parallel streams, bptt windows with the state carried, mean NLL over every
// predicted token; run without a tape and without dropout, leaving the model's mode as it was.
public class EvaluationTests
{
    /// <summary>The protocol written out directly: one window over the whole layout, composed log-probabilities.</summary>
    private static double DirectLoss(WordLM model, int[] tokens, int batch)
    {
        var layout = new Batches(tokens, batch);
        var (inputs, targets, steps) = layout.Window(0, layout.Rows);
        model.Eval();
        using var _ = Autograd.NoGrad();
        var logp = model.Head.LogProbsComposed(model.Forward(inputs, steps, batch).Hidden).ToArray();
        double total = 0;
        for (int i = 0; i < targets.Length; i++) total -= logp[i * model.Config.VocabSize + targets[i]];
        return total / targets.Length;
    }

    [Theory]
    [InlineData(HeadKind.Softmax)]
    [InlineData(HeadKind.Sigsoftmax)]
    [InlineData(HeadKind.Mos)]
    [InlineData(HeadKind.Moss)]
    public void Windows_with_carried_state_score_the_same_as_one_pass_over_the_streams(HeadKind head)
    {
        var model = WordLMCheckpointTests.Randomized(WordLMTests.Tiny(head), 4);
        var tokens = WordLMTests.RandomTokens(103, 30, 5); // 103 = 4·25 + 3: the last 3 tokens are cut
        var result = Evaluation.Evaluate(model, tokens, batchSize: 4, bptt: 7); // 24 targets per stream: 3 windows of 7, one of 3
        Assert.Equal(24 * 4, result.Tokens);
        Assert.Equal(DirectLoss(model, tokens, 4), result.Loss, 5);
        Assert.Equal(Math.Exp(result.Loss), result.Perplexity);
    }

    [Fact]
    public void The_stream_layout_is_the_references_column_per_stream()
    {
        // Two streams of 3: column 0 = tokens 0..2, column 1 = tokens 3..5; token 6 is cut.
        var layout = new Batches([10, 11, 12, 13, 14, 15, 16], 2);
        var (inputs, targets, steps) = layout.Window(0, 35);
        Assert.Equal(2, steps);
        Assert.Equal([10, 13, 11, 14], inputs);
        Assert.Equal([11, 14, 12, 15], targets);
    }

    [Fact]
    public void Evaluation_records_nothing_ignores_dropout_and_restores_the_mode()
    {
        var model = WordLMCheckpointTests.Randomized(WordLMTests.Tiny(HeadKind.Moss), 6);
        var tokens = WordLMTests.RandomTokens(80, 30, 7);
        var clean = Evaluation.Evaluate(model, tokens, 4, 5);
        model.Dropout = 0.5f;
        model.DropoutH = 0.5f;
        model.DropoutI = 0.5f;
        model.DropoutE = 0.5f;
        model.WeightDrop = 0.5f;
        Assert.True(model.Training);
        int before = Autograd.TapeLength; // the tape is per thread: other tests may have left nodes on it
        Assert.Equal(clean, Evaluation.Evaluate(model, tokens, 4, 5));
        Assert.Equal(before, Autograd.TapeLength);
        Assert.True(model.Training);
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
        model.Eval();
        Evaluation.Evaluate(model, tokens, 4, 5);
        Assert.False(model.Training);
    }

    [Fact]
    public void Too_short_a_stream_is_a_clear_error()
    {
        var model = new WordLM(WordLMTests.Tiny(HeadKind.Softmax), new Generator(0));
        var e = Assert.Throws<CorpusException>(() => Evaluation.Evaluate(model, [1, 2, 3], batchSize: 2));
        Assert.Contains("3 tokens are too few for batch size 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Evaluation.Evaluate(model, new int[10], 2, bptt: 0));
    }
}
