namespace TinyGrad.Backends;

/// <summary>
/// The fused LSTM cell, an opt-in kernel family. The recurrent matrix products go through the core's Gemm; these two
/// kernels do everything elementwise of one time step, so a step is one GEMM plus one pass over the gates.
/// <see cref="ReferenceLstmKernels"/> is the definition, and what a backend without this family runs.
/// </summary>
public interface ILstmKernels
{
    /// <summary>
    /// One LSTM step for <paramref name="batch"/> rows. <paramref name="gates"/> holds, from gatesOffset, the
    /// pre-activations [batch, 4·hidden] in PyTorch's order (i, f, g, o); they are overwritten with the
    /// activations (σ(i), σ(f), tanh(g), σ(o)) for the backward. Then c = f⊙c_prev + i⊙g and h = o⊙tanh(c).
    /// </summary>
    void LstmCellForward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset,
        Storage c, int cOffset, Storage h, int hOffset, int batch, int hidden);

    /// <summary>
    /// Backward of one step, from the saved activations and cells. Reads dh (gradient reaching h_t from the
    /// output and the next step) and dc (gradient reaching c_t from the next step, updated in place to the
    /// gradient of c_prev); writes the pre-activation gradients dGates [batch, 4·hidden]:
    /// dc_t = dc + dh⊙o⊙(1 − tanh²c); dᵢ = dc_t⊙g⊙i(1−i); d_f = dc_t⊙c_prev⊙f(1−f); d_g = dc_t⊙i⊙(1−g²);
    /// d_o = dh⊙tanh(c)⊙o(1−o); dc_prev = dc_t⊙f.
    /// </summary>
    void LstmCellBackward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset, Storage c, int cOffset,
        Storage dh, int dhOffset, Storage dc, Storage dGates, int dGatesOffset, int batch, int hidden);
}
