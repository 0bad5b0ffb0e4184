namespace TinyGrad;

// Integer indexing: row lookup (the embedding) and a per-row column pick (the target log-probability).
// Both backwards are scatter-adds, so repeated indices add their gradients up.
public sealed partial class Tensor
{
    private static void CheckIndices(string op, int[] indices, int limit, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(indices);
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)limit)
                throw new ArgumentOutOfRangeException(nameof(indices), $"{op}: index {indices[i]} at position {i} is out of range [0, {limit}) for shape {Shapes.Format(shape)}");
        }
    }

    /// <summary>
    /// Rows of this tensor along axis 0: result[i] = this[indices[i]], shape [indices.Length, ...rest].
    /// Backward scatter-adds into only the rows that were looked up.
    /// </summary>
    public Tensor IndexSelect(int[] indices)
    {
        if (Rank == 0) throw new ArgumentException("index_select: needs a tensor of rank ≥ 1, got a scalar (shape [])");
        CheckIndices("index_select", indices, _shape[0], _shape);
        int rowLength = Numel / Math.Max(1, _shape[0]);
        int[] shape = [indices.Length, .. _shape[1..]];
        if (Shapes.Numel(shape) > 0 && shape.Length > Shapes.MaxRank) Shapes.Validate(shape, "index_select");
        var y = Empty(shape, Backend);
        var ids = (int[])indices.Clone(); // the caller may reuse its buffer before backward
        Backend.IndexSelectRows(Storage, rowLength, ids, y.Storage);
        return Autograd.Record("index_select", y, [this], gy =>
            AccumulateGradInPlace(g => Backend.IndexAddRows(gy.Storage, rowLength, ids, g)));
    }

    /// <summary>
    /// One element per row along the last axis: result[..] = this[.., indices[row]], with the last axis
    /// dropped (PyTorch's gather(-1, index.unsqueeze(-1)).squeeze(-1)).
    /// </summary>
    public Tensor Gather(int[] indices)
    {
        if (Rank == 0) throw new ArgumentException("gather: needs a tensor of rank ≥ 1, got a scalar (shape [])");
        int cols = _shape[^1], rows = Numel / Math.Max(1, cols);
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Length != rows)
            throw new ArgumentException($"gather: {indices.Length} indices for {rows} rows of shape {Shapes.Format(_shape)}");
        CheckIndices("gather", indices, cols, _shape);
        var y = Empty(_shape[..^1], Backend);
        var ids = (int[])indices.Clone();
        Backend.GatherColumns(Storage, rows, cols, ids, y.Storage);
        return Autograd.Record("gather", y, [this], gy =>
        {
            var gx = Zeros(_shape, Device);
            Backend.ScatterAddColumns(gy.Storage, rows, cols, ids, gx.Storage);
            AccumulateGrad(gx);
        });
    }
}
