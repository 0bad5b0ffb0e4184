namespace TinyGrad.Backends.Cuda;

// The head kernel family (IHeadKernels) in heads.cu, with the conventions and log-space formulas of
// CpuBackend.Heads.cs; its definition is NormalizerReference (Ops/Sigsoftmax.cs).
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void HeadLogNormalize(Normalizer kind, Storage z, Storage y, Storage stats, int firstRow, int rows, int cols)
    {
        Enter();
        Launch(KernelNames.HeadLogNormalize, RowGrid(rows), (int)kind, P(z), P(y), P(stats), firstRow, rows, cols);
    }

    /// <inheritdoc/>
    public void HeadLogNormalizeBackward(Normalizer kind, Storage z, Storage stats, Storage gy, Storage dz, int firstRow, int rows, int cols)
    {
        Enter();
        Launch(KernelNames.HeadLogNormalizeBackward, RowGrid(rows), (int)kind, P(z), P(stats), P(gy), P(dz), firstRow, rows, cols);
    }

    /// <inheritdoc/>
    public void HeadNll(Normalizer kind, Storage z, int[] targets, Storage loss, Storage stats, int firstRow, int rows, int cols)
    {
        using var t = Upload(targets);
        HeadNll(kind, z, t.Pointer, loss, stats, firstRow, rows, cols);
    }

    private void HeadNll(Normalizer kind, Storage z, ulong targets, Storage loss, Storage stats, int firstRow, int rows, int cols) =>
        Launch(KernelNames.HeadNll, RowGrid(rows), (int)kind, P(z), targets, P(loss), P(stats), firstRow, rows, cols);

    /// <inheritdoc/>
    public void HeadNllBackward(Normalizer kind, Storage z, int[] targets, Storage stats, Storage rowGrad, Storage dz, int firstRow, int rows, int cols)
    {
        using var t = Upload(targets);
        HeadNllBackward(kind, z, t.Pointer, stats, rowGrad, dz, firstRow, rows, cols);
    }

    private void HeadNllBackward(Normalizer kind, Storage z, ulong targets, Storage stats, Storage rowGrad, Storage dz, int firstRow, int rows, int cols) =>
        Launch(KernelNames.HeadNllBackward, RowGrid(rows), (int)kind, P(z), targets, P(stats), P(rowGrad), P(dz), firstRow, rows, cols);

    /// <inheritdoc/>
    /// <remarks>
    /// No fused kernel on CUDA yet: this composes the unfused ones, chosen here rather than inherited. The bias is
    /// broadcast into z, the NLL and its backward run with the targets uploaded once, and the bias gradient is the
    /// column sum of dz. Every scratch buffer is overwritten whole, so none is zero-filled.
    /// </remarks>
    public void HeadNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage loss, float scale, Storage dBias, int rows, int cols)
    {
        Enter();
        using var t = Upload(targets);
        CopyBlocks(bias, 0, 0, z, 0, cols, cols, rows, accumulate: true);
        var stats = AllocateUninitialized(2 * rows);
        HeadNll(kind, z, t.Pointer, loss, stats, 0, rows, cols);
        var rowGrad = AllocateUninitialized(rows);
        Fill(rowGrad, scale);
        HeadNllBackward(kind, z, t.Pointer, stats, rowGrad, z, 0, rows, cols);
        Reduce(ReduceOp.Sum, z, dBias, 1, rows, cols);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Composed from the unfused kernels, as <see cref="HeadNllWithGradient"/> is: every expert row's NLL, the
    /// posterior over experts, the NLL backward with the posterior as row weights, then the bias gradient added in.
    /// </remarks>
    public void MixtureNllWithGradient(Normalizer kind, Storage z, Storage bias, int[] targets, Storage logPrior, Storage loss,
        Storage weights, float scale, Storage dBias, int firstRow, int rows, int experts, int cols)
    {
        Enter();
        int n = loss.Length, end = (firstRow + rows) * experts;
        var rowTargets = new int[end]; // one target per (position, expert) row: every expert predicts the same word
        for (int i = firstRow * experts; i < end; i++) rowTargets[i] = targets[i / experts];
        using var t = Upload(rowTargets);
        CopyBlocks(bias, 0, 0, z, 0, cols, cols, rows * experts, accumulate: true);
        var compLoss = AllocateUninitialized(n * experts);
        var stats = AllocateUninitialized(2 * n * experts);
        HeadNll(kind, z, t.Pointer, compLoss, stats, firstRow * experts, rows * experts, cols);
        MixturePosterior(logPrior, compLoss, loss, weights, scale, firstRow, rows, experts);
        HeadNllBackward(kind, z, t.Pointer, stats, weights, z, firstRow * experts, rows * experts, cols);
        var sum = AllocateUninitialized(cols);
        Reduce(ReduceOp.Sum, z, sum, 1, rows * experts, cols);
        CopyBlocks(sum, 0, cols, dBias, 0, cols, cols, 1, accumulate: true);
    }

    /// <inheritdoc/>
    public void MixturePosterior(Storage logPrior, Storage compLoss, Storage nll, Storage weights, float scale, int firstRow, int rows, int experts)
    {
        Enter();
        Launch(KernelNames.MixturePosterior, Grid(rows), P(logPrior), P(compLoss), P(nll), P(weights), scale, firstRow, rows, experts);
    }

    /// <inheritdoc/>
    public void MixtureLogSumExp(Storage comp, Storage logPrior, Storage y, int firstRow, int rows, int experts, int cols)
    {
        Enter();
        Launch(KernelNames.MixtureLogSumExp, Grid((long)rows * cols), P(comp), P(logPrior), P(y), firstRow, rows, experts, cols);
    }

    /// <inheritdoc/>
    public void MixtureLogSumExpBackward(Storage comp, Storage logPrior, Storage y, Storage gy, Storage dComp, Storage dLogPrior,
        int firstRow, int rows, int experts, int cols)
    {
        Enter();
        Launch(KernelNames.MixtureLogSumExpBackward, RowGrid((long)rows * experts), P(comp), P(logPrior), P(y), P(gy), P(dComp), P(dLogPrior),
            firstRow, rows, experts, cols);
    }
}
