namespace TinyGrad.NN;

/// <summary>
/// Inverted dropout: in training, each element is zeroed with probability p and the survivors are scaled
/// by 1/(1 − p), so evaluation (the identity) needs no rescaling.
/// </summary>
public sealed class Dropout : Module
{
    private readonly Generator _generator;

    /// <summary>Creates the layer; masks come from <paramref name="generator"/>.</summary>
    public Dropout(float p, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        P = CheckProbability(p, nameof(Dropout));
        _generator = generator;
    }

    /// <summary>The drop probability.</summary>
    public float P { get; }

    /// <summary>x ⊙ mask in training; x in eval mode.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return RunForwardHooks(!Training || P == 0f ? x : x * Mask(x.ShapeRef, P, _generator, x.Device));
    }

    /// <summary>A mask of the given shape holding 0 (probability p) or 1/(1 − p).</summary>
    internal static Tensor Mask(int[] shape, float p, Generator generator, Backends.Device device)
    {
        var data = new float[Shapes.Numel(shape)];
        float keep = 1f - p, scale = 1f / keep;
        for (int i = 0; i < data.Length; i++) data[i] = generator.NextFloat() < keep ? scale : 0f;
        return Tensor.FromArray(data, shape, device);
    }

    internal static float CheckProbability(float p, string who) =>
        p is >= 0f and < 1f ? p : throw new ArgumentOutOfRangeException(nameof(p), $"{who}: probability {p} must lie in [0, 1)");
}

/// <summary>
/// Locked (variational) dropout for sequences [T, B, H]: one mask per sequence, shared by all time steps,
/// so a unit is dropped for the whole window (Gal and Ghahramani; AWD-LSTM's LockedDropout).
/// </summary>
public sealed class LockedDropout : Module
{
    private readonly Generator _generator;

    /// <summary>Creates the layer; masks come from <paramref name="generator"/>.</summary>
    public LockedDropout(float p, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        P = Dropout.CheckProbability(p, nameof(LockedDropout));
        _generator = generator;
    }

    /// <summary>The drop probability.</summary>
    public float P { get; }

    /// <summary>x ⊙ mask[1, B, H] (broadcast over time) in training; x in eval mode.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3) throw new ArgumentException($"LockedDropout: input shape {Shapes.Format(x.ShapeRef)} must be [T, B, H]");
        return RunForwardHooks(!Training || P == 0f ? x : x * Dropout.Mask([1, x.Size(1), x.Size(2)], P, _generator, x.Device));
    }
}
