using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// Mixture of sigsoftmaxes (Kanai et al., 2018): the mixture of <see cref="MosHead"/> with each expert's
/// softmax replaced by a sigsoftmax, log qₖ = w − logsumexp(w) with w = zₖ + log σ(zₖ). See <see cref="MixtureHead"/>.
/// </summary>
public sealed class MossHead : MixtureHead
{
    /// <summary>Creates the head with <paramref name="experts"/> experts whose contexts have <paramref name="embeddingSize"/> units.</summary>
    public MossHead(int inputSize, int vocabSize, int embeddingSize, int experts, Generator generator)
        : base(HeadKind.Moss, inputSize, vocabSize, embeddingSize, experts, generator)
    {
    }
}
