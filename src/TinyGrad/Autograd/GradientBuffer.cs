namespace TinyGrad;

/// <summary>
/// A freshly computed gradient that nothing else references, handed to exactly one tensor's
/// <see cref="Tensor.AccumulateGrad(GradientBuffer)"/>. A leaf without a gradient keeps the buffer itself instead of a
/// copy (the big weight gradients of the LSTM and the decoder), and later uses add into it in place (a tied weight's
/// second use). Giving one buffer to two tensors would let an in-place add into one change the other, so a second
/// hand-over throws: the rule is the type's, not a comment's.
/// </summary>
internal sealed class GradientBuffer(Tensor gradient)
{
    private Tensor? _gradient = gradient;

    /// <summary>The buffer, once; a second call is a bug in the backward that called it.</summary>
    public Tensor Take() => Interlocked.Exchange(ref _gradient, null)
        ?? throw new InvalidOperationException("backward: a gradient buffer was handed to a second tensor; pass the tensor (copied) to all but one");
}
