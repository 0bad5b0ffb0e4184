namespace TinyGrad.NN;

/// <summary>AWD-LSTM's activation regularisers, as loss terms to add to the training loss.</summary>
public static class Regularization
{
    /// <summary>AR: α · mean(h²) over the (dropped-out) last-layer outputs [T, B, H]; keeps activations small.</summary>
    public static Tensor ActivationRegularization(Tensor output, float alpha)
    {
        ArgumentNullException.ThrowIfNull(output);
        return (output * output).Mean() * alpha;
    }

    /// <summary>TAR: β · mean((h_t − h_{t−1})²) over the raw last-layer outputs [T, B, H]; keeps them slow-changing.</summary>
    public static Tensor TemporalActivationRegularization(Tensor output, float beta)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.Rank != 3 || output.Size(0) < 2)
            throw new ArgumentException($"TAR: output shape {Shapes.Format(output.ShapeRef)} must be [T ≥ 2, B, H]");
        int steps = output.Size(0);
        var diff = output.Narrow(0, 1, steps - 1) - output.Narrow(0, 0, steps - 1);
        return (diff * diff).Mean() * beta;
    }
}
