using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// Mixture of softmaxes (Yang et al., 2018): log p = logsumexp_k(log πₖ + log_softmax(E·hₖ + b)), with the
/// prior π = softmax(W_π·g) and latent contexts hₖ = tanh(W_k·g + b_k). See <see cref="MixtureHead"/>.
/// </summary>
public sealed class MosHead : MixtureHead
{
    /// <summary>Creates the head with <paramref name="experts"/> experts whose contexts have <paramref name="embeddingSize"/> units.</summary>
    public MosHead(int inputSize, int vocabSize, int embeddingSize, int experts, Generator generator)
        : base(HeadKind.Mos, inputSize, vocabSize, embeddingSize, experts, generator)
    {
    }
}
