using System.Runtime.InteropServices;
using TinyGrad.Backends;

namespace TinyGrad.Optim;

/// <summary>Gradient clipping (PyTorch's torch.nn.utils.clip_grad_norm_).</summary>
public static class ClipGrad
{
    /// <summary>
    /// Scales all gradients together so that their joint L2 norm is at most <paramref name="maxNorm"/>
    /// (by maxNorm / (norm + 1e−6), as PyTorch does) and returns the norm before clipping. The norm is
    /// accumulated in double. A non-finite norm is returned as is and the gradients are left untouched,
    /// so a trainer can stop on it.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"clip_grad_norm: max norm {maxNorm} must be > 0");
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        double total = 0;
        foreach (var g in grads)
        {
            // Each tensor's Σ g² in double through the clip family, read back: the host decides.
            var sum = Tensor.Zeros([2], g.Device);
            g.Backend.Clip().AddSumOfSquares(g.Storage, g.Numel, sum.Storage);
            total += MemoryMarshal.Cast<float, double>(sum.ToArray().AsSpan())[0];
        }
        double norm = Math.Sqrt(total);
        if (!double.IsFinite(norm)) return (float)norm;
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1)
        {
            foreach (var g in grads) g.Backend.Unary(Backends.UnaryOp.MulScalar, g.Storage, g.Storage, g.Numel, (float)coef);
        }
        return (float)norm;
    }

    /// <summary>
    /// <see cref="ClipGradNorm"/> without a trip to the host: the norm and the factor are computed and applied on the
    /// gradients' device, so a GPU training step does not wait for the GPU here. Returns the norm before clipping as a
    /// rank-0 tensor on that device (read it when convenient, e.g. every log interval). A non-finite norm leaves the
    /// gradients untouched, as ClipGradNorm does; the returned norm shows it.
    /// </summary>
    public static Tensor ClipGradNormOnDevice(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"clip_grad_norm: max norm {maxNorm} must be > 0");
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return Tensor.Scalar(0f);
        foreach (var g in grads) Tensor.SameDevice("clip_grad_norm", grads[0], g);
        var backend = grads[0].Backend;
        var total = Tensor.Zeros([2], grads[0].Device); // one double: Σ g², accumulated in double
        foreach (var g in grads) backend.Clip().AddSumOfSquares(g.Storage, g.Numel, total.Storage);
        var result = Tensor.Zeros([2], grads[0].Device); // [factor, norm]
        backend.Clip().ClipCoefficient(total.Storage, maxNorm, result.Storage);
        foreach (var g in grads)
        {
            var shape = g.ShapeRef;
            backend.Binary(Backends.BinaryOp.Mul, g.Storage, Shapes.Strides(shape), result.Storage, new int[shape.Length], g.Storage, shape);
        }
        var norm = Tensor.Zeros([], grads[0].Device);
        backend.CopyBlocks(result.Storage, 1, 1, norm.Storage, 0, 1, 1, 1);
        return norm;
    }
}
