namespace TinyGrad.Backends.Cuda;

// The output heads' row kernels (heads.cu), same conventions and log-space formulas as CpuBackend.Heads.cs.
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
        Launch(KernelNames.HeadNll, RowGrid(rows), (int)kind, P(z), t.Pointer, P(loss), P(stats), firstRow, rows, cols);
    }

    /// <inheritdoc/>
    public void HeadNllBackward(Normalizer kind, Storage z, int[] targets, Storage stats, Storage rowGrad, Storage dz, int firstRow, int rows, int cols)
    {
        using var t = Upload(targets);
        Launch(KernelNames.HeadNllBackward, RowGrid(rows), (int)kind, P(z), t.Pointer, P(stats), P(rowGrad), P(dz), firstRow, rows, cols);
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
