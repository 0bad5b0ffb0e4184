namespace TinyGrad.Backends;

/// <summary>
/// A matrix inside a storage, as a GEMM reads or writes it: <see cref="Rows"/> × <see cref="Cols"/> stored row-major
/// from <see cref="Offset"/>, each row <see cref="Ld"/> elements after the previous (the leading dimension), used
/// transposed in a product when <see cref="Transposed"/>. No data is copied: a transpose, a block of rows or a batch
/// stride is a different view of the same storage.
/// </summary>
/// <param name="Storage">The storage holding the elements.</param>
/// <param name="Offset">The element where row 0 starts.</param>
/// <param name="Rows">Stored rows.</param>
/// <param name="Cols">Stored columns.</param>
/// <param name="Ld">Elements from one row to the next (≥ <paramref name="Cols"/>).</param>
/// <param name="Transposed">Use the transpose of the stored matrix in a product.</param>
/// <param name="BatchStride">Elements from one matrix of a strided batch to the next (0 for a single matrix).</param>
public readonly record struct MatrixView(Storage Storage, int Offset, int Rows, int Cols, int Ld, bool Transposed = false, long BatchStride = 0)
{
    /// <summary>A contiguous row-major [<paramref name="rows"/>, <paramref name="cols"/>] matrix starting at <paramref name="offset"/>.</summary>
    public static MatrixView RowMajor(Storage storage, int rows, int cols, int offset = 0) => new(storage, offset, rows, cols, cols);

    /// <summary>The same stored matrix, read as its transpose in a product (no copy).</summary>
    public MatrixView T => this with { Transposed = !Transposed };

    /// <summary>Rows of the matrix as the product sees it (after the transpose, if any).</summary>
    public int OpRows => Transposed ? Cols : Rows;

    /// <summary>Columns of the matrix as the product sees it (after the transpose, if any).</summary>
    public int OpCols => Transposed ? Rows : Cols;

    /// <summary>The stored rows [<paramref name="first"/>, first + <paramref name="count"/>) of this matrix.</summary>
    public MatrixView RowsFrom(int first, int count) => this with { Offset = Offset + first * Ld, Rows = count };

    /// <summary>
    /// Checks C = op(A)·op(B) and returns its sizes (m, n, k): op(A) is [m, k], op(B) [k, n], C [m, n] and not transposed.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not chain; the message gives all three.</exception>
    public static (int M, int N, int K) ProductShape(MatrixView a, MatrixView b, MatrixView c)
    {
        if (a.OpCols != b.OpRows || c.Rows != a.OpRows || c.Cols != b.OpCols || c.Transposed)
            throw new ArgumentException($"gemm: op(A) [{a.OpRows}, {a.OpCols}] · op(B) [{b.OpRows}, {b.OpCols}] does not give C [{c.Rows}, {c.Cols}]{(c.Transposed ? " (C cannot be transposed)" : "")}");
        return (a.OpRows, b.OpCols, a.OpCols);
    }
}
