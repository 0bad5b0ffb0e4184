using TinyGrad.Backends;

namespace TinyGrad.NN.Heads;

/// <summary>
/// The sigsoftmax output layer (Kanai et al., 2018): pᵢ = e^(zᵢ)·σ(zᵢ) / Σⱼ e^(zⱼ)·σ(zⱼ), z = W·g + b, computed in
/// log space as log p = w − logsumexp(w) with w = z + log σ(z) and log σ(z) = −softplus(−z). The nonlinear
/// log σ term lifts the d + 2 rank bound of the softmax at no extra parameters.
/// </summary>
/// <remarks>Gradient of the NLL of target y: ∂L/∂zⱼ = (pⱼ − [j = y])·(2 − σ(zⱼ)).</remarks>
public sealed class SigsoftmaxHead : DecoderHead
{
    /// <summary>Creates the head: decoder [<paramref name="vocabSize"/>, <paramref name="inputSize"/>] with a bias.</summary>
    public SigsoftmaxHead(int inputSize, int vocabSize, Generator generator)
        : base(HeadKind.Sigsoftmax, inputSize, vocabSize, generator)
    {
    }
}
