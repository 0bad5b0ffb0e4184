using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// A head with one normaliser over one decoder: z = W·g + b, log p = w − logsumexp(w), with w = z (softmax)
/// or w = z + log σ(z) (sigsoftmax). Parameters <c>decoder.weight</c> [V, d] and <c>decoder.bias</c> [V].
/// </summary>
public abstract class DecoderHead : OutputHead
{
    private readonly Linear _decoder;

    /// <summary>Creates the decoder with PyTorch's default initialisation.</summary>
    protected DecoderHead(HeadKind kind, int inputSize, int vocabSize, Generator generator)
        : base(kind, inputSize, vocabSize)
    {
        _decoder = RegisterModule("decoder", new Linear(inputSize, vocabSize, generator));
    }

    /// <inheritdoc/>
    public override Linear Decoder => _decoder;

    /// <inheritdoc/>
    public override Tensor Nll(Tensor hidden, int[] targets, Reduction reduction = Reduction.Mean)
    {
        string op = $"{KindName}_nll";
        CheckHidden(op, hidden, _decoder);
        return HeadNll.Nll(op, Normalizer, hidden, _decoder.Weight, _decoder.Bias!, targets, reduction);
    }

    /// <inheritdoc/>
    public override Tensor LogProbs(Tensor hidden)
    {
        string op = $"{KindName}_log_probs";
        CheckHidden(op, hidden, _decoder);
        return RunForwardHooks(HeadNll.LogProbs(op, Normalizer, hidden, _decoder.Weight, _decoder.Bias!));
    }

    /// <inheritdoc/>
    public override Tensor LogProbsComposed(Tensor hidden)
    {
        CheckHidden($"{KindName}_log_probs_composed", hidden, _decoder);
        return RunForwardHooks(NormalizeComposed(_decoder.Forward(hidden), Normalizer));
    }
}
