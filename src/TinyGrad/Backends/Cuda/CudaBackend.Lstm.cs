namespace TinyGrad.Backends.Cuda;

// The fused LSTM cell (lstm.cu).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void LstmCellForward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset,
        Storage c, int cOffset, Storage h, int hOffset, int batch, int hidden)
    {
        Enter();
        Launch(KernelNames.LstmCellForward, Grid((long)batch * hidden), P(gates, gatesOffset), P(cPrev, cPrevOffset), P(c, cOffset), P(h, hOffset),
            batch, hidden);
    }

    /// <inheritdoc/>
    public void LstmCellBackward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset, Storage c, int cOffset,
        Storage dh, int dhOffset, Storage dc, Storage dGates, int dGatesOffset, int batch, int hidden)
    {
        Enter();
        Launch(KernelNames.LstmCellBackward, Grid((long)batch * hidden), P(gates, gatesOffset), P(cPrev, cPrevOffset), P(c, cOffset),
            P(dh, dhOffset), P(dc), P(dGates, dGatesOffset), batch, hidden);
    }
}
