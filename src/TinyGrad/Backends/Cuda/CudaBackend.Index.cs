namespace TinyGrad.Backends.Cuda;

// Row lookup, column pick and their scatter-adds (index.cu). The host int[] indices are uploaded per call.
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void IndexSelectRows(Storage table, int rowLength, int[] indices, Storage y)
    {
        using var ids = Upload(indices);
        Launch(KernelNames.IndexSelectRows, Grid((long)indices.Length * rowLength), P(table), rowLength, ids.Pointer, indices.Length, P(y));
    }

    /// <inheritdoc/>
    public void IndexAddRows(Storage gy, int rowLength, int[] indices, Storage gTable)
    {
        using var ids = Upload(indices);
        Launch(KernelNames.IndexAddRows, Grid((long)indices.Length * rowLength), P(gy), rowLength, ids.Pointer, indices.Length, P(gTable));
    }

    /// <inheritdoc/>
    public void GatherColumns(Storage x, int rows, int cols, int[] indices, Storage y)
    {
        using var ids = Upload(indices);
        Launch(KernelNames.GatherColumns, Grid(rows), P(x), rows, cols, ids.Pointer, P(y));
    }

    /// <inheritdoc/>
    public void ScatterAddColumns(Storage gy, int rows, int cols, int[] indices, Storage gx)
    {
        using var ids = Upload(indices);
        Launch(KernelNames.ScatterAddColumns, Grid(rows), P(gy), rows, cols, ids.Pointer, P(gx));
    }
}
