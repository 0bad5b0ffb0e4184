namespace TinyGrad.Backends;

/// <summary>Elementwise maps y = f(x) (some take a scalar argument <c>s</c>).</summary>
public enum UnaryOp
{
    /// <summary>y = x (a copy).</summary>
    Identity,
    /// <summary>y = −x.</summary>
    Neg,
    /// <summary>y = eˣ.</summary>
    Exp,
    /// <summary>y = ln x.</summary>
    Log,
    /// <summary>y = tanh x.</summary>
    Tanh,
    /// <summary>y = 1 / (1 + e⁻ˣ).</summary>
    Sigmoid,
    /// <summary>y = max(x, 0).</summary>
    Relu,
    /// <summary>y = ln(1 + eˣ), computed as max(x,0) + log1p(e^−|x|) so it never overflows.</summary>
    Softplus,
    /// <summary>y = ln σ(x) = −softplus(−x).</summary>
    LogSigmoid,
    /// <summary>y = √x.</summary>
    Sqrt,
    /// <summary>y = xˢ.</summary>
    Pow,
    /// <summary>y = x + s.</summary>
    AddScalar,
    /// <summary>y = x · s.</summary>
    MulScalar,
    /// <summary>y = x / s.</summary>
    DivScalar,
    /// <summary>y = s − x.</summary>
    RSubScalar,
    /// <summary>y = s / x.</summary>
    RDivScalar,
    /// <summary>y = 1 where x &gt; 0, else 0 (the derivative of relu).</summary>
    Step,
}

/// <summary>Elementwise binary maps with NumPy broadcasting.</summary>
public enum BinaryOp
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a − b.</summary>
    Sub,
    /// <summary>a · b.</summary>
    Mul,
    /// <summary>a / b.</summary>
    Div,
}

/// <summary>Reductions along one axis.</summary>
public enum ReduceOp
{
    /// <summary>Σ x.</summary>
    Sum,
    /// <summary>max x.</summary>
    Max,
    /// <summary>log Σ eˣ, shifted by the maximum so that it never overflows.</summary>
    LogSumExp,
}

/// <summary>
/// The core a device offers: allocation and copies, elementwise maps, reductions along an axis, permute, GEMM,
/// gather and scatter-add. Every op in <c>TinyGrad.Ops</c> runs on these alone, so a new device is one more
/// implementation of this interface, not a fork of the ops.
/// </summary>
/// <remarks>
/// Conventions: storages are flat and row-major; offsets and counts are in elements; shapes are
/// passed as <c>int[]</c>. An axis reduction sees its input as <c>[outer, axis, inner]</c>.
/// Indices (token ids, targets) arrive as host <c>int[]</c>: they come from the data loader, and a
/// device backend uploads them. Kernels never record anything on the tape; that is the ops' job.
/// <para>The fused kernels are opt-in families in their own interfaces (<see cref="IHeadKernels"/>,
/// <see cref="ILstmKernels"/>, <see cref="IOptimizerKernels"/>, <see cref="IClipKernels"/>). A backend that does
/// not implement one runs its reference, written with this core (<see cref="KernelFamilies"/>).</para>
/// <para>To add a backend: implement this interface and a <see cref="Storage"/> subclass, register a
/// <see cref="Device"/> with <see cref="Device.Register"/>, and run the op tests against it; then add families
/// where speed matters, each tested against its reference.</para>
/// </remarks>
public interface IBackend
{
    /// <summary>The device this backend serves.</summary>
    Device Device { get; }

    /// <summary>
    /// True when the storages live in host memory, so that reading a scalar back costs nothing (no device
    /// synchronisation). Ops use it to pass a scalar upstream gradient as a GEMM's alpha instead of scaling
    /// the GEMM's output on the device.
    /// </summary>
    bool IsHost { get; }

    /// <summary>A new zero-filled buffer of <paramref name="length"/> elements.</summary>
    Storage Allocate(int length);

