using System.Numerics;
using System.Numerics.Tensors;

namespace TinyGrad.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void LstmCellForward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset,
        Storage c, int cOffset, Storage h, int hOffset, int batch, int hidden)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.LstmCell);
        float[] gs = Data(gates), cp = Data(cPrev), cs = Data(c), hs = Data(h);
        int h4 = 4 * hidden;
        for (int b = 0; b < batch; b++)
        {
            var row = gs.AsSpan(gatesOffset + b * h4, h4);
            // Gates are contiguous per row: one SIMD call each for σ over (i, f), tanh over g, σ over o.
            TensorPrimitives.Sigmoid(row[..(2 * hidden)], row[..(2 * hidden)]);
            CpuMath.Tanh(row.Slice(2 * hidden, hidden), row.Slice(2 * hidden, hidden));
            TensorPrimitives.Sigmoid(row.Slice(3 * hidden, hidden), row.Slice(3 * hidden, hidden));
            ReadOnlySpan<float> i = row[..hidden], f = row.Slice(hidden, hidden), g = row.Slice(2 * hidden, hidden), o = row.Slice(3 * hidden, hidden);
            var cRow = cs.AsSpan(cOffset + b * hidden, hidden);
            var hRow = hs.AsSpan(hOffset + b * hidden, hidden);
            TensorPrimitives.Multiply(f, cp.AsSpan(cPrevOffset + b * hidden, hidden), cRow); // f⊙c_prev
            TensorPrimitives.MultiplyAdd(i, g, cRow, cRow);                                   // + i⊙g
            CpuMath.Tanh(cRow, hRow);
            TensorPrimitives.Multiply(hRow, o, hRow);                                         // o⊙tanh(c)
        }
    }

    /// <inheritdoc/>
    public void LstmCellBackward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset, Storage c, int cOffset,
        Storage dh, int dhOffset, Storage dc, Storage dGates, int dGatesOffset, int batch, int hidden)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.LstmCell);
        float[] gs = Data(gates), cp = Data(cPrev), cs = Data(c), dhs = Data(dh), dcs = Data(dc), dgs = Data(dGates);
        int h4 = 4 * hidden;
        var tanhC = new float[hidden];
        for (int b = 0; b < batch; b++)
        {
            int a = gatesOffset + b * h4, d = dGatesOffset + b * h4, r = b * hidden;
            CpuMath.Tanh(cs.AsSpan(cOffset + r, hidden), tanhC);
            var one = Vector<float>.One;
            int j = 0;
            // Vectorised body: the same formulas as the scalar tail below, Vector<float>.Count lanes at a time.
            for (; j <= hidden - Vector<float>.Count; j += Vector<float>.Count)
            {
                var i = new Vector<float>(gs, a + j);
                var f = new Vector<float>(gs, a + hidden + j);
                var g = new Vector<float>(gs, a + 2 * hidden + j);
                var o = new Vector<float>(gs, a + 3 * hidden + j);
                var tc = new Vector<float>(tanhC, j);
                var dhv = new Vector<float>(dhs, dhOffset + r + j);
                var dct = new Vector<float>(dcs, r + j) + dhv * o * (one - tc * tc);
                (dct * g * i * (one - i)).CopyTo(dgs, d + j);
                (dct * new Vector<float>(cp, cPrevOffset + r + j) * f * (one - f)).CopyTo(dgs, d + hidden + j);
                (dct * i * (one - g * g)).CopyTo(dgs, d + 2 * hidden + j);
                (dhv * tc * o * (one - o)).CopyTo(dgs, d + 3 * hidden + j);
                (dct * f).CopyTo(dcs, r + j);
            }
            for (; j < hidden; j++)
            {
                float i = gs[a + j], f = gs[a + hidden + j], g = gs[a + 2 * hidden + j], o = gs[a + 3 * hidden + j];
                float tc = tanhC[j];
                float dhv = dhs[dhOffset + r + j];
                float dct = dcs[r + j] + dhv * o * (1f - tc * tc);
                dgs[d + j] = dct * g * i * (1f - i);
                dgs[d + hidden + j] = dct * cp[cPrevOffset + r + j] * f * (1f - f);
                dgs[d + 2 * hidden + j] = dct * i * (1f - g * g);
                dgs[d + 3 * hidden + j] = dhv * tc * o * (1f - o);
                dcs[r + j] = dct * f;
            }
        }
    }
}
