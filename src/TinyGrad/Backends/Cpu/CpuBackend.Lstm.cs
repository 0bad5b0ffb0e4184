using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
        int lanes = Vector256<float>.Count;
        ForBatchRows(batch, hidden, b =>
        {
            int a = gatesOffset + b * h4, cb = cOffset + b * hidden, pb = cPrevOffset + b * hidden, hb = hOffset + b * hidden;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                // One pass per row: the four activations (saved in place for the backward), the cell and the output.
                ref float g0 = ref gs[0];
                for (; j <= hidden - lanes; j += lanes)
                {
                    var i = CpuMath.Sigmoid(Vector256.LoadUnsafe(ref g0, (nuint)(a + j)));
                    var f = CpuMath.Sigmoid(Vector256.LoadUnsafe(ref g0, (nuint)(a + hidden + j)));
                    var g = CpuMath.Tanh(Vector256.LoadUnsafe(ref g0, (nuint)(a + 2 * hidden + j)));
                    var o = CpuMath.Sigmoid(Vector256.LoadUnsafe(ref g0, (nuint)(a + 3 * hidden + j)));
                    i.StoreUnsafe(ref g0, (nuint)(a + j));
                    f.StoreUnsafe(ref g0, (nuint)(a + hidden + j));
                    g.StoreUnsafe(ref g0, (nuint)(a + 2 * hidden + j));
                    o.StoreUnsafe(ref g0, (nuint)(a + 3 * hidden + j));
                    var cell = f * Vector256.Create(cp.AsSpan(pb + j, lanes)) + i * g; // f⊙c_prev + i⊙g
                    cell.CopyTo(cs.AsSpan(cb + j, lanes));
                    (o * CpuMath.Tanh(cell)).CopyTo(hs.AsSpan(hb + j, lanes));          // o⊙tanh(c)
                }
            }
            for (; j < hidden; j++)
            {
                float i = Sigmoid(gs[a + j]), f = Sigmoid(gs[a + hidden + j]), g = MathF.Tanh(gs[a + 2 * hidden + j]), o = Sigmoid(gs[a + 3 * hidden + j]);
                gs[a + j] = i;
                gs[a + hidden + j] = f;
                gs[a + 2 * hidden + j] = g;
                gs[a + 3 * hidden + j] = o;
                cs[cb + j] = f * cp[pb + j] + i * g;
                hs[hb + j] = o * MathF.Tanh(cs[cb + j]);
            }
        });
    }

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <inheritdoc/>
    public void LstmCellBackward(Storage gates, int gatesOffset, Storage cPrev, int cPrevOffset, Storage c, int cOffset,
        Storage dh, int dhOffset, Storage dc, Storage dGates, int dGatesOffset, int batch, int hidden)
    {
        using var profile = Diagnostics.Profiler.Begin(Diagnostics.Phase.LstmCell);
        float[] gs = Data(gates), cp = Data(cPrev), cs = Data(c), dhs = Data(dh), dcs = Data(dc), dgs = Data(dGates);
        int h4 = 4 * hidden;
        ForBatchRows(batch, hidden, b =>
        {
            Span<float> tanhC = hidden <= 1024 ? stackalloc float[hidden] : new float[hidden];
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
                var tc = new Vector<float>(tanhC.Slice(j));
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
        });
    }
}
