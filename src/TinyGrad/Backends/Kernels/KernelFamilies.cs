using System.Runtime.CompilerServices;

namespace TinyGrad.Backends;

/// <summary>
/// How the ops reach a kernel family: the backend's own fused kernels when it implements the family, otherwise the
/// family's reference, written with the core (one per backend, made on first use). So a new backend runs every
/// op with the core alone, and gains speed family by family.
/// </summary>
public static class KernelFamilies
{
    private static readonly ConditionalWeakTable<IBackend, ReferenceHeadKernels> s_heads = [];
    private static readonly ConditionalWeakTable<IBackend, ReferenceLstmKernels> s_lstm = [];
    private static readonly ConditionalWeakTable<IBackend, ReferenceOptimizerKernels> s_optimizer = [];
    private static readonly ConditionalWeakTable<IBackend, ReferenceClipKernels> s_clip = [];

    /// <summary>The output heads' row kernels of <paramref name="backend"/>.</summary>
    public static IHeadKernels Heads(this IBackend backend) =>
        backend as IHeadKernels ?? s_heads.GetValue(backend, b => new ReferenceHeadKernels(b));

    /// <summary>The LSTM cell kernels of <paramref name="backend"/>.</summary>
    public static ILstmKernels Lstm(this IBackend backend) =>
        backend as ILstmKernels ?? s_lstm.GetValue(backend, b => new ReferenceLstmKernels(b));

    /// <summary>The optimizers' update kernels of <paramref name="backend"/>.</summary>
    public static IOptimizerKernels Optimizer(this IBackend backend) =>
        backend as IOptimizerKernels ?? s_optimizer.GetValue(backend, b => new ReferenceOptimizerKernels(b));

    /// <summary>The gradient-clipping kernels of <paramref name="backend"/>.</summary>
    public static IClipKernels Clip(this IBackend backend) =>
        backend as IClipKernels ?? s_clip.GetValue(backend, b => new ReferenceClipKernels(b));
}
