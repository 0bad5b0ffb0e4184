using TinyGrad.Backends;

namespace TinyGrad;

// One LSTM layer over a whole window as a single tape node: one GEMM for the input projections of all
// T steps, then per step one recurrent GEMM and one fused cell kernel. The backward walks time in
// reverse the same way and finishes with one GEMM per weight over all steps.
public sealed partial class Tensor
{
    /// <summary>
    /// Runs one LSTM layer (PyTorch's gate order i, f, g, o) over x [T, B, I] from state (h0, c0) [B, H]
    /// with weights W_ih [4H, I], W_hh [4H, H] and optional biases [4H]. Returns the outputs [T, B, H] and
    /// the final state (h_T, c_T). Differentiable in every argument.
    /// </summary>
    /// <remarks>
    /// Forward, per step t: G = x_t·W_ihᵀ + b_ih + b_hh + h_{t−1}·W_hhᵀ; i, f, o = σ(G_i, G_f, G_o); g = tanh(G_g);
    /// c_t = f⊙c_{t−1} + i⊙g; h_t = o⊙tanh(c_t).
    /// Backward, t = T−1 … 0: dh_t = dOut_t + (dG_{t+1}·W_hh); the cell kernel turns (dh_t, dc_t) into dG_t and
    /// dc_{t−1}. Then dW_ih = dGᵀ·X, dW_hh = Σ dG_tᵀ·h_{t−1}, db = Σ dG, dX = dG·W_ih, each one GEMM or reduction.
    /// </remarks>
    public static (Tensor Output, Tensor H, Tensor C) LstmLayer(Tensor x, Tensor h0, Tensor c0,
        Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(h0);
        ArgumentNullException.ThrowIfNull(c0);
        ArgumentNullException.ThrowIfNull(weightIh);
        ArgumentNullException.ThrowIfNull(weightHh);
        if (x.Rank != 3 || weightIh.Rank != 2 || weightHh.Rank != 2)
            throw new ArgumentException($"lstm: input {Shapes.Format(x._shape)} must be [T, B, I] and weights 2-D, got W_ih {Shapes.Format(weightIh._shape)}, W_hh {Shapes.Format(weightHh._shape)}");
        int steps = x._shape[0], batch = x._shape[1], inputSize = x._shape[2];
        int h4 = weightHh._shape[0], hidden = h4 / 4;
        string Shapes_() => $"input {Shapes.Format(x._shape)}, h0 {Shapes.Format(h0._shape)}, c0 {Shapes.Format(c0._shape)}, W_ih {Shapes.Format(weightIh._shape)}, W_hh {Shapes.Format(weightHh._shape)}";
        if (h4 % 4 != 0 || h4 == 0 || !Shapes.Equal(weightHh._shape, [h4, hidden]) || !Shapes.Equal(weightIh._shape, [h4, inputSize]))
            throw new ArgumentException($"lstm: weights do not fit: {Shapes_()} (expected W_ih [4H, {inputSize}] and W_hh [4H, H])");
        if (!Shapes.Equal(h0._shape, [batch, hidden]) || !Shapes.Equal(c0._shape, [batch, hidden]))
            throw new ArgumentException($"lstm: state does not fit: {Shapes_()} (expected h0 and c0 [{batch}, {hidden}])");
        if ((biasIh is null) != (biasHh is null) || biasIh is not null && (!Shapes.Equal(biasIh._shape, [h4]) || !Shapes.Equal(biasHh!._shape, [h4])))
            throw new ArgumentException($"lstm: biases must both be [{h4}] or both absent, got {Shapes.Format(biasIh?._shape ?? [])} and {Shapes.Format(biasHh?._shape ?? [])}");
        if (steps == 0 || batch == 0)
            throw new ArgumentException($"lstm: empty input {Shapes.Format(x._shape)}");
        foreach (var t in new[] { h0, c0, weightIh, weightHh, biasIh, biasHh }) if (t is not null) SameDevice("lstm", x, t);

        var be = x.Backend;
        int rows = steps * batch, bh = batch * hidden, bg = batch * h4;
        // Input projections of all steps at once: gates [T·B, 4H] = X·W_ihᵀ (+ both biases).
        var gates = Uninitialized([steps, batch, h4], be); // every buffer below is overwritten whole (GEMM β = 0, kernels, copies)
        var X = MatrixView.RowMajor(x.Storage, rows, inputSize);
        var Wih = MatrixView.RowMajor(weightIh.Storage, h4, inputSize);
        var Whh = MatrixView.RowMajor(weightHh.Storage, h4, hidden);
        var G = MatrixView.RowMajor(gates.Storage, rows, h4); // step t is rows [t·B, t·B + B)
        be.Gemm(1f, X, Wih.T, 0f, G);
        if (biasIh is not null)
        {
            var bias = Empty([h4], be);
            be.Binary(BinaryOp.Add, biasIh.Storage, [1], biasHh!.Storage, [1], bias.Storage, [h4]);
            be.Binary(BinaryOp.Add, gates.Storage, [h4, 1], bias.Storage, [0, 1], gates.Storage, [rows, h4]);
        }
        var output = Uninitialized([steps, batch, hidden], be);
        var cells = Uninitialized([steps, batch, hidden], be);
        for (int t = 0; t < steps; t++)
        {
            // G_t += h_{t−1}·W_hhᵀ, accumulated straight into this step's slice of the gates.
            var hPrev = t == 0 ? MatrixView.RowMajor(h0.Storage, batch, hidden) : MatrixView.RowMajor(output.Storage, batch, hidden, (t - 1) * bh);
            be.Gemm(1f, hPrev, Whh.T, 1f, G.RowsFrom(t * batch, batch));
            var (cPrev, cOff) = t == 0 ? (c0.Storage, 0) : (cells.Storage, (t - 1) * bh);
            be.Lstm().LstmCellForward(gates.Storage, t * bg, cPrev, cOff, cells.Storage, t * bh, output.Storage, t * bh, batch, hidden);
        }
        var hLast = Uninitialized([batch, hidden], be);
        var cLast = Uninitialized([batch, hidden], be);
        be.CopyBlocks(output.Storage, (steps - 1) * bh, bh, hLast.Storage, 0, bh, bh, 1);
        be.CopyBlocks(cells.Storage, (steps - 1) * bh, bh, cLast.Storage, 0, bh, bh, 1);

        Tensor[] inputs = biasIh is null ? [x, h0, c0, weightIh, weightHh] : [x, h0, c0, weightIh, weightHh, biasIh, biasHh!];
        Autograd.RecordMany("lstm", [output, hLast, cLast], inputs, grads =>
        {
            var (dOut, dhLast, dcLast) = (grads[0], grads[1], grads[2]);
            var dh = dhLast?.Clone() ?? Zeros([batch, hidden], x.Device);
            var dc = dcLast?.Clone() ?? Zeros([batch, hidden], x.Device);
            var dhStep = Uninitialized([batch, hidden], be);
            var dGates = Uninitialized([steps, batch, h4], be);
            var dG = MatrixView.RowMajor(dGates.Storage, rows, h4);
            for (int t = steps - 1; t >= 0; t--)
            {
                be.CopyBlocks(dh.Storage, 0, bh, dhStep.Storage, 0, bh, bh, 1);
                if (dOut is not null) be.CopyBlocks(dOut.Storage, t * bh, bh, dhStep.Storage, 0, bh, bh, 1, accumulate: true);
                var (cPrev, cOff) = t == 0 ? (c0.Storage, 0) : (cells.Storage, (t - 1) * bh);
                be.Lstm().LstmCellBackward(gates.Storage, t * bg, cPrev, cOff, cells.Storage, t * bh, dhStep.Storage, 0, dc.Storage,
                    dGates.Storage, t * bg, batch, hidden);
                // dh_{t−1} = dG_t·W_hh (W_hh stored [4H, H], so no transpose).
                be.Gemm(1f, dG.RowsFrom(t * batch, batch), Whh, 0f, MatrixView.RowMajor(dh.Storage, batch, hidden));
            }
            if (x.RequiresGrad)
            {
                var dx = Uninitialized(x._shape, be);
                be.Gemm(1f, dG, Wih, 0f, MatrixView.RowMajor(dx.Storage, rows, inputSize)); // dX = dG·W_ih
                x.AccumulateGrad(new GradientBuffer(dx));
            }
            h0.AccumulateGrad(dh);
            c0.AccumulateGrad(dc);
            if (weightIh.RequiresGrad)
            {
                var dW = Uninitialized(weightIh._shape, be);
                be.Gemm(1f, dG.T, X, 0f, MatrixView.RowMajor(dW.Storage, h4, inputSize)); // dW_ih = dGᵀ·X
                weightIh.AccumulateGrad(new GradientBuffer(dW));
            }
            if (weightHh.RequiresGrad)
            {
                // Σ_t dG_tᵀ·h_{t−1}: steps 1…T−1 read h from the outputs in one GEMM, step 0 reads h0.
                var dW = Uninitialized(weightHh._shape, be);
                var dWhh = MatrixView.RowMajor(dW.Storage, h4, hidden);
                if (steps > 1)
                    be.Gemm(1f, dG.RowsFrom(batch, rows - batch).T, MatrixView.RowMajor(output.Storage, rows - batch, hidden), 0f, dWhh);
                be.Gemm(1f, dG.RowsFrom(0, batch).T, MatrixView.RowMajor(h0.Storage, batch, hidden), steps > 1 ? 1f : 0f, dWhh);
                weightHh.AccumulateGrad(new GradientBuffer(dW));
            }
            if (biasIh is not null && (biasIh.RequiresGrad || biasHh!.RequiresGrad))
            {
                var db = Empty([h4], be);
                be.Reduce(ReduceOp.Sum, dGates.Storage, db.Storage, 1, rows, h4);
                // db is both biases' gradient: hand the buffer over when only one takes it; when both do, each
                // keeps its own copy (one buffer as two gradients would let an in-place add into one change the other).
                if (biasIh.RequiresGrad && biasHh!.RequiresGrad)
                {
                    biasIh.AccumulateGrad(db);
                    biasHh.AccumulateGrad(db);
                }
                else (biasIh.RequiresGrad ? biasIh : biasHh!).AccumulateGrad(new GradientBuffer(db));
            }
        });
        return (output, hLast, cLast);
    }
}
