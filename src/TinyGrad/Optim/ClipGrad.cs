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
        foreach (var g in grads) total += g.Backend.SumOfSquares(g.Storage);
        double norm = Math.Sqrt(total);
        if (!double.IsFinite(norm)) return (float)norm;
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1)
        {
            foreach (var g in grads) g.Backend.Unary(Backends.UnaryOp.MulScalar, g.Storage, g.Storage, g.Numel, (float)coef);
        }
        return (float)norm;
    }
}
