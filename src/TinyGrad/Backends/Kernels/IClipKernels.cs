namespace TinyGrad.Backends;

/// <summary>
/// Gradient-norm clipping that keeps a training step on the device (an opt-in kernel family): the norm and the
/// clipping factor are computed where the gradients live, so a GPU never waits for the host between steps.
/// <see cref="ReferenceClipKernels"/> is the definition, and what a backend without this family runs.
/// </summary>
/// <remarks>
/// The running Σ g² is a double held in a storage of two floats (elements 0 and 1 are the double's 8 bytes), so the
/// sum over a 6.5M-element embedding gradient keeps its digits on any device.
/// </remarks>
public interface IClipKernels
{
    /// <summary>total (a double in two floats) += Σ x² over the first <paramref name="n"/> elements, summed in double.</summary>
    void AddSumOfSquares(Storage x, int n, Storage total);

    /// <summary>
    /// From Σ g² (a double in two floats): result[0] = the factor to multiply every gradient by, maxNorm / (‖g‖ + 1e−6)
    /// when that is below 1 (and the norm is finite), else 1; result[1] = ‖g‖ (PyTorch's clip_grad_norm_).
    /// </summary>
    void ClipCoefficient(Storage sumOfSquares, float maxNorm, Storage result);
}
