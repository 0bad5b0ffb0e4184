using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// The softmax output layer: log p = z − logsumexp(z), z = W·g + b. Its log-probability matrix over many
/// contexts has rank at most d + 2 (the softmax bottleneck): z has rank ≤ d + 1 with the bias, and the
/// normaliser subtracts one more rank-one term.
/// </summary>
public sealed class SoftmaxHead : DecoderHead
{
    /// <summary>Creates the head: decoder [<paramref name="vocabSize"/>, <paramref name="inputSize"/>] with a bias.</summary>
    public SoftmaxHead(int inputSize, int vocabSize, Generator generator)
        : base(HeadKind.Softmax, inputSize, vocabSize, generator)
    {
    }
}
