namespace TinyGrad.Backends;

/// <summary>
/// The definition of <see cref="ILstmKernels"/>, one element at a time in double precision on the host (through the
/// core's copies): what a backend without the family runs, and what the fast cells are tested against.
/// </summary>
public sealed class ReferenceLstmKernels(IBackend core) : ILstmKernels
{
    private static double Sigmoid(double x) => NormalizerReference.Sigmoid(x);

    /// <inheritdoc/>
    public void LstmCellForward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset,
        Storage c, int cOffset, Storage h, int hOffset, int batch, int hidden)
    {
        int n = batch * hidden;
        float[] gs = HostCopy.Read(core, gates, gatesOffset, 4 * n), cp = HostCopy.Read(core, cPrev, cPrevOffset, n);
        float[] cs = new float[n], hs = new float[n];
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int a = b * 4 * hidden + j, k = b * hidden + j;
                // PyTorch's gate order: input, forget, cell (g), output.
                float i = (float)Sigmoid(gs[a]), f = (float)Sigmoid(gs[a + hidden]), g = (float)Math.Tanh(gs[a + 2 * hidden]), o = (float)Sigmoid(gs[a + 3 * hidden]);
                (gs[a], gs[a + hidden], gs[a + 2 * hidden], gs[a + 3 * hidden]) = (i, f, g, o); // the activations, for the backward
                cs[k] = (float)((double)f * cp[k] + (double)i * g);  // c = f⊙c_prev + i⊙g
                hs[k] = (float)(o * Math.Tanh(cs[k]));               // h = o⊙tanh(c)
            }
        }
        HostCopy.Write(core, gates, gatesOffset, gs);
        HostCopy.Write(core, c, cOffset, cs);
        HostCopy.Write(core, h, hOffset, hs);
    }

    /// <inheritdoc/>
    public void LstmCellBackward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset, Storage c, int cOffset,
        Storage dh, int dhOffset, Storage dc, Storage dGates, int dGatesOffset, int batch, int hidden)
    {
        int n = batch * hidden;
        float[] gs = HostCopy.Read(core, gates, gatesOffset, 4 * n), cp = HostCopy.Read(core, cPrev, cPrevOffset, n);
        float[] cs = HostCopy.Read(core, c, cOffset, n), dhs = HostCopy.Read(core, dh, dhOffset, n), dcs = HostCopy.Read(core, dc, 0, n);
        var dg = new float[4 * n];
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int a = b * 4 * hidden + j, k = b * hidden + j;
                double i = gs[a], f = gs[a + hidden], g = gs[a + 2 * hidden], o = gs[a + 3 * hidden];
                double tc = Math.Tanh(cs[k]), dhv = dhs[k];
                double dct = dcs[k] + dhv * o * (1 - tc * tc);   // dc_t = dc + dh⊙o⊙(1 − tanh²c)
                dg[a] = (float)(dct * g * i * (1 - i));            // through σ: σ' = σ(1 − σ)
                dg[a + hidden] = (float)(dct * cp[k] * f * (1 - f));
                dg[a + 2 * hidden] = (float)(dct * i * (1 - g * g)); // through tanh: 1 − tanh²
                dg[a + 3 * hidden] = (float)(dhv * tc * o * (1 - o));
                dcs[k] = (float)(dct * f);                          // dc_prev = dc_t⊙f
            }
        }
        HostCopy.Write(core, dGates, dGatesOffset, dg);
        HostCopy.Write(core, dc, 0, dcs);
    }
}