    /// <summary>A new buffer whose contents are undefined (the caller overwrites all of it): no zeroing pass where the device can skip it.</summary>
    Storage AllocateUninitialized(int length);

    /// <summary>A new buffer holding a copy of <paramref name="data"/>.</summary>
    Storage FromHost(ReadOnlySpan<float> data);

    /// <summary>Copies the whole buffer to host memory.</summary>
    void ToHost(Storage src, Span<float> dst);

    /// <summary>Sets every element of <paramref name="dst"/> to <paramref name="value"/>.</summary>
    void Fill(Storage dst, float value);

    /// <summary>
    /// Copies <paramref name="blocks"/> contiguous blocks of <paramref name="blockLength"/> elements;
    /// block i starts at srcOffset + i·srcStride and lands at dstOffset + i·dstStride.
    /// With <paramref name="accumulate"/> the block is added to the destination instead.
    /// This one kernel serves narrow, split, concat and stack, and their backwards. Destination blocks must not
    /// overlap (a backend may copy them in any order or in parallel); source blocks may (a stride of 0 broadcasts).
    /// </summary>
    void CopyBlocks(Storage src, int srcOffset, int srcStride, Storage dst, int dstOffset, int dstStride,
        int blockLength, int blocks, bool accumulate = false);

    /// <summary>y[i] = op(x[i], s) for i &lt; n. <paramref name="x"/> and <paramref name="y"/> may be the same storage.</summary>
    void Unary(UnaryOp op, Storage x, Storage y, int n, float s = 0f);

    /// <summary>
    /// y = op(a, b) with broadcasting: y has shape <paramref name="shape"/>; element y[i₀..iᵣ] reads
    /// a at Σ iₖ·aStrides[k] and b at Σ iₖ·bStrides[k] (a stride of 0 broadcasts that axis).
    /// </summary>
    void Binary(BinaryOp op, Storage a, int[] aStrides, Storage b, int[] bStrides, Storage y, int[] shape);

    /// <summary>Reduces x viewed as [outer, axis, inner] over the middle axis into y [outer, inner].</summary>
    void Reduce(ReduceOp op, Storage x, Storage y, int outer, int axis, int inner);

    /// <summary>
    /// The backward of a max reduction: for each (outer, inner) slot, adds gy to gx at the first position
    /// along the axis where x equals the maximum y (PyTorch routes the gradient to one index too).
    /// </summary>
    void MaxBackward(Storage x, Storage y, Storage gy, Storage gx, int outer, int axis, int inner);

    /// <summary>y = x with its axes permuted: y.shape[k] = shape[perm[k]].</summary>
    void Permute(Storage x, int[] shape, int[] perm, Storage y);

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C (cuBLAS's sgemm, row-major), for <paramref name="batchCount"/> matrices at the
    /// views' batch strides. The views carry storage, offset, sizes, leading dimension and transpose
    /// (<see cref="MatrixView.ProductShape"/> checks that they chain). With beta = 0, C's old contents are never read.
    /// </summary>
    void Gemm(float alpha, MatrixView a, MatrixView b, float beta, MatrixView c, int batchCount = 1);

    /// <summary>y[i, :] = table[indices[i], :] for rows of <paramref name="rowLength"/> elements.</summary>
    void IndexSelectRows(Storage table, int rowLength, int[] indices, Storage y);

    /// <summary>gTable[indices[i], :] += gy[i, :] (scatter-add; repeated indices add up).</summary>
    void IndexAddRows(Storage gy, int rowLength, int[] indices, Storage gTable);

    /// <summary>y[r] = x[r, indices[r]] for <paramref name="rows"/> rows of <paramref name="cols"/> columns.</summary>
    void GatherColumns(Storage x, int rows, int cols, int[] indices, Storage y);

    /// <summary>gx[r, indices[r]] += gy[r].</summary>
    void ScatterAddColumns(Storage gy, int rows, int cols, int[] indices, Storage gx);
}
